import { Readable } from 'node:stream';
import { systemClock, type Clock } from '../../lib/clock';
import { checkRange, clipRange } from '../byte-range';
import { assertValidKey, assertValidPrefix, compareKeys } from '../key-rules';
import { checkPutOptions, discardBody, openBody, readAll } from '../object-body';
import type {
  ByteRange,
  ListedObject,
  ObjectBody,
  ObjectInfo,
  ObjectStore,
  PutOptions,
  PutResult,
} from '../object-store';
import { lengthMismatch, objectExists, objectNotFound } from '../storage-errors';

export interface MemoryStoreOptions {
  /** The clock for `lastModified` (injected so simulations are deterministic; default: the system clock). */
  clock?: Clock;
  /** Keys per internal listing page, as a cloud store pages (S3: 1,000). */
  pageSize?: number;
}

interface StoredObject {
  data: Buffer;
  etag: string;
  lastModified: Date;
}

/**
 * The object store in memory, for tests and for the library's `Memory` backend. It holds every body whole (it
 * is memory), copies bodies in and out so callers cannot change stored bytes, and behaves as the port says in
 * every other respect: create-if-absent is decided with no await between the check and the write, listings
 * page by cursor like a cloud listing. Nothing survives the process.
 */
export class MemoryStore implements ObjectStore {
  private readonly objects = new Map<string, StoredObject>();
  private readonly clock: Clock;
  private readonly pageSize: number;
  private version = 0;

  constructor(options: MemoryStoreOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.pageSize = options.pageSize ?? 1000;
  }

  async init(): Promise<void> {}

  async put(key: string, body: ObjectBody, options: PutOptions = {}): Promise<PutResult> {
    const exclusive = options.ifNoneMatch === '*';
    try {
      assertValidKey(key);
      checkPutOptions(key, body, options);
      if (exclusive && this.objects.has(key)) throw objectExists(key);
    } catch (error) {
      discardBody(body);
      throw error;
    }
    const source = openBody(body);
    const data = Buffer.isBuffer(source) ? Buffer.from(source) : Buffer.from(await readAll(source));
    if (options.contentLength !== undefined && data.length !== options.contentLength) {
      throw lengthMismatch(key, options.contentLength, data.length);
    }
    if (exclusive && this.objects.has(key)) throw objectExists(key); // decided here: no await since the check
    const etag = `"m${++this.version}"`;
    this.objects.set(key, { data, etag, lastModified: new Date(this.clock.now()) });
    return { size: data.length, etag };
  }

  async get(key: string, range?: ByteRange): Promise<Readable> {
    assertValidKey(key);
    checkRange(range);
    const object = this.objects.get(key);
    if (object === undefined) throw objectNotFound(key);
    const { start, end } = clipRange(object.data.length, range);
    return Readable.from(end > start ? [Buffer.from(object.data.subarray(start, end))] : [], {
      objectMode: false,
    });
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    assertValidKey(key);
    const object = this.objects.get(key);
    return object === undefined ? undefined : info(object);
  }

  async *list(prefix: string): AsyncGenerator<ListedObject> {
    assertValidPrefix(prefix);
    let after: string | undefined;
    for (;;) {
      const page = this.page(prefix, after);
      for (const key of page) {
        const object = this.objects.get(key);
        if (object !== undefined) yield { key, ...info(object) }; // else deleted since the page was read
      }
      if (page.length < this.pageSize) return;
      after = page[page.length - 1];
    }
  }

  /** The next page: up to `pageSize` keys with the prefix after the cursor, in key order. */
  private page(prefix: string, after: string | undefined): string[] {
    const keys: string[] = [];
    for (const key of this.objects.keys()) {
      if (key.startsWith(prefix) && (after === undefined || compareKeys(key, after) > 0)) keys.push(key);
    }
    return keys.sort(compareKeys).slice(0, this.pageSize);
  }

  async delete(keys: readonly string[]): Promise<void> {
    for (const key of keys) assertValidKey(key);
    for (const key of keys) this.objects.delete(key);
  }
}

function info(object: StoredObject): ObjectInfo {
  return { size: object.data.length, etag: object.etag, lastModified: new Date(object.lastModified) };
}
