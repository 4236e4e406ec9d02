import { S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { Readable } from 'node:stream';
import { TidemarkError } from '../../../src/lib/errors';
import type { Logger } from '../../../src/lib/logger';
import { getBuffer, isRetryable, RetryingStore } from '../../../src/storage';
import { createS3Client, S3Store, type S3StoreOptions } from '../../../src/storage/s3';
import { translateS3Error } from '../../../src/storage/s3/s3-errors';
import { S3rverServer } from '../../support/s3rver-server';
import {
  digestOf,
  generatedBuffer,
  generatedDigest,
  generatedStream,
} from '../../support/storage/body-streams';
import {
  expectStoreError,
  listKeys,
  runObjectStoreContract,
} from '../../support/storage/object-store.contract';

const MiB = 1024 * 1024;
const server = new S3rverServer();

beforeAll(() => server.start());
afterAll(() => server.dispose());

// A new bucket per test: each contract test starts from an empty store. s3rver ignores If-None-Match, so the
// store emulates create-if-absent (check-then-put), which is not atomic across processes.
runObjectStoreContract(
  'S3 (s3rver)',
  async () => {
    const store = new S3Store(server.storeOptions(await server.createBucket()));
    return { store, teardown: () => store.close() };
  },
  { atomicCreateIfAbsent: false },
);

interface SentRequest {
  command: string;
  input: { UploadId?: string; PartNumber?: number };
}

/** Records every HTTP request the client sends (each attempt: the middleware sits below the SDK's retries). */
function recordRequests(client: S3Client): SentRequest[] {
  const sent: SentRequest[] = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      sent.push({ command: context.commandName ?? '?', input: args.input as SentRequest['input'] });
      return next(args);
    },
    { step: 'deserialize', name: 'recordRequests' },
  );
  return sent;
}

const UPLOAD_COMMANDS = new Set([
  'PutObjectCommand',
  'CreateMultipartUploadCommand',
  'UploadPartCommand',
  'CompleteMultipartUploadCommand',
]);

/**
 * `bytes` of a body, handed over 64 KiB at a time as the store asks, then `error`. (A stream that fails while
 * the store still holds unread bytes of it may fail before a part was taken; this one fails after 8 MiB were.)
 */
function failingAfter(bytes: number, error: Error): Readable {
  const chunk = generatedBuffer(64 * 1024, 5);
  let sent = 0;
  return new Readable({
    read() {
      if (sent >= bytes) {
        this.destroy(error);
        return;
      }
      sent += chunk.length;
      this.push(chunk);
    },
  });
}

function warningsInto(warnings: string[]): Logger {
  const ignore = () => undefined;
  return {
    debug: ignore,
    info: ignore,
    error: ignore,
    warn: (obj, msg) => warnings.push(`${msg} ${JSON.stringify(obj)}`),
  };
}

