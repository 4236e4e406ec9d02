import { appendFileSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { TidemarkError } from '../../../src/lib/errors';
import { openNode } from '../../../src/node/open-node';
import { MemoryStore } from '../../../src/storage';
import { UPLOADED_SEGMENTS_JOURNAL } from '../../../src/wal/archive/uploaded-segments';
import { testNodeSettings } from '../../support/tiering/tiering-node-fixture';
import { removeDir, tempDir } from '../../support/wal/wal-fixtures';

/** The node's lifecycle: one start, no work after stopWork, a close in order that always closes the WAL. */
describe('TidemarkNode lifecycle', () => {
  let root: string;

  beforeEach(() => {
    root = tempDir('tidemark-node-life-');
  });

  afterEach(() => removeDir(root));

  const open = () => openNode(testNodeSettings(path.join(root, 'node')), { store: new MemoryStore() });

  it('closes in order: queue, lease, no more deletions, uploads record, recovery, checkpoints, WAL', async () => {
    const node = await open();
    await node.start();
    const order: string[] = [];
    const spy = <T extends object>(target: T, method: keyof T & string, name: string) => {
      const original = (target[method] as (...args: unknown[]) => Promise<unknown>).bind(target);
      jest.spyOn(target, method as never).mockImplementation((async (...args: unknown[]) => {
        order.push(name);
        return original(...args);
      }) as never);
    };
    spy(node.queue, 'close', 'queue');
    spy(node.tiering, 'stop', 'lease');
    spy(node.leases, 'close', 'leases');
    spy(node.uploads, 'close', 'uploads');
    spy(node.recovery, 'close', 'recovery');
    spy(node.system, 'stop', 'checkpoint system');
    spy(node.merger, 'close', 'merger');
    spy(node.wal, 'close', 'wal');
    await node.close();
    expect(order).toEqual([
      'queue',
      'lease',
      'leases',
      'uploads',
      'recovery',
      'checkpoint system',
      'merger',
      'wal',
    ]);
    const sealed = {
      name: 'x',
      path: 'x',
      firstLsn: 1,
      lastLsn: 1,
      entryCount: 1,
      sizeBytes: 1,
      sealed: true,
    };
    expect(node.retention.canDelete({ ...sealed, minTimestamp: 0, maxTimestamp: 0 })).toBe(false);
  });

  it('a step that fails does not stop the rest: the WAL closes and the data directory is free again', async () => {
    const node = await open();
    await node.start();
    const merger = jest.spyOn(node.merger, 'close');
    jest.spyOn(node.system, 'stop').mockRejectedValueOnce(new Error('stop failed'));
    await expect(node.close()).rejects.toThrow('stop failed');
    expect(merger).toHaveBeenCalled();
    const again = await open(); // both locks were released
    await again.close();
  });

  it('starts once, and never after its work was stopped', async () => {
    const node = await open();
    await node.start();
    await expect(node.start()).rejects.toBeInstanceOf(TidemarkError);
    node.stopWork();
    await expect(node.start()).rejects.toMatchObject({ code: 'CLOSED' });
    await node.close();
    const closed = await open();
    await closed.close();
    await expect(closed.start()).rejects.toMatchObject({ code: 'CLOSED' });
  });

  it('refuses a second node on the same data directory before reading or repairing anything in it', async () => {
    const node = await open();
    const journal = path.join(root, 'node', UPLOADED_SEGMENTS_JOURNAL);
    appendFileSync(journal, '{"op":"retire","keys":[],"thro'); // a running node's append in flight
    const before = readFileSync(journal);
    const error = await open().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'LOCKED' });
    expect((error as TidemarkError).message).toMatch(
      /data directory .* is already open by process \d+; only one node/,
    );
    expect(readFileSync(journal)).toEqual(before);
    await node.close();
  });
});
