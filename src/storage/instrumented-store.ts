import { Transform, pipeline, type Readable } from 'node:stream';
import type {
  ByteRange,
  ListedObject,
  ObjectBody,
  ObjectInfo,
  ObjectStore,
  PutOptions,
  PutResult,
} from './object-store';
import { getBuffer } from './object-body';

export type StoreOperation = 'PUT' | 'GET' | 'HEAD' | 'LIST' | 'DELETE';

export interface OperationCounts {
  /** Calls made (each attempt of a retried call counts: this decorator sits inside the retrying one). */
  calls: number;
  /** Calls that failed (including NOT_FOUND and PRECONDITION_FAILED: they were requests all the same). */
  errors: number;
  /** PUT: bytes stored by puts that succeeded; GET: bytes streamed to callers. */
  bytes: number;
  /** LIST: objects listed; DELETE: keys asked to be deleted. */
  objects: number;
}

export interface StoreMetricsSnapshot {
  operations: Record<StoreOperation, OperationCounts>;
  /** Bytes into the store (PUT). */
  bytesIn: number;
  /** Bytes out of the store (GET). */
  bytesOut: number;
}

const OPERATIONS: readonly StoreOperation[] = ['PUT', 'GET', 'HEAD', 'LIST', 'DELETE'];

/**
 * Counts an ObjectStore's calls, failures, bytes and objects per operation — what a cloud bills and what the
 * tiering issue's "no LIST in steady state" and "one PUT per 8 MiB" goals are checked with. Plain counters
 * read by `snapshot()`; the metrics endpoint exports them later.
 */
export class InstrumentedStore implements ObjectStore {
  private readonly counts = Object.fromEntries(
    OPERATIONS.map((op) => [op, { calls: 0, errors: 0, bytes: 0, objects: 0 }]),
  ) as Record<StoreOperation, OperationCounts>;

  constructor(private readonly inner: ObjectStore) {}

  snapshot(): StoreMetricsSnapshot {
    const operations = Object.fromEntries(OPERATIONS.map((op) => [op, { ...this.counts[op] }])) as Record<
      StoreOperation,
      OperationCounts
    >;
    return { operations, bytesIn: operations.PUT.bytes, bytesOut: operations.GET.bytes };
  }

  init(): Promise<void> {
    return this.inner.init();
  }

  async put(key: string, body: ObjectBody, options?: PutOptions): Promise<PutResult> {
    const result = await this.count('PUT', () => this.inner.put(key, body, options));
    this.counts.PUT.bytes += result.size;
    return result;
  }

  async get(key: string, range?: ByteRange): Promise<Readable> {
    const stream = await this.count('GET', () => this.inner.get(key, range));
    const counts = this.counts.GET;
    const counter = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        counts.bytes += chunk.length;
        done(null, chunk);
      },
    });
    // pipeline forwards the store's stream errors to the caller, and a caller's destroy back to the store.
    return pipeline(stream, counter, () => undefined);
  }

  async getBytes(key: string): Promise<Buffer> {
    const bytes = await this.count('GET', () => getBuffer(this.inner, key));
    this.counts.GET.bytes += bytes.length;
    return bytes;
  }

  head(key: string): Promise<ObjectInfo | undefined> {
    return this.count('HEAD', () => this.inner.head(key));
  }

  async *list(prefix: string): AsyncGenerator<ListedObject> {
    this.counts.LIST.calls++;
    try {
      for await (const object of this.inner.list(prefix)) {
        this.counts.LIST.objects++;
        yield object;
      }
    } catch (error) {
      this.counts.LIST.errors++;
      throw error;
    }
  }

  delete(keys: readonly string[]): Promise<void> {
    this.counts.DELETE.objects += keys.length;
    return this.count('DELETE', () => this.inner.delete(keys));
  }

  private async count<T>(op: StoreOperation, call: () => Promise<T>): Promise<T> {
    this.counts[op].calls++;
    try {
      return await call();
    } catch (error) {
      this.counts[op].errors++;
      throw error;
    }
  }
}
