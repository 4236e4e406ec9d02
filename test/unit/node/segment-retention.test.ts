import * as path from 'node:path';
import { LocalFileStore } from '../../../src/storage';
import { KiB, appendBytes, sealedSegments } from '../../support/tiering/tiering-fixtures';
import { openTestNode, type TestNode } from '../../support/tiering/tiering-node-fixture';
import { removeDir, tempDir } from '../../support/wal/wal-fixtures';

/**
 * Invariant 3: the WAL deletes a local segment only when its upload is verified AND a committed checkpoint
 * covers it — one policy, the node's (src/node/segment-retention.ts), which the WAL asks as its canDelete.
 * Uploads here happen only when the test ships (packs never fill or fall due on their own).
 */
describe('the segment retention policy of a node', () => {
  let root: string;
  let node: TestNode;

  beforeEach(async () => {
    root = tempDir('tidemark-retention-');
    node = await openTestNode(
      path.join(root, 'node'),
      new LocalFileStore({ basePath: path.join(root, 'store') }),
      {
        tiering: { upload: { packTargetBytes: 1 << 30, maxPackDelayMs: 3_600_000, reconcileIntervalMs: 0 } },
      },
    );
  });

  afterEach(async () => {
    await node.close();
    removeDir(root);
  });

  const canDelete = (segments: readonly Parameters<TestNode['retention']['canDelete']>[0][]) =>
    segments.map((segment) => node.retention.canDelete(segment));

  it('refuses segments that are uploaded but not covered by a checkpoint', async () => {
    await appendBytes(node.wal, 64 * KiB);
    await node.wal.seal();
    const sealed = sealedSegments(node.wal);
    expect(sealed.length).toBeGreaterThan(2);

    // Neither uploaded nor covered.
    expect(canDelete(sealed)).toEqual(sealed.map(() => false));
    // Uploaded, not covered.
    await node.tiering.shipper.ship({ flush: true });
    expect(node.tiering.shipper.pending()).toEqual([]);
    expect(canDelete(sealed)).toEqual(sealed.map(() => false));
    expect(await node.wal.cleanup()).toBe(0);

    // Uploaded and covered: exactly these go (the node's cleanup after the commit, or this one).
    const deletedBefore = node.wal.stats().deletedSegments;
    await node.system.checkpoint({ kind: 'full' });
    expect(canDelete(sealed)).toEqual(sealed.map(() => true));
    await node.wal.cleanup();
    expect(node.wal.stats().deletedSegments - deletedBefore).toBe(sealed.length);
    expect(sealedSegments(node.wal).filter((s) => sealed.some((o) => o.firstLsn === s.firstLsn))).toEqual([]);
  });

  it('keeps a covered segment until it is uploaded, then lets the WAL delete exactly the covered ones', async () => {
    const next = await appendBytes(node.wal, 48 * KiB);
    await node.wal.seal();
    const covered = sealedSegments(node.wal);
    await node.system.checkpoint({ kind: 'full' });
    await appendBytes(node.wal, 32 * KiB, next);
    await node.wal.seal();
    const uncovered = sealedSegments(node.wal).slice(covered.length);

    // Covered, not uploaded: kept.
    expect(canDelete(covered)).toEqual(covered.map(() => false));
    expect(await node.wal.cleanup()).toBe(0);

    await node.tiering.shipper.ship({ flush: true });
    expect(canDelete(covered)).toEqual(covered.map(() => true));
    expect(canDelete(uncovered)).toEqual(uncovered.map(() => false));
    await node.wal.cleanup();
    expect(sealedSegments(node.wal).map((s) => s.firstLsn)).toEqual(uncovered.map((s) => s.firstLsn));
  });
});
