import { crc32c } from '@node-rs/crc32';
import { promises as fs } from 'node:fs';
import { TidemarkError } from '../../../../src/lib/errors';
import { getBuffer, isRetryable, walSegmentKey } from '../../../../src/storage';
import { isUnrecoverable } from '../../../../src/jobs/job-errors';
import { splitPack } from '../../../../src/wal/archive/pack-splitter';
import { planPacks } from '../../../../src/wal/archive/segment-pack';
import { FRAME_HEADER_SIZE, HEADER_SIZE } from '../../../../src/wal/format';
import { ManualClock } from '../../../support/manual-clock';
import {
  HookedStore,
  KiB,
  NODE_ID,
  PREFIX,
  appendBytes,
  eventually,
  flipByte,
  localStore,
  openParts,
  sealedSegments,
  shipperFor,
  totalBytes,
  unavailable,
  type Parts,
} from '../../../support/tiering/tiering-fixtures';

describe('SegmentShipper', () => {
  let node: Parts | undefined;
  afterEach(async () => {
    await node?.close();
    node = undefined;
  });

  /** A node whose store is a HookedStore around a LocalFileStore (then instrumented). */
  async function hookedNode(): Promise<{ node: Parts; hooks: HookedStore }> {
    let hooks: HookedStore | undefined;
    node = await openParts({ store: (dir) => (hooks = new HookedStore(localStore(dir))) });
    return { node, hooks: hooks! };
  }

  it('ships ~1 MiB of 16 KiB segments in verified packs of at least 64 KiB, without a LIST', async () => {
    node = await openParts();
    await appendBytes(node.wal, 1024 * KiB);
    await node.wal.seal();
    const sealed = sealedSegments(node.wal);
    const bytes = totalBytes(sealed);
    expect(sealed.length).toBeGreaterThan(40);
    const shipper = shipperFor(node, { packTargetBytes: 64 * KiB });

    const full = await shipper.ship();
    expect(full.uploaded.length).toBeGreaterThanOrEqual(Math.floor(bytes / (128 * KiB)));
    for (const pack of full.uploaded) expect(pack.bytes).toBeGreaterThanOrEqual(64 * KiB);
    expect(full.waiting).toBe(shipper.pending().length);
    expect(totalBytes(shipper.pending())).toBeLessThan(64 * KiB); // only the partial pack waits

    const rest = await shipper.ship({ flush: true });
    expect(shipper.pending()).toEqual([]);
    expect(rest.waiting).toBe(0);
    const ops = node.store.snapshot().operations;
    expect(ops.PUT.calls).toBe(full.uploaded.length + rest.uploaded.length);
    expect(ops.PUT.calls).toBeLessThanOrEqual(Math.ceil(bytes / (64 * KiB)) + 1);
    expect(ops.PUT.bytes).toBe(bytes);
    expect(ops.LIST.calls).toBe(0);

    // Every sealed segment is in exactly one pack, in log order.
    const packs = node.uploads.list();
    expect(packs.flatMap((p) => p.segments.map((s) => s.firstLsn))).toEqual(sealed.map((s) => s.firstLsn));
    const files = new Map(sealed.map((s) => [s.firstLsn, s.path]));
    for (const pack of packs) {
      expect(pack.key).toBe(walSegmentKey(PREFIX, NODE_ID, pack.firstLsn, pack.lastLsn));
      const body = await getBuffer(node.inner, pack.key);
      const local = await Promise.all(pack.segments.map((s) => fs.readFile(files.get(s.firstLsn)!)));
      expect(body.equals(Buffer.concat(local))).toBe(true);
      expect(pack.size).toBe(body.length);
      expect(pack.crc32c).toBe(crc32c(body));
      for (const [i, segment] of pack.segments.entries()) {
        expect(body.subarray(segment.offset, segment.offset + segment.size).equals(local[i]!)).toBe(true);
      }
      // A pack splits back into its segment files without an index.
      expect(splitPack(body, pack.key).map((s) => s.firstLsn)).toEqual(pack.segments.map((s) => s.firstLsn));
    }
  });

  it('uploads each pack once when runs overlap, and nothing on a run with nothing pending', async () => {
    node = await openParts();
    await appendBytes(node.wal, 300 * KiB);
    await node.wal.seal();
    const shipper = shipperFor(node);
    const [first, second] = await Promise.all([shipper.ship({ flush: true }), shipper.ship({ flush: true })]);
    expect(first.uploaded.length).toBeGreaterThan(1);
    expect(second.uploaded).toEqual([]);
    const puts = node.store.snapshot().operations.PUT.calls;
    expect(puts).toBe(first.uploaded.length);
    expect((await shipper.ship({ flush: true })).uploaded).toEqual([]);
    expect(node.store.snapshot().operations.PUT.calls).toBe(puts);
  });

  it('holds a partial pack back until flushed or until it has waited maxPackDelayMs', async () => {
    node = await openParts();
    const clock = new ManualClock();
    const shipper = shipperFor(node, { packTargetBytes: 1024 * KiB, maxPackDelayMs: 1000, clock });
    const next = await appendBytes(node.wal, 40 * KiB);
    await node.wal.seal();
    const waiting = shipper.pending().length;
    expect(waiting).toBeGreaterThan(1);

    expect(await shipper.ship()).toEqual({ uploaded: [], waiting });
    clock.advance(999);
    expect(await shipper.ship()).toEqual({ uploaded: [], waiting });
    expect(node.store.snapshot().operations.PUT.calls).toBe(0);
    clock.advance(1);
    const due = await shipper.ship();
    expect(due.uploaded).toHaveLength(1);
    expect(due.waiting).toBe(0);
    expect(shipper.pending()).toEqual([]);

    // Newly sealed segments wait afresh; flush ships them at once.
    await appendBytes(node.wal, 20 * KiB, next);
    await node.wal.seal();
    expect((await shipper.ship()).uploaded).toEqual([]);
    expect((await shipper.ship({ flush: true })).uploaded).toHaveLength(1);
    expect(shipper.pending()).toEqual([]);
  });

  it('refuses a local segment whose frames do not match its footer: CHECKSUM_MISMATCH, nothing stored', async () => {
    node = await openParts();
    await appendBytes(node.wal, 40 * KiB);
    await node.wal.seal();
    const victim = sealedSegments(node.wal)[1]!;
    await flipByte(victim.path, HEADER_SIZE + FRAME_HEADER_SIZE + 20);
    const shipper = shipperFor(node, { concurrency: 1 });

    const error = await shipper.ship({ flush: true }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'CHECKSUM_MISMATCH', details: { file: victim.path } });
    expect(isUnrecoverable(error)).toBe(true);
    expect(node.uploads.list()).toEqual([]);
    expect(node.store.snapshot().operations.PUT.calls).toBe(0);
    expect(shipper.pending()).toHaveLength(sealedSegments(node.wal).length);
  });

  it('does not record a pack the store reads back altered, and says so retryably', async () => {
    const { node, hooks } = await hookedNode();
    await appendBytes(node.wal, 40 * KiB);
    await node.wal.seal();
    const shipper = shipperFor(node);
    const pending = shipper.pending();
    hooks.alterGet = (_key, bytes) => {
      const altered = Buffer.from(bytes);
      altered[100] = (altered[100] ?? 0) ^ 1;
      return altered;
    };

    const error = await shipper.ship({ flush: true }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'STORAGE_UNAVAILABLE' });
    expect(isRetryable(error)).toBe(true);
    expect(isUnrecoverable(error)).toBe(false);
    expect(node.uploads.list()).toEqual([]);
    expect(shipper.pending()).toEqual(pending);

    hooks.alterGet = undefined;
    const retried = await shipper.ship({ flush: true });
    expect(retried.uploaded).toHaveLength(1);
    expect(node.uploads.list().map((p) => p.key)).toEqual(retried.uploaded.map((p) => p.key));
  });

  it('records nothing when the store refuses the put, and ships on a later run', async () => {
    const { node, hooks } = await hookedNode();
    await appendBytes(node.wal, 40 * KiB);
    await node.wal.seal();
    const shipper = shipperFor(node);
    hooks.beforePut = () => {
      throw unavailable();
    };
    await expect(shipper.ship({ flush: true })).rejects.toMatchObject({ code: 'STORAGE_UNAVAILABLE' });
    expect(node.uploads.list()).toEqual([]);
    expect(shipper.pending().length).toBeGreaterThan(0);

    hooks.beforePut = undefined;
    const later = await shipper.ship({ flush: true });
    expect(later.uploaded).toHaveLength(1);
    expect(shipper.pending()).toEqual([]);
  });

  it('ends a failed run only when its other uploads have finished, so the next run repeats none', async () => {
    const { node, hooks } = await hookedNode();
    await appendBytes(node.wal, 150 * KiB);
    await node.wal.seal();
    const shipper = shipperFor(node, { concurrency: 2 });
    const packs = planPacks(shipper.pending(), { targetBytes: 64 * KiB, flushPartial: true });
    expect(packs.length).toBeGreaterThanOrEqual(2);
    const keys = packs.map((p) => walSegmentKey(PREFIX, NODE_ID, p[0]!.firstLsn, p.at(-1)!.lastLsn));
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let failedOnce = false;
    let heldOnce = false;
    hooks.beforePut = async (key) => {
      if (key === keys[0] && !failedOnce) {
        failedOnce = true;
        throw unavailable();
      }
      if (key === keys[1] && !heldOnce) {
        heldOnce = true;
        await gate;
      }
    };

    const first = shipper.ship({ flush: true }).catch((e: unknown) => e);
    await eventually('the first pack failed and the second is held', () => failedOnce && heldOnce);
    const second = shipper.ship({ flush: true });
    release();
    expect(await first).toBeInstanceOf(TidemarkError);
    await second;
    expect(shipper.pending()).toEqual([]);
    // The held pack was uploaded by the first run only: the second planned after it was recorded.
    expect(hooks.puts.filter((key) => key === keys[1])).toHaveLength(1);
    expect(hooks.puts.filter((key) => key === keys[0])).toHaveLength(2);
  });
});
