/**
 * Upload throughput of the segment shipper (SegmentShipper.ship({ flush: true })): sealed WAL segments
 * packed, checked against their footers, PUT, read back and verified, recorded in UploadedSegments — to a
 * local directory (fsynced) or to s3rver. Also the requests that costs per MiB of log.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import {
  createBackend,
  InstrumentedStore,
  RetryingStore,
  type ObjectStore,
  type StoreMetricsSnapshot,
  type StoreOperation,
} from '../../src/storage';
import { createS3Client, S3Store, type S3StoreOptions } from '../../src/storage/s3';
import { checkSealedSegment } from '../../src/wal/archive/pack-checksum';
import { SegmentShipper } from '../../src/tiering/segment-shipper';
import { UploadedSegments, type UploadedPack } from '../../src/wal/archive/uploaded-segments';
import { DEFAULT_TIERING_CONFIG } from '../../src/tiering/tiering-config';
import { SegmentedWal, type LogEntry } from '../../src/wal';
import { CountingStore, countS3Commands, S3_WRITE_COMMANDS } from './tiering-bench-store';
import { S3RVER_CREDENTIALS } from './tiering-bench-servers';

export const MiB = 1024 * 1024;
const OPS: readonly StoreOperation[] = ['PUT', 'GET', 'HEAD', 'LIST', 'DELETE'];

/**
 * Realistic entries: one put each, a value of 150–950 bytes (200 B–1 KB encoded), keys drawn from a fixed
 * key space per component so the state stays bounded. Values are views into one pool, half random and
 * half repeated bytes, so checkpoints compress about as real state does.
 */
export class EntrySource {
  private readonly pool: Buffer;
  private readonly sequences: number[];
  private n = 0;

  constructor(
    private readonly components: number,
    private readonly keysPerComponent: number,
  ) {
    this.pool = randomBytes(4 * MiB);
    for (let at = 0; at < this.pool.length; at += 64) this.pool.fill(0x61 + ((at >> 6) % 7), at, at + 32);
    this.sequences = new Array<number>(components).fill(0);
  }

  next(count: number, timestampMicros: number): LogEntry[] {
    const entries: LogEntry[] = new Array(count);
    for (let i = 0; i < count; i++) {
      const n = this.n++;
      const c = n % this.components;
      const mix = Math.imul(n, 2654435761) >>> 0;
      const size = 150 + (mix % 801);
      const offset = (mix >>> 3) % (this.pool.length - size);
      entries[i] = {
        componentId: `window_processor_${c}`,
        sequence: ++this.sequences[c]!,
        timestamp: timestampMicros,
        changes: [
          {
            op: 'put',
            key: `key-${((mix >>> 11) % this.keysPerComponent).toString(16)}`,
            value: this.pool.subarray(offset, offset + size),
          },
        ],
      };
    }
    return entries;
  }
}

/** A store under measurement: what the node would use (retries around instrumentation around the adapter). */
export interface UploadTarget {
  label: 'local' | 's3rver';
  store: ObjectStore;
  snapshot(): StoreMetricsSnapshot;
  /** S3 requests per SDK command (multipart parts included). */
  s3Commands?: Map<string, number>;
  close(): Promise<void>;
}

export function localTarget(dir: string): UploadTarget {
  const backend = createBackend({ backend: 'LocalFile', basePath: dir, syncWrites: true });
  return { label: 'local', ...backend, close: async () => undefined };
}

/** A fresh bucket on s3rver, with the settings s3rver needs (test/support/s3rver-server.ts). */
export async function s3rverTarget(endpoint: string, partSize: number): Promise<UploadTarget> {
  const options: S3StoreOptions = {
    bucket: `bench-${randomBytes(4).toString('hex')}`,
    region: 'us-east-1',
    endpoint,
    forcePathStyle: true,
    credentials: S3RVER_CREDENTIALS,
    checksumMode: 'WHEN_REQUIRED', // s3rver stores the aws-chunked framing of checksummed uploads
    createIfAbsent: 'check-then-put', // s3rver ignores If-None-Match
    partSize,
  };
  const client = createS3Client(options);
  await client.send(new CreateBucketCommand({ Bucket: options.bucket }));
  const s3Commands = countS3Commands(client); // after the bucket: only the store's requests count
  const instrumented = new InstrumentedStore(new S3Store({ ...options, client }));
  return {
    label: 's3rver',
    store: new RetryingStore(instrumented),
    snapshot: () => instrumented.snapshot(),
    s3Commands,
    close: async () => client.destroy(),
  };
}

export interface UploadCase {
  name: string;
  segmentSize: number;
  packTargetBytes: number;
  /** Log written (sealed segments) before shipping starts. */
  volumeBytes: number;
}

