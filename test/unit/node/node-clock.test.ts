import { systemClock, type Clock } from '../../../src/lib/clock';
import { openNode } from '../../../src/node/open-node';
import type { TidemarkNode } from '../../../src/node/tidemark-node';
import { manifestKey } from '../../../src/storage';
import { appendEntries, testNodeSettings } from '../../support/tiering/tiering-node-fixture';
import { removeDir, tempDir } from '../../support/wal/wal-fixtures';

/** openNode hands the clock of its components to every part it builds, the store it makes included. */
describe('the clock of a node', () => {
  const T = Date.parse('2031-02-03T04:05:06Z');
  /** Wall time fixed at T; monotonic time and timers are the machine's, so the node runs as usual. */
  const clock: Clock = { ...systemClock, now: () => T };
  let root: string;
  let node: TidemarkNode;

  beforeEach(async () => {
    root = tempDir('tidemark-node-clock-');
    node = await openNode(testNodeSettings(root), { clock });
  });

  afterEach(async () => {
    await node.close();
    removeDir(root);
  });

  it('stamps manifests, stored objects, jobs and lease grants with its wall time', async () => {
    expect(node.clock).toBe(clock);
    await node.start();
    await appendEntries(node.wal, 1, 50);
    const checkpoint = await node.system.checkpoint({ kind: 'full' });
    expect(checkpoint.createdAt).toBe(new Date(T).toISOString());
    const manifest = await node.store.head(manifestKey(node.settings.storage.prefix, checkpoint.id));
    expect(manifest?.lastModified.getTime()).toBe(T);
    const job = await node.queue.enqueue('retention', {}, { jobId: 'retention.clock' });
    expect(job.createdAt).toBe(T);
    expect(node.tiering.keeper.current()?.expiresAt).toBe(T + node.settings.tiering.lease.ttlMs);
  });
});
