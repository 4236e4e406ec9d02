import { Readable } from 'node:stream';
import { systemClock, type Clock } from '../lib/clock';
import { TidemarkError } from '../lib/errors';
import { silentLogger, type Logger } from '../lib/logger';
import { DEFAULT_BACKOFF, backoffDelay, type BackoffPolicy } from './backoff';
import { compareKeys } from './key-rules';
import { getBuffer } from './object-body';
import type {
  ByteRange,
  ListedObject,
  ObjectBody,
  ObjectInfo,
  ObjectStore,
  PutOptions,
  PutResult,
} from './object-store';
import { isRetryable } from './storage-errors';

export interface RetryOptions extends Partial<BackoffPolicy> {
  /** Waits `ms`; injected so tests run without real pauses. Default: a timer on `clock`. */
  sleep?: (ms: number) => Promise<void>;
  /** The clock the default `sleep` waits on (default: the system clock). */
  clock?: Clock;
  /** Uniform in [0, 1); injected so tests know the pauses. Default: Math.random. */
  random?: () => number;
  logger?: Logger;
}

/**
 * Retries an ObjectStore's calls that failed with an error of kind `unavailable` (STORAGE_UNAVAILABLE and the
 * like), with exponential backoff and full jitter, at most `maxAttempts` attempts; every other error (not
 * found, precondition failed, invalid argument, a body stream's own error) is thrown at once.
 * - `put` of a Buffer or of a body factory is retried (a factory is called again for a fresh stream); `put`
 *   of a Readable is tried once, since a consumed stream cannot be replayed — pass
 *   `() => createReadStream(path)` to have a streamed upload retried.
 * - A retried create-if-absent may find the object its own lost attempt created: PRECONDITION_FAILED after an
 *   `unavailable` failure is ambiguous. For a Buffer body the stored bytes are compared: equal means success
 *   (whoever wrote them wrote the same thing); otherwise the error carries `details.ambiguous = true`.
 * - `get` retries opening the object; an error while its stream is read is the caller's to handle.
 * - `list` resumes after the last key it yielded (listings are in key order); the attempt count restarts
 *   whenever a listing makes progress.
 */
export class RetryingStore implements ObjectStore {
  private readonly policy: BackoffPolicy;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;
  private readonly log: Logger;

  constructor(
    private readonly inner: ObjectStore,
    options: RetryOptions = {},
  ) {
    this.policy = {
      maxAttempts: options.maxAttempts ?? DEFAULT_BACKOFF.maxAttempts,
      baseDelayMs: options.baseDelayMs ?? DEFAULT_BACKOFF.baseDelayMs,
      maxDelayMs: options.maxDelayMs ?? DEFAULT_BACKOFF.maxDelayMs,
    };
    const clock = options.clock ?? systemClock;
    // Ref'd, as a plain setTimeout is: a retry in progress keeps the process alive.
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => clock.setTimeout(resolve, ms)));
    this.random = options.random ?? Math.random;
    this.log = options.logger ?? silentLogger;
  }

  init(): Promise<void> {
    return this.retry('init', '', () => this.inner.init());
  }

  put(key: string, body: ObjectBody, options: PutOptions = {}): Promise<PutResult> {
    if (body instanceof Readable) return this.inner.put(key, body, options);
    let lostAttempt = false;
    return this.retry('put', key, async () => {
      try {
        return await this.inner.put(key, body, options);
      } catch (error) {
        if (isRetryable(error)) lostAttempt = true;
        else if (lostAttempt && TidemarkError.is(error, 'PRECONDITION_FAILED')) {
          return this.settleAmbiguousCreate(key, body, error);
        }
        throw error;
      }
    });
  }

  private async settleAmbiguousCreate(
    key: string,
    body: ObjectBody,
    error: TidemarkError,
  ): Promise<PutResult> {
    if (Buffer.isBuffer(body)) {
      const stored = await this.inner.head(key);
      if (stored?.size === body.length && (await getBuffer(this.inner, key)).equals(body)) {
        return { size: stored.size, etag: stored.etag };
      }
    }
    throw new TidemarkError(
      'PRECONDITION_FAILED',
      `${error.message} (an earlier attempt that failed may have created it)`,
      {
        cause: error,
        details: { ...error.details, ambiguous: true },
      },
    );
  }

  get(key: string, range?: ByteRange): Promise<Readable> {
    return this.retry('get', key, () => this.inner.get(key, range));
  }

  getBytes(key: string): Promise<Buffer> {
    return this.retry('get', key, () => getBuffer(this.inner, key));
  }

  head(key: string): Promise<ObjectInfo | undefined> {
    return this.retry('head', key, () => this.inner.head(key));
  }

  delete(keys: readonly string[]): Promise<void> {
    return this.retry('delete', keys[0] ?? '', () => this.inner.delete(keys));
  }

  async *list(prefix: string): AsyncGenerator<ListedObject> {
    let last: string | undefined;
    for (let attempt = 1; ; attempt++) {
      try {
        for await (const object of this.inner.list(prefix)) {
          if (last !== undefined && compareKeys(object.key, last) <= 0) continue; // yielded before a retry
          last = object.key;
          attempt = 1;
          yield object;
        }
        return;
      } catch (error) {
        await this.pauseOrThrow('list', prefix, attempt, error);
      }
    }
  }

  private async retry<T>(op: string, key: string, call: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await call();
      } catch (error) {
        await this.pauseOrThrow(op, key, attempt, error);
      }
    }
  }

  private async pauseOrThrow(op: string, key: string, attempt: number, error: unknown): Promise<void> {
    if (!isRetryable(error) || attempt >= this.policy.maxAttempts) throw error;
    const delayMs = backoffDelay(this.policy, attempt, this.random);
    this.log.warn({ op, key, attempt, delayMs, err: error }, 'object store call failed, retrying');
    await this.sleep(delayMs);
  }
}
