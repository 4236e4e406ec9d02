import { InProcessJobQueue } from '../../../src/jobs/in-process-job-queue';
import { JobRunner } from '../../../src/jobs/job-runner';
import { LocalLeaseProvider } from '../../../src/tiering/lease';
import { DEFAULT_TIERING_CONFIG } from '../../../src/tiering/tiering-config';
import { TieringNode } from '../../../src/tiering/tiering-node';
import { WalRetentionGuard } from '../../../src/wal';
import {
  KiB,
  NODE_ID,
  PREFIX,
  appendBytes,
  openNode,
  sealedSegments,
  shipperFor,
  type Node,
} from '../tiering-fixtures';

/**
 * Invariant 3: the WAL deletes a local segment only when its upload is verified AND a committed checkpoint
 * covers it. The TieringNode is built (not started: no lease, no timers) for its guard alone.
 */
describe('the WAL retention guard of a tiering node', () => {
  let node: Node;
  let tiering: TieringNode;
  let queue: InProcessJobQueue;
  let leases: LocalLeaseProvider;
  const guard = new WalRetentionGuard();

  beforeEach(async () => {
    node = await openNode({ wal: { canDelete: (segment) => guard.canDelete(segment) } });
    const runner = new JobRunner();
    queue = new InProcessJobQueue(runner);
    leases = new LocalLeaseProvider();
    tiering = new TieringNode(
      { ...node, queue, runner, leases },
      { ...DEFAULT_TIERING_CONFIG, nodeId: NODE_ID, prefix: PREFIX, compactionIntervalMs: 0 },
    );
    guard.set((segment) => tiering.canDeleteSegment(segment));
  });

  afterEach(async () => {
    guard.set(undefined);
    await queue.close();
    await leases.close();
    await node.close();
  });

  it('refuses segments that are uploaded but not covered by a checkpoint', async () => {
    const shipper = shipperFor(node, { packTargetBytes: 32 * KiB });
    await appendBytes(node.wal, 64 * KiB);
    await node.wal.seal();
    const sealed = sealedSegments(node.wal);
    expect(sealed.length).toBeGreaterThan(2);

    // Neither uploaded nor covered.
    for (const segment of sealed) expect(tiering.canDeleteSegment(segment)).toBe(false);
    // Uploaded, not covered.
    await shipper.ship({ flush: true });
    expect(shipper.pending()).toEqual([]);
    for (const segment of sealed) expect(tiering.canDeleteSegment(segment)).toBe(false);
    expect(await node.wal.cleanup()).toBe(0);

    // Uploaded and covered.
    await node.system.checkpoint({ kind: 'full' });
    for (const segment of sealed) expect(tiering.canDeleteSegment(segment)).toBe(true);
    expect(await node.wal.cleanup()).toBe(sealed.length);
  });

  it('keeps a covered segment until it is uploaded, then lets the WAL delete exactly the covered ones', async () => {
    const shipper = shipperFor(node, { packTargetBytes: 32 * KiB });
    const next = await appendBytes(node.wal, 48 * KiB);
    await node.wal.seal();
    const covered = sealedSegments(node.wal);
    await node.system.checkpoint({ kind: 'full' });
    await appendBytes(node.wal, 32 * KiB, next);
    await node.wal.seal();
    const uncovered = sealedSegments(node.wal).slice(covered.length);

    // Covered, not uploaded: kept.
    for (const segment of covered) expect(tiering.canDeleteSegment(segment)).toBe(false);
    expect(await node.wal.cleanup()).toBe(0);

    await shipper.ship({ flush: true });
    for (const segment of covered) expect(tiering.canDeleteSegment(segment)).toBe(true);
    for (const segment of uncovered) expect(tiering.canDeleteSegment(segment)).toBe(false);
    await node.wal.cleanup();
    expect(sealedSegments(node.wal).map((s) => s.firstLsn)).toEqual(uncovered.map((s) => s.firstLsn));
  });
});
