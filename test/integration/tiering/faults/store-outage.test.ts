import * as path from 'node:path';
import { InstrumentedStore, RetryingStore, getBuffer, walNodePrefix } from '../../../../src/storage';
import { S3Store } from '../../../../src/storage/s3';
import { S3rverServer } from '../../../support/s3rver-server';
import { removeDir, tempDir } from '../../../support/wal/wal-fixtures';
import {
  appendEntries,
  eventually,
  openTestNode,
  type TestNode,
} from '../../../support/tiering/tiering-node-fixture';

/**
 * The object store (s3rver, a real S3-protocol server) stopped in the middle of uploads: appends go on,
 * uploads and checkpoints fail and are retried, no local segment is deleted meanwhile — even one a
 * checkpoint covers — and once the store is back every segment and a new checkpoint arrive.
 */
describe('object store outage during uploads (s3rver)', () => {
  const s3rver = new S3rverServer();
  let root: string;
  let node: TestNode | undefined;

  beforeAll(async () => {
    await s3rver.start();
  });

  afterAll(async () => {
    await s3rver.dispose();
  });

  beforeEach(() => {
    root = tempDir('tidemark-store-outage-');
  });

  afterEach(async () => {
    await node?.close();
    node = undefined;
    removeDir(root);
  });

  it('loses nothing and deletes nothing locally while the store is down; everything arrives after', async () => {
    const bucket = await s3rver.createBucket();
    const s3 = new InstrumentedStore(new S3Store(s3rver.storeOptions(bucket)));
    const store = new RetryingStore(s3, { maxAttempts: 3, baseDelayMs: 20, maxDelayMs: 100 });
    // Packs wait for a flush: the checkpoint below covers segments that are not uploaded yet.
    node = await openTestNode(path.join(root, 'node'), store, {
      tiering: { upload: { packTargetBytes: 1 << 30, maxPackDelayMs: 3_600_000 } },
    });
    const { wal, system, tiering } = node;

    for (let batch = 0; batch < 20; batch++) await appendEntries(wal, 1 + batch * 100, 100);
    await system.checkpoint({ kind: 'full' });
    const sealed = tiering.shipper.pending().length;
    expect(sealed).toBeGreaterThan(3);

    await s3rver.stop();
    await tiering.reconciler.reconcile({ flush: true }); // the upload job starts failing and retrying
    for (let batch = 20; batch < 40; batch++) await appendEntries(wal, 1 + batch * 100, 100); // appends go on
    await expect(system.checkpoint({ kind: 'incremental' })).rejects.toMatchObject({
      code: 'STORAGE_UNAVAILABLE',
    });
    await eventually('an upload attempt has failed', async () =>
      (await node!.queue.list()).some(
        (job) => job.error?.code === 'STORAGE_UNAVAILABLE' || job.attemptsMade > 1,
      ),
    );
    // Covered by the checkpoint, but not uploaded: nothing goes.
    expect(await wal.cleanup()).toBe(0);
    expect(wal.stats().deletedSegments).toBe(0);
    expect(node.uploads.list()).toEqual([]);

    await s3rver.start();
    await tiering.reconciler.reconcile({ flush: true });
    await eventually(
      'every sealed segment is uploaded',
      () => tiering.shipper.pending().length === 0,
      60_000,
    );
    const checkpoint = await system.checkpoint({ kind: 'incremental' });
    expect(checkpoint.lsn).toBe(wal.stats().lastLsn);
    await eventually(
      'uploaded and covered segments are deleted',
      () => wal.stats().deletedSegments >= sealed,
    );

    // The store holds every pack, contiguous from LSN 1, each byte-identical to what was recorded.
    const packs = node.uploads.list();
    expect(packs[0]!.firstLsn).toBe(1);
    for (let i = 1; i < packs.length; i++) expect(packs[i]!.firstLsn).toBe(packs[i - 1]!.lastLsn + 1);
    const stored: string[] = [];
    for await (const object of store.list(walNodePrefix('tidemark', 'node-1'))) stored.push(object.key);
    expect(stored).toEqual(packs.map((pack) => pack.key));
    for (const pack of packs) expect((await getBuffer(store, pack.key)).length).toBe(pack.size);
  });
});
