/**
 * What the tiering benchmark puts around a store to see what the tiering layer does with it: requests per
 * operation and per kind of key (WAL packs, checkpoint blocks, manifests), and the time spent inside puts
 * and inside reads (from the get call until its stream has been read to the end). And, for S3, a
 * middleware on the SDK client that counts the requests per command — multipart parts included, which the
 * ObjectStore-level counters see as one PUT.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { performance } from 'node:perf_hooks';
import type { Readable } from 'node:stream';
import type {
  ByteRange,
  ListedObject,
  ObjectBody,
  ObjectInfo,
  ObjectStore,
  PutOptions,
  PutResult,
  StoreOperation,
} from '../../src/storage';

export type KeyKind = 'wal' | 'blocks' | 'manifests' | 'other';
export type KindCounts = Record<KeyKind, number>;

const OPERATIONS: readonly StoreOperation[] = ['PUT', 'GET', 'HEAD', 'LIST', 'DELETE'];
const KINDS: readonly KeyKind[] = ['wal', 'blocks', 'manifests', 'other'];

/** `{prefix}/wal/…`, `{prefix}/blocks/…`, `{prefix}/checkpoints/…` (object-keys.ts). */
export function kindOf(key: string): KeyKind {
  if (key.includes('/wal/')) return 'wal';
  if (key.includes('/blocks/')) return 'blocks';
  if (key.includes('/checkpoints/')) return 'manifests';
  return 'other';
}

export interface CountingSnapshot {
  /** Calls per operation and kind of key (DELETE: keys asked to be deleted; LIST: calls, by prefix). */
  requests: Record<StoreOperation, KindCounts>;
  deleteCalls: number;
  /** Seconds spent inside put calls, summed over calls (concurrent calls each count). */
  putSeconds: number;
  /** Seconds from each get call until its stream ended, summed. */
  readSeconds: number;
  /** Bytes stored by puts that succeeded, per kind of key. */
  putBytes: KindCounts;
}

function zeroKinds(): KindCounts {
  return { wal: 0, blocks: 0, manifests: 0, other: 0 };
}

/** Counts and times the calls the code under measurement makes (outside retries: one per logical call). */
export class CountingStore implements ObjectStore {
  private state: CountingSnapshot = CountingStore.empty();

  constructor(private readonly inner: ObjectStore) {}

  private static empty(): CountingSnapshot {
    const requests = Object.fromEntries(OPERATIONS.map((op) => [op, zeroKinds()])) as Record<
      StoreOperation,
      KindCounts
    >;
    return { requests, deleteCalls: 0, putSeconds: 0, readSeconds: 0, putBytes: zeroKinds() };
  }

  snapshot(): CountingSnapshot {
    const requests = Object.fromEntries(
      OPERATIONS.map((op) => [op, { ...this.state.requests[op] }]),
    ) as Record<StoreOperation, KindCounts>;
    return { ...this.state, requests, putBytes: { ...this.state.putBytes } };
  }

  init(): Promise<void> {
    return this.inner.init();
  }

  async put(key: string, body: ObjectBody, options?: PutOptions): Promise<PutResult> {
    const kind = kindOf(key);
    this.state.requests.PUT[kind]++;
    const started = performance.now();
    try {
      const result = await this.inner.put(key, body, options);
      this.state.putBytes[kind] += result.size;
      return result;
    } finally {
      this.state.putSeconds += (performance.now() - started) / 1000;
    }
  }

  async get(key: string, range?: ByteRange): Promise<Readable> {
    this.state.requests.GET[kindOf(key)]++;
    const started = performance.now();
    const stream = await this.inner.get(key, range);
    const state = this.state;
    // 'close' only: a 'data' listener would start the stream flowing before its reader is attached.
    stream.once('close', () => (state.readSeconds += (performance.now() - started) / 1000));
    return stream;
  }

  head(key: string): Promise<ObjectInfo | undefined> {
    this.state.requests.HEAD[kindOf(key)]++;
    return this.inner.head(key);
  }

  list(prefix: string): AsyncIterable<ListedObject> {
    this.state.requests.LIST[kindOf(`${prefix}x`)]++;
    return this.inner.list(prefix);
  }

  delete(keys: readonly string[]): Promise<void> {
    this.state.deleteCalls++;
    for (const key of keys) this.state.requests.DELETE[kindOf(key)]++;
    return this.inner.delete(keys);
  }
}

/** The difference of two snapshots (after − before). */
export function countingDelta(after: CountingSnapshot, before: CountingSnapshot): CountingSnapshot {
  const requests = Object.fromEntries(
    OPERATIONS.map((op) => [
      op,
      Object.fromEntries(KINDS.map((k) => [k, after.requests[op][k] - before.requests[op][k]])),
    ]),
  ) as Record<StoreOperation, KindCounts>;
  return {
    requests,
    deleteCalls: after.deleteCalls - before.deleteCalls,
    putSeconds: after.putSeconds - before.putSeconds,
    readSeconds: after.readSeconds - before.readSeconds,
    putBytes: Object.fromEntries(KINDS.map((k) => [k, after.putBytes[k] - before.putBytes[k]])) as KindCounts,
  };
}

export function totalOf(counts: KindCounts): number {
  return counts.wal + counts.blocks + counts.manifests + counts.other;
}

/** S3 requests per command name (`PutObjectCommand`, `UploadPartCommand`, …), one per command sent. */
export function countS3Commands(client: S3Client): Map<string, number> {
  const counts = new Map<string, number>();
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const name = context.commandName ?? 'unknown';
      counts.set(name, (counts.get(name) ?? 0) + 1);
      return next(args);
    },
    { step: 'initialize', name: 'tidemarkBenchRequestCounter' },
  );
  return counts;
}

/** S3 requests that AWS bills at the PUT rate: PutObject, and a multipart upload's create, parts and complete. */
export const S3_WRITE_COMMANDS = [
  'PutObjectCommand',
  'CreateMultipartUploadCommand',
  'UploadPartCommand',
  'CompleteMultipartUploadCommand',
] as const;
