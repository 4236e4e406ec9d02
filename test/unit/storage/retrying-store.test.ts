import { Readable } from 'node:stream';
import { TidemarkError } from '../../../src/lib/errors';
import { backoffDelay, getBuffer, RetryingStore, type RetryOptions } from '../../../src/storage';
import { expectStoreError, listKeys } from '../../support/storage/object-store.contract';
import { FlakyStore, unavailable } from '../../support/storage/flaky-store';

/** A retrying store over a flaky one, with recorded pauses and a scripted random sequence. */
function setup(options: RetryOptions = {}, randoms = [0.5, 0.25, 0.75, 0.1, 0.9, 0.3, 0.6]) {
  const flaky = new FlakyStore();
  const sleeps: number[] = [];
  let next = 0;
  const store = new RetryingStore(flaky, {
    maxAttempts: 4,
    baseDelayMs: 100,
    maxDelayMs: 1000,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    random: () => randoms[next++ % randoms.length],
    ...options,
  });
  return { flaky, store, sleeps };
}

describe('backoffDelay', () => {
  it('is full jitter over an exponentially growing, capped window', () => {
    const policy = { maxAttempts: 10, baseDelayMs: 100, maxDelayMs: 1000 };
    expect([1, 2, 3, 4, 5, 6].map((attempt) => backoffDelay(policy, attempt, () => 0.999999))).toEqual([
      99, 199, 399, 799, 999, 999,
    ]);
    expect(backoffDelay(policy, 3, () => 0)).toBe(0);
    expect(backoffDelay(policy, 3, () => 0.5)).toBe(200);
  });
});

