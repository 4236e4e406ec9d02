import type { Readable } from 'node:stream';
import { TidemarkError } from '../../../src/lib/errors';
import {
  MemoryStore,
  type ByteRange,
  type ListedObject,
  type ObjectBody,
  type ObjectInfo,
  type ObjectStore,
  type PutOptions,
  type PutResult,
} from '../../../src/storage';

export type Op = 'init' | 'put' | 'get' | 'head' | 'list' | 'delete';

export const unavailable = () => new TidemarkError('STORAGE_UNAVAILABLE', 'connection reset');

/**
 * A memory store with scripted faults, for the decorators' tests: `failures[op]` is a queue of errors thrown
 * by the next calls of `op` (before they do anything); `lostPuts` puts succeed and then report `unavailable`,
 * as when a response is lost; `listFailsAfter` makes the next listing throw after yielding that many objects.
 */
export class FlakyStore implements ObjectStore {
  readonly inner = new MemoryStore({ pageSize: 3 });
  readonly calls: Record<Op, number> = { init: 0, put: 0, get: 0, head: 0, list: 0, delete: 0 };
  readonly failures: Record<Op, unknown[]> = { init: [], put: [], get: [], head: [], list: [], delete: [] };
  lostPuts = 0;
  listFailsAfter: number | undefined;

  private fault(op: Op): void {
    this.calls[op]++;
    const error = this.failures[op].shift();
    if (error !== undefined) throw error;
  }

  async init(): Promise<void> {
    this.fault('init');
  }

  async put(key: string, body: ObjectBody, options?: PutOptions): Promise<PutResult> {
    this.fault('put');
    const result = await this.inner.put(key, body, options);
    if (this.lostPuts > 0) {
      this.lostPuts--;
      throw unavailable();
    }
    return result;
  }

  async get(key: string, range?: ByteRange): Promise<Readable> {
    this.fault('get');
    return this.inner.get(key, range);
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    this.fault('head');
    return this.inner.head(key);
  }

  async *list(prefix: string): AsyncGenerator<ListedObject> {
    this.fault('list');
    let yielded = 0;
    for await (const object of this.inner.list(prefix)) {
      if (this.listFailsAfter !== undefined && yielded === this.listFailsAfter) {
        this.listFailsAfter = undefined;
        throw unavailable();
      }
      yielded++;
      yield object;
    }
  }

  async delete(keys: readonly string[]): Promise<void> {
    this.fault('delete');
    return this.inner.delete(keys);
  }
}
