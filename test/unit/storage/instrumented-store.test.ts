import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { loadConfig } from '../../../src/config';
import {
  createBackend,
  getBuffer,
  InstrumentedStore,
  LocalFileStore,
  MemoryStore,
  type StoreMetricsSnapshot,
} from '../../../src/storage';
import { digestOf, failingStream, generatedStream } from '../../support/storage/body-streams';
import { FlakyStore, unavailable } from '../../support/storage/flaky-store';
import { expectStoreError, listKeys } from '../../support/storage/object-store.contract';

const zero = { calls: 0, errors: 0, bytes: 0, objects: 0 };

describe('InstrumentedStore', () => {
  it('counts calls, errors, bytes and objects per operation', async () => {
    const store = new InstrumentedStore(new MemoryStore());
    await store.put('a/1', Buffer.alloc(100));
    await store.put('a/2', Readable.from([Buffer.alloc(30), Buffer.alloc(20)]));
    await expectStoreError(store.put('a/1', Buffer.alloc(5), { ifNoneMatch: '*' }), 'PRECONDITION_FAILED');
    expect((await getBuffer(store, 'a/1', { offset: 10, length: 25 })).length).toBe(25);
    await expectStoreError(store.get('a/none'), 'NOT_FOUND');
    await store.head('a/2');
    expect(await listKeys(store, 'a/')).toEqual(['a/1', 'a/2']);
    await store.delete(['a/1', 'a/none']);

    expect(store.snapshot()).toEqual<StoreMetricsSnapshot>({
      operations: {
        PUT: { calls: 3, errors: 1, bytes: 150, objects: 0 },
        GET: { calls: 2, errors: 1, bytes: 25, objects: 0 },
        HEAD: { calls: 1, errors: 0, bytes: 0, objects: 0 },
        LIST: { calls: 1, errors: 0, bytes: 0, objects: 2 },
        DELETE: { calls: 1, errors: 0, bytes: 0, objects: 2 },
      },
      bytesIn: 150,
      bytesOut: 25,
    });
  });

  it('counts a whole-object read (getBytes) as a GET with its bytes, and a missing one as a failed GET', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tidemark-instrumented-'));
    try {
      const store = new InstrumentedStore(new LocalFileStore({ basePath: dir, syncWrites: false }));
      await store.put('k', Buffer.alloc(77));
      expect((await getBuffer(store, 'k')).length).toBe(77);
      await expectStoreError(store.getBytes('none'), 'NOT_FOUND');
      expect(store.snapshot().operations.GET).toEqual({ calls: 2, errors: 1, bytes: 77, objects: 0 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('counts the bytes a caller actually streams out', async () => {
    const store = new InstrumentedStore(new MemoryStore());
    const size = 3 * 1024 * 1024;
    await store.put('big', generatedStream(size, 9).stream);
    expect((await digestOf(await store.get('big'))).size).toBe(size);
    expect(store.snapshot().bytesOut).toBe(size);
  });

  it("passes the store stream's errors to the caller, and the caller's destroy back", async () => {
    const memory = new MemoryStore();
    let inner: Readable | undefined;
    const store = new InstrumentedStore(
      Object.assign(memory, {
        get: async () => (inner = failingStream(Buffer.from('abc'), new Error('connection reset'))),
      }),
    );
    await expect(digestOf(await store.get('x'))).rejects.toThrow('connection reset');
    expect(store.snapshot().bytesOut).toBe(3);

    const outer = await store.get('y');
    outer.destroy();
    await finished(inner as Readable).catch(() => undefined);
    expect(inner?.destroyed).toBe(true);
  });

  it('counts failed listings', async () => {
    const flaky = new FlakyStore();
    await flaky.inner.put('l/1', Buffer.from('1'));
    flaky.listFailsAfter = 0;
    const store = new InstrumentedStore(flaky);
    await expectStoreError(listKeys(store, 'l/'), 'STORAGE_UNAVAILABLE');
    expect(store.snapshot().operations.LIST).toEqual({ ...zero, calls: 1, errors: 1 });
  });

  it('counts each failed call, retrying none itself', async () => {
    const flaky = new FlakyStore();
    flaky.failures.head.push(unavailable());
    const store = new InstrumentedStore(flaky);
    await expectStoreError(store.head('k'), 'STORAGE_UNAVAILABLE');
    expect(await store.head('k')).toBeUndefined();
    expect(store.snapshot().operations.HEAD).toEqual({ ...zero, calls: 2, errors: 1 });
  });

  it('hands out snapshots that later calls do not change', async () => {
    const store = new InstrumentedStore(new MemoryStore());
    const before = store.snapshot();
    await store.put('k', Buffer.from('v'));
    expect(before.operations.PUT).toEqual(zero);
    expect(store.snapshot().operations.PUT.calls).toBe(1);
  });
});

describe('createBackend', () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'tidemark-backend-'));
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('builds a local directory store from the default configuration', async () => {
    const config = loadConfig({ env: { DATA_DIR: dir } });
    expect(config.storage).toEqual({
      backend: 'LocalFile',
      basePath: path.join(dir, 'store'),
      syncWrites: true,
      prefix: 'tidemark',
    });
    if (config.storage.backend !== 'LocalFile') throw new Error('expected LocalFile');
    const { store, snapshot } = createBackend(config.storage);
    await store.put(`${config.storage.prefix}/k`, Buffer.from('on disk'));
    const direct = new LocalFileStore({ basePath: config.storage.basePath });
    expect((await getBuffer(direct, 'tidemark/k')).toString()).toBe('on disk');
    expect(snapshot().operations.PUT.calls).toBe(1);
  });

  it('builds a memory store', async () => {
    const { store } = createBackend(loadConfig({ env: { TIDEMARK_STORAGE_BACKEND: 'memory' } }).storage);
    await store.put('m/k', Buffer.from('in memory'));
    expect((await getBuffer(store, 'm/k')).toString()).toBe('in memory');
  });

  it('retries around the instrumentation, so every attempt is counted', async () => {
    const basePath = path.join(dir, 'blocked');
    writeFileSync(basePath, 'a file, not a directory');
    const sleeps: number[] = [];
    const { store, snapshot } = createBackend(
      { backend: 'LocalFile', basePath: path.join(basePath, 'store') },
      { retry: { maxAttempts: 3, sleep: async (ms) => void sleeps.push(ms), random: () => 0.5 } },
    );
    await expectStoreError(store.put('k', Buffer.from('v')), 'STORAGE_UNAVAILABLE');
    expect(snapshot().operations.PUT).toEqual({ ...zero, calls: 3, errors: 3 });
    expect(sleeps).toEqual([50, 100]);
  });

  it('refuses an unknown backend', () => {
    expect(() => createBackend({ backend: 'Tape' } as never)).toThrow('unknown storage backend "Tape"');
  });
});
