import type { Readable } from 'node:stream';
import { encodeBlock } from '../../../../src/checkpoint/block/block-codec';
import type { ManifestBlockRef } from '../../../../src/checkpoint/manifest/manifest';
import type { DeltaRecord } from '../../../../src/checkpoint/state/state-types';
import {
  fetchBlockParts,
  fetchBlocks,
  untilAborted,
  type BlockFetchOptions,
} from '../../../../src/recovery/block-fetcher';
import { eventually } from '../../../support/eventually';
import { BlockPool } from '../../../../src/recovery/block-pool';
import { MemoryStore, blockKey, type ByteRange } from '../../../../src/storage';
import { PREFIX, TappedStore } from '../../../support/recovery/recovery-fixtures';

/** Every GET takes `delayMs` (the store is the bottleneck); records how many are in flight. */
class PacedStore extends TappedStore {
  calls = 0;
  inFlight = 0;
  maxInFlight = 0;
  /** GETs started before the first one finished: the lanes a fetch starts with. */
  firstWave: number | undefined;

  constructor(
    inner: MemoryStore,
    private readonly delayMs: number,
  ) {
    super(inner);
  }

  override async get(key: string, range?: ByteRange): Promise<Readable> {
    this.calls++;
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      await new Promise((resolve) => setTimeout(resolve, this.delayMs));
      this.firstWave ??= this.calls;
      return await super.get(key, range);
    } finally {
      this.inFlight--;
    }
  }
}

describe('fetchBlocks: prefetch strategies, order, failure and abort', () => {
  const inner = new MemoryStore();
  const refs: ManifestBlockRef[] = [];
  const expected: string[] = [];
  const pool = new BlockPool(1);

  beforeAll(async () => {
    for (let b = 0; b < 12; b++) {
      const records: DeltaRecord[] = [];
      for (let i = 0; i < 30; i++) {
        const key = Buffer.from(`b${String(b).padStart(2, '0')}-k${String(i).padStart(3, '0')}`);
        records.push({
          op: 'put',
          key,
          value: Buffer.alloc(40, b * 31 + i),
          lsn: b * 30 + i + 1,
          timestamp: 1,
        });
        expected.push(key.toString());
      }
      const block = await encodeBlock(records);
      await inner.put(blockKey(PREFIX, block.hash), block.bytes);
      refs.push({
        hash: block.hash,
        recordCount: block.recordCount,
        rawBytes: block.rawBytes,
        storedBytes: block.storedBytes,
      });
    }
  });

  afterAll(() => pool.close());

  const options = (store: TappedStore, rest: Partial<BlockFetchOptions>): BlockFetchOptions => ({
    store,
    prefix: PREFIX,
    pool,
    strategy: 'sequential',
    concurrency: 4,
    signal: new AbortController().signal,
    ...rest,
  });

  it('none: one block at a time; sequential: `concurrency` at once; records in block order', async () => {
    for (const [strategy, most] of [
      ['none', 1],
      ['sequential', 4],
    ] as const) {
      const store = new PacedStore(inner, 5);
      let blocks = 0;
      const records = await fetchBlocks(refs, options(store, { strategy, onBlock: () => blocks++ }));
      expect(records.map((r) => r.key.toString())).toEqual(expected);
      expect(store.maxInFlight).toBe(most);
      expect(blocks).toBe(refs.length);
      expect(store.gets).toHaveLength(refs.length);
    }
  });

  it('adaptive: starts at two lanes, adds lanes while fetching is slower than decoding, up to the limit', async () => {
    const adaptive = { lanes: 2 };
    const first = new PacedStore(inner, 20);
    const records = await fetchBlocks(refs, options(first, { strategy: 'adaptive', adaptive }));
    expect(records.map((r) => r.key.toString())).toEqual(expected);
    expect(first.firstWave).toBe(2);
    expect(adaptive.lanes).toBe(4);
    expect(first.maxInFlight).toBe(4);
    // The next call of the same recovery starts at the depth learned.
    const second = new PacedStore(inner, 20);
    await fetchBlocks(refs, options(second, { strategy: 'adaptive', adaptive }));
    expect(second.firstWave).toBe(4);
    expect(second.maxInFlight).toBe(4);
    // Never more lanes than blocks.
    const one = new PacedStore(inner, 1);
    await fetchBlocks(refs.slice(0, 1), options(one, { strategy: 'adaptive', adaptive }));
    expect(one.maxInFlight).toBe(1);
  });

  it('the first failure stops every lane: no block after it is fetched', async () => {
    const store = new PacedStore(inner, 2);
    const broken = refs.map((ref, i) => (i === 3 ? { ...ref, hash: 'ab'.repeat(32) } : ref));
    await expect(fetchBlocks(broken, options(store, { concurrency: 2 }))).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(store.calls).toBeLessThanOrEqual(5);
  });

  it('an abort rejects at once with its reason, even while a GET hangs', async () => {
    const store = new TappedStore(inner);
    const release = store.holdGets(() => true);
    const controller = new AbortController();
    const fetching = fetchBlocks(refs, options(store, { signal: controller.signal }));
    await new Promise((resolve) => setImmediate(resolve));
    const reason = new Error('stop');
    controller.abort(reason);
    await expect(fetching).rejects.toBe(reason);
    release();
    expect(store.gets).toHaveLength(4);
    // untilAborted: an already aborted signal rejects without waiting; a settled promise passes through.
    await expect(untilAborted(new Promise(() => undefined), controller.signal)).rejects.toBe(reason);
    await expect(untilAborted(Promise.resolve(7), new AbortController().signal)).resolves.toBe(7);
  });

  it('a closed gate holds every lane before its next fetch; parts handed to onPart are not kept', async () => {
    const store = new TappedStore(inner);
    let open: () => void = () => undefined;
    let closed: Promise<void> | undefined = new Promise<void>((resolve) => (open = resolve));
    const arrived: number[] = [];
    const fetching = fetchBlockParts(
      refs,
      options(store, {
        concurrency: 2,
        // Closed once three blocks arrived, until the test opens it.
        gate: () => (arrived.length >= 3 ? closed : undefined),
        onPart: (index) => arrived.push(index),
      }),
    );
    await eventually('three blocks arrived', () => arrived.length >= 3);
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
    // The lanes that were mid-fetch finish; none starts another.
    expect(store.gets.length).toBeLessThanOrEqual(4);
    const held = store.gets.length;
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
    expect(store.gets).toHaveLength(held);
    open();
    closed = undefined;
    const parts = await fetching;
    expect([...arrived].sort((a, b) => a - b)).toEqual(refs.map((_, i) => i));
    expect(parts.every((part) => part === undefined)).toBe(true);
  });
});