describe('S3Store against s3rver', () => {
  let bucket: string;
  const cleanups: (() => unknown)[] = [];

  beforeEach(async () => {
    bucket = await server.createBucket();
  });

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });

  function newStore(overrides: Partial<S3StoreOptions> = {}): S3Store {
    const store = new S3Store({ ...server.storeOptions(bucket), ...overrides });
    cleanups.push(() => store.close());
    return store;
  }

  /** A store on an injected client that records its requests, and a logger that keeps warnings. */
  function recordedStore(overrides: Partial<S3StoreOptions> = {}) {
    const options = { ...server.storeOptions(bucket), ...overrides };
    const client = createS3Client(options);
    cleanups.push(() => client.destroy());
    const sent = recordRequests(client);
    const warnings: string[] = [];
    const store = new S3Store({ ...options, client, logger: warningsInto(warnings) });
    const uploads = () => sent.filter((request) => UPLOAD_COMMANDS.has(request.command));
    return { store, sent, uploads, warnings };
  }

  describe('uploads', () => {
    it('sends 20 MiB of unknown length as a multipart upload of 8 MiB parts, and reads it back byte-exact', async () => {
      const { store, uploads } = recordedStore();
      const size = 20 * MiB;
      const result = await store.put('big/unknown-length', generatedStream(size, 31).stream);
      expect(result.size).toBe(size);
      const sent = uploads();
      expect(sent.length).toBeLessThanOrEqual(Math.ceil(size / (8 * MiB)) + 2);
      expect(sent[0].command).toBe('CreateMultipartUploadCommand');
      expect(sent[sent.length - 1].command).toBe('CompleteMultipartUploadCommand');
      const parts = sent.filter((request) => request.command === 'UploadPartCommand');
      expect(new Set(parts.map((part) => part.input.PartNumber))).toEqual(new Set([1, 2, 3]));
      expect((await store.head('big/unknown-length'))?.etag).toBe(result.etag);
      expect(await digestOf(await store.get('big/unknown-length'))).toEqual({
        sha256: generatedDigest(size, 31),
        size,
      });
    });

    it('sends a body known to fit the threshold, or found to fit one part, as a single PutObject', async () => {
      const { store, uploads } = recordedStore();
      await store.put('small/buffer', generatedBuffer(2 * MiB, 1));
      await store.put('small/known', generatedStream(16 * MiB, 2).stream, { contentLength: 16 * MiB });
      await store.put('small/unknown', generatedStream(3 * MiB, 3).stream);
      expect(uploads().map((request) => request.command)).toEqual([
        'PutObjectCommand',
        'PutObjectCommand',
        'PutObjectCommand',
      ]);
      expect(await digestOf(await store.get('small/known'))).toEqual({
        sha256: generatedDigest(16 * MiB, 2),
        size: 16 * MiB,
      });
    });

    it('sends a Buffer above the threshold in parts, as configured', async () => {
      const { store, uploads } = recordedStore({ multipartThreshold: 5 * MiB, partSize: 5 * MiB });
      const body = generatedBuffer(11 * MiB, 4);
      await store.put('big/buffer', body);
      const parts = uploads().filter((request) => request.command === 'UploadPartCommand');
      expect(parts).toHaveLength(3);
      expect((await getBuffer(store, 'big/buffer')).equals(body)).toBe(true);
    });

    it("aborts the multipart upload when the body fails, rejects with the body's own error, stores nothing", async () => {
      const { store, sent, warnings } = recordedStore();
      const broken = new Error('source broke after 10 MiB');
      await expect(store.put('big/broken', failingAfter(10 * MiB, broken))).rejects.toBe(broken);
      const uploadIds = new Set(
        sent
          .filter((request) => request.command === 'UploadPartCommand')
          .map((request) => request.input.UploadId),
      );
      expect(uploadIds.size).toBe(1);
      const aborts = sent.filter((request) => request.command === 'AbortMultipartUploadCommand');
      expect(aborts.map((request) => request.input.UploadId)).toEqual([...uploadIds]);
      expect(sent.map((request) => request.command)).not.toContain('CompleteMultipartUploadCommand');
      // s3rver does not implement AbortMultipartUpload (405): the failure is logged, never thrown over the
      // body's error.
      expect(warnings).toEqual([expect.stringContaining([...uploadIds][0] ?? 'no upload id')]);
      expect(await store.head('big/broken')).toBeUndefined();
      expect(await listKeys(store, '')).toEqual([]);
    });

    it('refuses a multipart body longer or shorter than contentLength, storing nothing', async () => {
      const { store, sent } = recordedStore();
      const longer = await expectStoreError(
        store.put('big/long', generatedStream(20 * MiB, 6).stream, { contentLength: 17 * MiB }),
        'INVALID_ARGUMENT',
      );
      expect(longer.details).toMatchObject({ key: 'big/long', expected: 17 * MiB });
      await expectStoreError(
        store.put('big/short', generatedStream(20 * MiB, 6).stream, { contentLength: 21 * MiB }),
        'INVALID_ARGUMENT',
      );
      expect(sent.map((request) => request.command)).not.toContain('CompleteMultipartUploadCommand');
      expect(await listKeys(store, '')).toEqual([]);
    });

    it('refuses a single-PUT stream shorter than contentLength, aborting its request', async () => {
      const store = newStore();
      await expectStoreError(
        store.put('small/short', Readable.from([Buffer.from('abc')]), { contentLength: 9 }),
        'INVALID_ARGUMENT',
      );
      // The request was aborted mid-body. (s3rver, unlike S3, may keep the bytes it got as an object, so
      // what is stored is not asserted here; the contract checks the case that sends nothing.)
    });
  });

  describe('create-if-absent by check-then-put', () => {
    it('queues the creators of a key within one store, so exactly one of them wins', async () => {
      const store = newStore();
      const results = await Promise.allSettled(
        Array.from({ length: 8 }, (_, i) =>
          store.put('race/k', Buffer.from(`body ${i}`), { ifNoneMatch: '*' }),
        ),
      );
      expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
      expect((await getBuffer(store, 'race/k')).toString()).toBe('body 0');
    });
  });

  describe('outages', () => {
    it('fails with STORAGE_UNAVAILABLE while s3rver is down, and works again once it is back', async () => {
      const store = newStore();
      await store.put('o/before', Buffer.from('kept'));
      await server.stop();
      try {
        const error = await expectStoreError(
          store.put('o/during', Buffer.from('lost')),
          'STORAGE_UNAVAILABLE',
        );
        expect(isRetryable(error)).toBe(true);
        expect(error.message).toContain(server.endpoint);
        await expectStoreError(
          store.put('o/during', Readable.from([Buffer.from('lost')])),
          'STORAGE_UNAVAILABLE',
        );
        await expectStoreError(store.get('o/before'), 'STORAGE_UNAVAILABLE');
        await expectStoreError(store.head('o/before'), 'STORAGE_UNAVAILABLE');
        await expectStoreError(listKeys(store, 'o/'), 'STORAGE_UNAVAILABLE');
        await expectStoreError(store.delete(['o/before']), 'STORAGE_UNAVAILABLE');
      } finally {
        await server.start();
      }
      expect((await getBuffer(store, 'o/before')).toString()).toBe('kept');
      await store.put('o/after', Buffer.from('new'));
      expect(await listKeys(store, 'o/')).toEqual(['o/after', 'o/before']);
    });

    it('lets RetryingStore carry a put across a restart of the store', async () => {
      const store = newStore();
      await store.init();
      let pauses = 0;
      const retrying = new RetryingStore(store, {
        random: () => 0,
        sleep: async () => {
          if (++pauses === 1) await server.start(); // the outage ends during the first backoff
        },
      });
      await server.stop();
      try {
        await retrying.put('o/retried', Buffer.from('eventually'));
      } finally {
        if (pauses === 0) await server.start();
      }
      expect(pauses).toBe(1);
      expect((await getBuffer(store, 'o/retried')).toString()).toBe('eventually');
    });
  });

  describe('configuration errors', () => {
    it('names a missing bucket, once and for every call, and does not call it retryable', async () => {
      const store = newStore({ bucket: 'no-such-bucket' });
      const error = await expectStoreError(store.init(), 'CONFIG_INVALID');
      expect(error.message).toContain('"no-such-bucket"');
      expect(error.message).toContain(server.endpoint);
      expect(isRetryable(error)).toBe(false);
      await expectStoreError(store.get('k'), 'CONFIG_INVALID');
      await expectStoreError(store.put('k', Buffer.from('v')), 'CONFIG_INVALID');
      await expectStoreError(listKeys(store, ''), 'CONFIG_INVALID');
    });

    it('reports a bucket deleted after init as missing, not as a missing object', async () => {
      const store = newStore();
      await store.init();
      await server.deleteBucket(bucket);
      for (const call of [
        () => store.get('k'),
        () => store.put('k', Buffer.from('v')),
        () => store.delete(['k']),
        () => listKeys(store, ''),
      ]) {
        const error = await expectStoreError(call(), 'CONFIG_INVALID');
        expect(error.message).toContain(`"${bucket}"`);
      }
    });

    it('refuses unknown credentials with a clear, non-retryable error', async () => {
      const store = newStore({ credentials: { accessKeyId: 'NOT-S3RVER', secretAccessKey: 'wrong' } });
      const error = await expectStoreError(store.init(), 'CONFIG_INVALID');
      expect(error.message).toMatch(/credentials/);
      expect(isRetryable(error)).toBe(false);
    });

    it.each<[string, Partial<S3StoreOptions>]>([
      ['a part below 5 MiB', { partSize: 4 * MiB }],
      ['an empty bucket name', { bucket: '' }],
      ['no upload queue', { queueSize: 0 }],
      ['a threshold above S3’s largest PUT', { multipartThreshold: 6 * 1024 * MiB }],
      ['an unknown create-if-absent mode', { createIfAbsent: 'hope' as 'native' }],
    ])('refuses options with %s before any request', (_, overrides) => {
      expect(() => new S3Store({ ...server.storeOptions('any'), ...overrides })).toThrow(
        expect.objectContaining({ code: 'CONFIG_INVALID' }),
      );
    });
  });
});