describe('RetryingStore', () => {
  it('retries unavailable errors, pausing as the injected random says', async () => {
    const { flaky, store, sleeps } = setup();
    await flaky.inner.put('k', Buffer.from('value'));
    flaky.failures.get.push(unavailable(), unavailable(), unavailable());
    expect((await getBuffer(store, 'k')).toString()).toBe('value');
    expect(flaky.calls.get).toBe(4);
    // windows 100, 200, 400 ms; randoms 0.5, 0.25, 0.75
    expect(sleeps).toEqual([50, 50, 300]);
  });

  it('gives up after maxAttempts, throwing the last error', async () => {
    const { flaky, store, sleeps } = setup();
    const errors = [unavailable(), unavailable(), unavailable(), unavailable(), unavailable()];
    flaky.failures.head.push(...errors);
    await expect(store.head('k')).rejects.toBe(errors[3]);
    expect(flaky.calls.head).toBe(4);
    expect(sleeps).toHaveLength(3);
  });

  it.each([
    ['NOT_FOUND', new TidemarkError('NOT_FOUND', 'gone')],
    ['INVALID_ARGUMENT', new TidemarkError('INVALID_ARGUMENT', 'bad')],
    ['PRECONDITION_FAILED', new TidemarkError('PRECONDITION_FAILED', 'exists')],
    ['CHECKSUM_MISMATCH', new TidemarkError('CHECKSUM_MISMATCH', 'corrupt')],
    ['a plain Error', new Error('not translated')],
  ])('does not retry %s', async (_, error) => {
    const { flaky, store, sleeps } = setup();
    flaky.failures.get.push(error);
    await expect(store.get('k')).rejects.toBe(error);
    expect(flaky.calls.get).toBe(1);
    expect(sleeps).toEqual([]);
  });

  it('retries init, head and delete', async () => {
    const { flaky, store } = setup();
    flaky.failures.init.push(unavailable());
    flaky.failures.head.push(unavailable());
    flaky.failures.delete.push(unavailable(), unavailable());
    await store.init();
    await store.head('k');
    await store.delete(['k']);
    expect(flaky.calls).toMatchObject({ init: 2, head: 2, delete: 3 });
  });

  describe('put', () => {
    it('retries a Buffer body', async () => {
      const { flaky, store } = setup();
      flaky.failures.put.push(unavailable(), unavailable());
      expect((await store.put('k', Buffer.from('buffered'))).size).toBe(8);
      expect(flaky.calls.put).toBe(3);
      expect((await getBuffer(flaky.inner, 'k')).toString()).toBe('buffered');
    });

    it('retries a body factory, opening a fresh stream for each attempt', async () => {
      const { flaky, store } = setup();
      flaky.failures.put.push(unavailable());
      let opened = 0;
      const factory = () => {
        opened++;
        return Readable.from([Buffer.from('fresh '), Buffer.from('stream')]);
      };
      await store.put('k', factory);
      expect(opened).toBe(1); // the failed attempt failed before opening the body
      flaky.lostPuts = 1; // now the failure comes after the body was consumed
      await store.put('k2', factory);
      expect(opened).toBe(3);
      expect((await getBuffer(flaky.inner, 'k2')).toString()).toBe('fresh stream');
    });

    it('never retries a Readable body: a consumed stream cannot be replayed', async () => {
      const { flaky, store, sleeps } = setup();
      const error = unavailable();
      flaky.failures.put.push(error);
      await expect(store.put('k', Readable.from([Buffer.from('once')]))).rejects.toBe(error);
      expect(flaky.calls.put).toBe(1);
      expect(sleeps).toEqual([]);
    });

    it('settles a create-if-absent whose first attempt landed but was reported lost', async () => {
      const { flaky, store } = setup();
      flaky.lostPuts = 1;
      const result = await store.put('manifest', Buffer.from('{"id":1}'), { ifNoneMatch: '*' });
      expect(result.size).toBe(8);
      expect(flaky.calls.put).toBe(2);
      expect((await getBuffer(flaky.inner, 'manifest')).toString()).toBe('{"id":1}');
    });

    it('reports PRECONDITION_FAILED as ambiguous when the object differs after a lost attempt', async () => {
      const { flaky, store } = setup();
      await flaky.inner.put('manifest', Buffer.from('someone else'));
      flaky.failures.put.push(unavailable());
      const error = await expectStoreError(
        store.put('manifest', Buffer.from('mine'), { ifNoneMatch: '*' }),
        'PRECONDITION_FAILED',
      );
      expect(error.details).toMatchObject({ key: 'manifest', ambiguous: true });
    });

    it('reports PRECONDITION_FAILED plainly when no attempt was lost', async () => {
      const { flaky, store } = setup();
      await flaky.inner.put('manifest', Buffer.from('mine'));
      const error = await expectStoreError(
        store.put('manifest', Buffer.from('mine'), { ifNoneMatch: '*' }),
        'PRECONDITION_FAILED',
      );
      expect(error.details.ambiguous).toBeUndefined();
      expect(flaky.calls.put).toBe(1);
    });
  });

  describe('list', () => {
    it('resumes after the last key it yielded, with no duplicates', async () => {
      const { flaky, store, sleeps } = setup();
      const keys = Array.from({ length: 10 }, (_, i) => `l/${i}`);
      for (const key of keys) await flaky.inner.put(key, Buffer.from(key));
      flaky.listFailsAfter = 4;
      expect(await listKeys(store, 'l/')).toEqual(keys);
      expect(flaky.calls.list).toBe(2);
      expect(sleeps).toEqual([50]);
    });

    it('gives up after maxAttempts failures without progress', async () => {
      const { flaky, store } = setup();
      await flaky.inner.put('l/1', Buffer.from('1'));
      const errors = [unavailable(), unavailable(), unavailable(), unavailable()];
      flaky.failures.list.push(...errors);
      await expect(listKeys(store, 'l/')).rejects.toBe(errors[3]);
      expect(flaky.calls.list).toBe(4);
    });

    it('does not retry a listing that fails for good', async () => {
      const { store } = setup();
      await expectStoreError(listKeys(store, '../'), 'INVALID_ARGUMENT');
    });
  });
});
