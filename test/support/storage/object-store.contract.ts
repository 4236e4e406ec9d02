/**
 * The ObjectStore contract: what every adapter must do, as `src/storage/object-store.ts` states it. Each
 * adapter's test file calls `runObjectStoreContract` with a setup that gives a fresh, empty store (a new
 * directory, a new bucket or a unique prefix on a real server) and a teardown. Keys are built per test under
 * `t/`.
 */
import { Readable } from 'node:stream';
import { TidemarkError, type ErrorCode } from '../../../src/lib/errors';
import { getBuffer, type ListedObject, type ObjectStore } from '../../../src/storage';
import { digestOf, failingStream, generatedBuffer, generatedDigest, generatedStream } from './body-streams';

export interface ContractSubject {
  store: ObjectStore;
  teardown: () => Promise<void>;
}

export interface ContractOptions {
  /** Keys for the listing-pagination test (default 2,500, past S3's 1,000 a page twice). */
  paginationKeys?: number;
  /** Concurrent creators in the create-if-absent race (default 16). */
  racers?: number;
  /**
   * Whether the store decides create-if-absent atomically (default true). False for a store that only
   * emulates it (S3 `check-then-put` against s3rver): the race then checks what still holds — every creator
   * wins or gets PRECONDITION_FAILED, at least one wins, and the object is exactly one winner's body.
   */
  atomicCreateIfAbsent?: boolean;
}

export async function expectStoreError(promise: Promise<unknown>, code: ErrorCode): Promise<TidemarkError> {
  try {
    await promise;
  } catch (error) {
    if (!(error instanceof TidemarkError)) throw error;
    expect(error.code).toBe(code);
    return error;
  }
  throw new Error(`expected ${code}, but it succeeded`);
}

export async function listAll(store: ObjectStore, prefix: string): Promise<ListedObject[]> {
  const objects: ListedObject[] = [];
  for await (const object of store.list(prefix)) objects.push(object);
  return objects;
}

export async function listKeys(store: ObjectStore, prefix: string): Promise<string[]> {
  return (await listAll(store, prefix)).map((object) => object.key);
}