describe('translateS3Error', () => {
  const call = { op: 'get', bucket: 'bkt', where: 'http://s3.test', key: 'a/b' };
  const s3Error = (name: string, status: number) =>
    new S3ServiceException({
      name,
      $fault: status >= 500 ? 'server' : 'client',
      $metadata: { httpStatusCode: status },
      message: `${name} said the server`,
    });
  const systemError = (code: string) => Object.assign(new Error(`connect ${code} 127.0.0.1:1`), { code });

  it.each<[string, unknown, string]>([
    ['NoSuchKey', s3Error('NoSuchKey', 404), 'NOT_FOUND'],
    ['412 PreconditionFailed', s3Error('PreconditionFailed', 412), 'PRECONDITION_FAILED'],
    ['409 ConditionalRequestConflict', s3Error('ConditionalRequestConflict', 409), 'PRECONDITION_FAILED'],
    ['503 SlowDown', s3Error('SlowDown', 503), 'STORAGE_UNAVAILABLE'],
    ['500 InternalError', s3Error('InternalError', 500), 'STORAGE_UNAVAILABLE'],
    ['a bare 502', s3Error('UnknownError', 502), 'STORAGE_UNAVAILABLE'],
    ['429', s3Error('TooManyRequests', 429), 'STORAGE_UNAVAILABLE'],
    ['ECONNREFUSED', systemError('ECONNREFUSED'), 'STORAGE_UNAVAILABLE'],
    ['ECONNRESET', systemError('ECONNRESET'), 'STORAGE_UNAVAILABLE'],
    [
      "the SDK's wrapper of a socket error from another realm",
      new Error('AWS SDK error wrapper for Error: connect ECONNREFUSED 127.0.0.1:9000'),
      'STORAGE_UNAVAILABLE',
    ],
    ['a socket hang-up', new Error('socket hang up'), 'STORAGE_UNAVAILABLE'],
    [
      'a client timeout',
      Object.assign(new Error('socket timed out'), { name: 'TimeoutError' }),
      'STORAGE_UNAVAILABLE',
    ],
    ['403 AccessDenied', s3Error('AccessDenied', 403), 'CONFIG_INVALID'],
    ['InvalidAccessKeyId', s3Error('InvalidAccessKeyId', 403), 'CONFIG_INVALID'],
    ['NoSuchBucket', s3Error('NoSuchBucket', 404), 'CONFIG_INVALID'],
    ['301 PermanentRedirect', s3Error('PermanentRedirect', 301), 'CONFIG_INVALID'],
    ['405 MethodNotAllowed', s3Error('MethodNotAllowed', 405), 'CONFIG_INVALID'],
    ['400 InvalidArgument', s3Error('InvalidArgument', 400), 'INVALID_ARGUMENT'],
    ['a TypeError (a bug, not an outage)', new TypeError('x is not a function'), 'INTERNAL'],
  ])('translates %s', (_, error, code) => {
    const translated = translateS3Error(error, call);
    expect(translated).toBeInstanceOf(TidemarkError);
    expect(translated.code).toBe(code);
    if (code !== 'NOT_FOUND') expect(translated.cause).toBe(error);
  });

  it('names the bucket and the store in what it cannot retry, and passes TidemarkErrors through', () => {
    const denied = translateS3Error(s3Error('AccessDenied', 403), call);
    expect(denied.message).toContain('"bkt"');
    expect(denied.message).toContain('http://s3.test');
    expect(denied.details).toMatchObject({ op: 'get', key: 'a/b', s3Error: 'AccessDenied', status: 403 });
    const own = new TidemarkError('NOT_FOUND', 'mine');
    expect(translateS3Error(own, call)).toBe(own);
  });
});