export interface UploadCaseResult {
  name: string;
  store: 'local' | 's3rver';
  segmentSize: number;
  packTargetBytes: number;
  segments: number;
  packs: number;
  bytes: number;
  /** Wall time of ship({ flush: true }), uploads running `concurrency` at a time. */
  seconds: number;
  concurrency: number;
  mbPerSec: number;
  /** Every sealed segment recorded as uploaded and verified afterwards. */
  allVerified: boolean;
  /**
   * Time per phase, summed over packs (with concurrency 2 two packs overlap, so the sum can exceed the wall
   * time): the footer/CRC check of the local files (timed in a separate sequential pass over the same files,
   * before shipping), the PUT, the read-back (GET streamed to its end with crc32c), and the durable record in
   * uploaded-segments.json. MB/s of a phase: bytes ÷ its seconds.
   */
  phases: Record<'check' | 'put' | 'readBack' | 'record', { seconds: number; mbPerSec: number }>;
  /** ObjectStore calls counted by InstrumentedStore (every attempt). */
  requests: Record<StoreOperation, number>;
  putsPerMiB: number;
  /** S3 only: SDK requests per command, and the PUT-class ones (PutObject, multipart create/parts/complete). */
  s3?: {
    commands: Record<string, number>;
    writeRequests: number;
    writeRequestsPerMiB: number;
    parts: number;
  };
}

/** Writes the log, then ships it all and measures; the WAL and the uploads record live in a temp dir. */
export async function runUploadCase(
  root: string,
  spec: UploadCase,
  target: UploadTarget,
): Promise<UploadCaseResult> {
  const dir = await fs.promises.mkdtemp(path.join(root, 'tidemark-bench-upload-'));
  const wal = await SegmentedWal.open(path.join(dir, 'wal'), {
    segmentSize: spec.segmentSize,
    // Durable, as a node writes it: no dirty WAL pages left for the shipper's first fsync to flush.
    enableSync: true,
    preallocate: false,
    canDelete: () => false,
  });
  let uploads: UploadedSegments | undefined;
  try {
    const source = new EntrySource(16, 1 << 20);
    const sealedBytes = () => wal.segments().reduce((sum, s) => sum + (s.sealed ? s.sizeBytes : 0), 0);
    // Batches small against the segment (a batch never spans two), four appenders: segments fill up.
    const appender = async () => {
      while (sealedBytes() < spec.volumeBytes) await wal.appendBatch(source.next(250, Date.now() * 1000));
    };
    await Promise.all([appender(), appender(), appender(), appender()]);
    // The active segment's few entries stay behind: only whole (sealed) segments are shipped.
    const sealed = wal.segments().filter((s) => s.sealed);
    const bytes = sealed.reduce((sum, s) => sum + s.sizeBytes, 0);

    const checkStarted = performance.now();
    for (const segment of sealed) await checkSealedSegment(segment, 0);
    const checkSeconds = (performance.now() - checkStarted) / 1000;

    uploads = await UploadedSegments.open(dir);
    // Times the durable record of each pack (a fdatasynced journal line; now and then the snapshot
    // rewritten) by wrapping it.
    let recordSeconds = 0;
    const record = uploads.record.bind(uploads);
    uploads.record = async (pack: UploadedPack) => {
      const started = performance.now();
      await record(pack);
      recordSeconds += (performance.now() - started) / 1000;
    };
    const counting = new CountingStore(target.store);
    const concurrency = DEFAULT_TIERING_CONFIG.upload.concurrency;
    const shipper = new SegmentShipper(wal, counting, uploads, {
      prefix: 'bench',
      nodeId: 'node-1',
      packTargetBytes: spec.packTargetBytes,
      maxPackDelayMs: 0,
      concurrency,
    });
    const before = target.snapshot();
    const commandsBefore = new Map(target.s3Commands ?? []);
    const started = performance.now();
    const result = await shipper.ship({ flush: true });
    const seconds = (performance.now() - started) / 1000;
    const after = target.snapshot();
    const timing = counting.snapshot();

    const requests = Object.fromEntries(
      OPS.map((op) => [op, after.operations[op].calls - before.operations[op].calls]),
    ) as Record<StoreOperation, number>;
    const mib = bytes / MiB;
    const phase = (s: number) => ({ seconds: s, mbPerSec: s > 0 ? bytes / 1e6 / s : 0 });
    return {
      name: spec.name,
      store: target.label,
      segmentSize: spec.segmentSize,
      packTargetBytes: spec.packTargetBytes,
      segments: sealed.length,
      packs: result.uploaded.length,
      bytes,
      seconds,
      concurrency,
      mbPerSec: bytes / 1e6 / seconds,
      allVerified: shipper.pending().length === 0 && uploads.list().length === result.uploaded.length,
      phases: {
        check: phase(checkSeconds),
        put: phase(timing.putSeconds),
        readBack: phase(timing.readSeconds),
        record: phase(recordSeconds),
      },
      requests,
      putsPerMiB: requests.PUT / mib,
      s3: target.s3Commands ? s3Figures(target.s3Commands, commandsBefore, mib) : undefined,
    };
  } finally {
    await uploads?.close();
    await wal.close();
    await fs.promises.rm(dir, { recursive: true, force: true });
  }
}

function s3Figures(now: Map<string, number>, before: Map<string, number>, mib: number) {
  const commands: Record<string, number> = {};
  for (const [name, count] of now) {
    const delta = count - (before.get(name) ?? 0);
    if (delta > 0) commands[name] = delta;
  }
  const writeRequests = S3_WRITE_COMMANDS.reduce((sum, name) => sum + (commands[name] ?? 0), 0);
  return {
    commands,
    writeRequests,
    writeRequestsPerMiB: writeRequests / mib,
    parts: commands.UploadPartCommand ?? 0,
  };
}