/** The order every store must list in: by UTF-8 bytes (S3's order), computed independently of compareKeys. */
export function byUtf8(keys: string[]): string[] {
  return [...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}

const text = (s: string) => Buffer.from(s);

export function runObjectStoreContract(
  name: string,
  setup: () => Promise<ContractSubject>,
  options: ContractOptions = {},
): void {
  describe(`ObjectStore contract: ${name}`, () => {
    let subject: ContractSubject;
    let store: ObjectStore;

    beforeEach(async () => {
      subject = await setup();
      store = subject.store;
      await store.init();
    });

    afterEach(async () => {
      await subject.teardown();
    });

    describe('put and get', () => {
      it('round-trips a Buffer, reporting its size and the etag head reports', async () => {
        const body = generatedBuffer(100_000, 7);
        const result = await store.put('t/buffer', body);
        expect(result.size).toBe(body.length);
        expect((await getBuffer(store, 't/buffer')).equals(body)).toBe(true);
        const stream = await store.get('t/buffer');
        expect(stream.readableObjectMode).toBe(false); // a byte stream, as cloud SDKs give
        stream.destroy();
        const info = await store.head('t/buffer');
        expect(info?.size).toBe(body.length);
        expect(info?.etag).toBe(result.etag);
      });

      it('round-trips a stream body and a body factory', async () => {
        await store.put('t/stream', Readable.from([text('hello, '), text('stream')]));
        expect((await getBuffer(store, 't/stream')).toString()).toBe('hello, stream');
        const result = await store.put('t/factory', () => Readable.from([text('from a factory')]));
        expect(result.size).toBe(14);
        expect((await getBuffer(store, 't/factory')).toString()).toBe('from a factory');
      });

      it('stores empty bodies, from a Buffer and from a stream', async () => {
        expect((await store.put('t/empty-buffer', Buffer.alloc(0))).size).toBe(0);
        expect((await store.put('t/empty-stream', Readable.from([]))).size).toBe(0);
        for (const key of ['t/empty-buffer', 't/empty-stream']) {
          expect((await getBuffer(store, key)).length).toBe(0);
          expect((await store.head(key))?.size).toBe(0);
        }
      });

      it('streams a 20 MiB body in and out, neither side holding it whole', async () => {
        const size = 20 * 1024 * 1024;
        const { stream } = generatedStream(size, 20);
        expect((await store.put('t/large', stream, { contentLength: size })).size).toBe(size);
        expect((await store.head('t/large'))?.size).toBe(size);
        expect(await digestOf(await store.get('t/large'))).toEqual({
          sha256: generatedDigest(size, 20),
          size,
        });
      });

      it('replaces an object when put without a condition', async () => {
        const first = await store.put('t/replace', text('first version'));
        const second = await store.put('t/replace', text('second'));
        expect((await getBuffer(store, 't/replace')).toString()).toBe('second');
        expect((await store.head('t/replace'))?.size).toBe(6);
        if (first.etag !== undefined && second.etag !== undefined) expect(second.etag).not.toBe(first.etag);
      });

      it('rejects get of a missing key with NOT_FOUND', async () => {
        const error = await expectStoreError(store.get('t/missing'), 'NOT_FOUND');
        expect(error.kind).toBe('not_found');
      });

      it('refuses a body whose length differs from contentLength, storing nothing', async () => {
        await expectStoreError(store.put('t/short', text('abc'), { contentLength: 4 }), 'INVALID_ARGUMENT');
        await expectStoreError(
          store.put('t/short', Readable.from([text('abcdef')]), { contentLength: 4 }),
          'INVALID_ARGUMENT',
        );
        expect(await store.head('t/short')).toBeUndefined();
      });

      it("fails a put with the body stream's own error and stores nothing", async () => {
        const broken = new Error('source broke');
        await expect(store.put('t/broken', failingStream(text('partial'), broken))).rejects.toBe(broken);
        expect(await store.head('t/broken')).toBeUndefined();
        expect(await listKeys(store, 't/')).toEqual([]);
      });
    });

    describe('ranges', () => {
      const body = generatedBuffer(10_000, 3);

      beforeEach(async () => {
        await store.put('t/ranged', body);
      });

      it('reads length bytes from an offset, or from an offset to the end', async () => {
        expect(
          (await getBuffer(store, 't/ranged', { offset: 100, length: 50 })).equals(body.subarray(100, 150)),
        ).toBe(true);
        expect(
          (await getBuffer(store, 't/ranged', { offset: 0, length: 1 })).equals(body.subarray(0, 1)),
        ).toBe(true);
        expect((await getBuffer(store, 't/ranged', { offset: 9_990 })).equals(body.subarray(9_990))).toBe(
          true,
        );
        expect((await getBuffer(store, 't/ranged', { offset: 0 })).equals(body)).toBe(true);
      });

      it('clips a range at the end of the object', async () => {
        expect(
          (await getBuffer(store, 't/ranged', { offset: 9_000, length: 5_000 })).equals(body.subarray(9_000)),
        ).toBe(true);
        expect((await getBuffer(store, 't/ranged', { offset: 10_000, length: 10 })).length).toBe(0);
        expect((await getBuffer(store, 't/ranged', { offset: 20_000 })).length).toBe(0);
        expect((await getBuffer(store, 't/ranged', { offset: 5, length: 0 })).length).toBe(0);
      });

      it('still reports NOT_FOUND for a range of a missing key', async () => {
        await expectStoreError(store.get('t/nothing', { offset: 0, length: 0 }), 'NOT_FOUND');
      });

      it.each([
        [{ offset: -1, length: 1 }],
        [{ offset: 1.5 }],
        [{ offset: 0, length: -2 }],
        [{ offset: Number.NaN }],
      ])('refuses the range %j with INVALID_ARGUMENT', async (range) => {
        await expectStoreError(store.get('t/ranged', range), 'INVALID_ARGUMENT');
      });
    });

    describe('head', () => {
      it('reports size, modification time and etag of an object, undefined for a missing key', async () => {
        await store.put('t/headed', text('12345'));
        const info = await store.head('t/headed');
        expect(info).toBeDefined();
        expect(info?.size).toBe(5);
        expect(info?.lastModified).toBeInstanceOf(Date);
        expect(Number.isNaN(info?.lastModified.getTime())).toBe(false);
        if (info?.etag !== undefined) expect(typeof info.etag).toBe('string');
        expect(await store.head('t/headless')).toBeUndefined();
      });

      it('does not take a prefix of other keys for an object', async () => {
        await store.put('t/dir/object', text('x'));
        expect(await store.head('t/dir')).toBeUndefined();
        await expectStoreError(store.get('t/dir'), 'NOT_FOUND');
      });
    });

    describe('list', () => {
      it('lists in UTF-8 byte order, whatever the characters and the nesting', async () => {
        // '-' and '.' sort before '/', '0' after it; U+E000 before an emoji in UTF-8 (not in UTF-16).
        const keys = [
          't/a-c',
          't/a/b/c',
          't/a.b',
          't/a0',
          't/aa',
          't/B',
          't/é',
          't/\uE000',
          't/😀',
          't/日本/語',
          't/z~',
        ];
        for (const key of [...keys].reverse()) await store.put(key, text(key));
        const listed = await listAll(store, 't/');
        expect(listed.map((object) => object.key)).toEqual(byUtf8(keys));
        for (const object of listed) {
          expect(object.size).toBe(Buffer.byteLength(object.key));
          expect(object.lastModified).toBeInstanceOf(Date);
        }
      });

      it('pages through more keys than one cloud listing page holds', async () => {
        const count = options.paginationKeys ?? 2_500;
        const keys = Array.from(
          { length: count },
          (_, i) => `t/many/${i % 5}/k${String(i).padStart(5, '0')}`,
        );
        for (let i = 0; i < keys.length; i += 50) {
          await Promise.all(keys.slice(i, i + 50).map((key) => store.put(key, text('v'))));
        }
        const listed = await listKeys(store, 't/many/');
        expect(listed).toHaveLength(count);
        expect(listed).toEqual(byUtf8(keys));
        expect(await listKeys(store, 't/many/3/')).toEqual(
          byUtf8(keys.filter((key) => key.startsWith('t/many/3/'))),
        );
      });

      it('filters by a plain-text prefix, which may end inside a segment', async () => {
        const keys = ['t/p/ab', 't/p/abc/x', 't/p/abd', 't/p/a', 't/p/b/ab', 't/q/ab'];
        for (const key of keys) await store.put(key, text(key));
        expect(await listKeys(store, 't/p/ab')).toEqual(['t/p/ab', 't/p/abc/x', 't/p/abd']);
        expect(await listKeys(store, 't/p/')).toEqual(byUtf8(keys.filter((key) => key.startsWith('t/p/'))));
        expect(await listKeys(store, 't/p/abc/')).toEqual(['t/p/abc/x']);
        expect(await listKeys(store, 't/p/zzz')).toEqual([]);
        expect(await listKeys(store, 't/nothing/')).toEqual([]);
        expect(await listKeys(store, '')).toEqual(byUtf8(keys));
      });

      it('reports sizes and etags as head does', async () => {
        await store.put('t/sized', generatedBuffer(1234));
        const [listed] = await listAll(store, 't/sized');
        const info = await store.head('t/sized');
        expect(listed.size).toBe(1234);
        expect(listed.etag).toBe(info?.etag);
      });
    });

    describe('delete', () => {
      it('deletes objects; missing keys are not errors', async () => {
        await store.put('t/del/1', text('1'));
        await store.put('t/del/2', text('2'));
        await store.put('t/del/3', text('3'));
        await store.delete(['t/del/1', 't/del/3', 't/del/never', 't/nowhere/at/all']);
        expect(await listKeys(store, 't/')).toEqual(['t/del/2']);
        expect(await store.head('t/del/1')).toBeUndefined();
        await expectStoreError(store.get('t/del/3'), 'NOT_FOUND');
        await store.delete(['t/del/1']);
        await store.delete([]);
      });

      it('lets a deleted key be created again, also create-if-absent', async () => {
        await store.put('t/again/k', text('old'));
        await store.delete(['t/again/k']);
        await store.put('t/again/k', text('new'), { ifNoneMatch: '*' });
        expect((await getBuffer(store, 't/again/k')).toString()).toBe('new');
      });

      it('validates every key before deleting any', async () => {
        await store.put('t/keep', text('k'));
        await expectStoreError(store.delete(['t/keep', '../escape']), 'INVALID_ARGUMENT');
        expect(await store.head('t/keep')).toBeDefined();
      });
    });

    describe('create-if-absent', () => {
      it('creates a missing key; refuses an existing one with PRECONDITION_FAILED, unchanged', async () => {
        const created = await store.put('t/once', text('original'), { ifNoneMatch: '*' });
        expect(created.size).toBe(8);
        const error = await expectStoreError(
          store.put('t/once', text('usurper'), { ifNoneMatch: '*' }),
          'PRECONDITION_FAILED',
        );
        expect(error.kind).toBe('conflict');
        await expectStoreError(
          store.put('t/once', Readable.from([text('streamed usurper')]), { ifNoneMatch: '*' }),
          'PRECONDITION_FAILED',
        );
        expect((await getBuffer(store, 't/once')).toString()).toBe('original');
      });

      it('lets exactly one of many concurrent creators win', async () => {
        const racers = options.racers ?? 16;
        const bodies = Array.from({ length: racers }, (_, i) => generatedBuffer(64 * 1024 + i, 100 + i));
        const results = await Promise.allSettled(
          bodies.map((body, i) =>
            i % 2 === 0
              ? store.put('t/race', body, { ifNoneMatch: '*' })
              : store.put('t/race', Readable.from([body.subarray(0, 1000), body.subarray(1000)]), {
                  ifNoneMatch: '*',
                }),
          ),
        );
        const winners = results.flatMap((result, i) => (result.status === 'fulfilled' ? [i] : []));
        if (options.atomicCreateIfAbsent ?? true) expect(winners).toHaveLength(1);
        else expect(winners.length).toBeGreaterThanOrEqual(1);
        for (const result of results) {
          if (result.status === 'rejected') {
            expect(result.reason).toBeInstanceOf(TidemarkError);
            expect((result.reason as TidemarkError).code).toBe('PRECONDITION_FAILED');
          }
        }
        const stored = await getBuffer(store, 't/race');
        expect(winners.filter((i) => stored.equals(bodies[i]))).toHaveLength(1); // one winner's body, unmixed
        expect(await listKeys(store, 't/')).toEqual(['t/race']);
      });
    });

    describe('keys', () => {
      const bad = [
        '',
        '/abs',
        'a//b',
        'a/',
        '../x',
        'a/../b',
        'a/./b',
        '.hidden',
        'a\\b',
        'a\0b',
        'a\nb',
        'a\u007fb',
      ];

      it.each(bad.map((key) => [JSON.stringify(key), key]))(
        'refuses key %s everywhere, changing nothing',
        async (_, key) => {
          await expectStoreError(store.put(key, text('x')), 'INVALID_ARGUMENT');
          await expectStoreError(store.put(key, Readable.from([text('x')])), 'INVALID_ARGUMENT');
          await expectStoreError(store.get(key), 'INVALID_ARGUMENT');
          await expectStoreError(store.head(key), 'INVALID_ARGUMENT');
          await expectStoreError(store.delete([key]), 'INVALID_ARGUMENT');
          expect(await listKeys(store, '')).toEqual([]);
        },
      );

      it('refuses invalid listing prefixes', async () => {
        for (const prefix of ['/abs', '../', 'a//', 'a\\b', 'a/.']) {
          await expectStoreError(listKeys(store, prefix), 'INVALID_ARGUMENT');
        }
      });

      it('refuses put options it does not know', async () => {
        await expectStoreError(
          store.put('t/opt', text('x'), { ifNoneMatch: 'etag' as unknown as '*' }),
          'INVALID_ARGUMENT',
        );
        await expectStoreError(store.put('t/opt', text('x'), { contentLength: -1 }), 'INVALID_ARGUMENT');
        expect(await store.head('t/opt')).toBeUndefined();
      });
    });
  });
}
