/**
 * One whole node — WAL, catalog, checkpoint system, tiering, recovery — over a store and a job queue that
 * the test chooses, opened by the composition root the service uses (src/node/open-node.ts), started.
 */
import { configSchema, type TidemarkConfig } from '../../../src/config';
import type { JobQueue } from '../../../src/jobs/job-queue';
import type { JobRunner } from '../../../src/jobs/job-runner';
import { openNode } from '../../../src/node/open-node';
import type { TidemarkNode } from '../../../src/node/tidemark-node';
import type { ObjectStore } from '../../../src/storage';
import type { LeaseProvider } from '../../../src/tiering/lease';
import type { TieringConfig } from '../../../src/tiering/tiering-config';
import type { SegmentedWal, LogEntry } from '../../../src/wal';

export type TestNode = TidemarkNode & { dataDir: string };

export interface TestNodeOptions {
  nodeId?: string;
  segmentSize?: number;
  retentionSegments?: number;
  /** The checkpoint blocks' codec (default: the config's, zstd). */
  codec?: 'zstd' | 'lz4' | 'snappy' | 'none';
  tiering?: Partial<Omit<TieringConfig, 'upload'>> & { upload?: Partial<TieringConfig['upload']> };
  /** Builds the queue around the node's runner (default: in process). */
  queue?: (runner: JobRunner) => JobQueue;
  leases?: LeaseProvider;
}

/** The settings of a test node: small segments and blocks, no timers unless a test asks for them. */
export function testNodeSettings(dataDir: string, options: TestNodeOptions = {}): TidemarkConfig {
  const { upload, retention, gc, ...tiering } = options.tiering ?? {};
  return configSchema.parse({
    dataDir,
    wal: {
      segmentSize: options.segmentSize ?? 16 * 1024,
      retentionSegments: options.retentionSegments ?? 0,
      preallocate: false,
    },
    storage: { backend: 'Memory', prefix: 'tidemark' },
    checkpoint: {
      nodeId: options.nodeId ?? 'node-1',
      checkpointInterval: 0,
      cleanupInterval: 0,
      targetBlockSize: 4096,
      ...(options.codec ? { codec: options.codec } : {}),
    },
    merger: { maxChainLength: 3 },
    tiering: {
      ...tiering,
      upload: { packTargetBytes: 32 * 1024, maxPackDelayMs: 0, reconcileIntervalMs: 100, ...upload },
      retention: { intervalMs: 0, ...retention },
      gc: { intervalMs: 0, fullSweepIntervalMs: 0, ...gc },
    },
  });
}

export async function openTestNode(
  dataDir: string,
  store: ObjectStore,
  options: TestNodeOptions = {},
): Promise<TestNode> {
  const node = await openNode(testNodeSettings(dataDir, options), {
    store,
    ...(options.queue ? { queue: options.queue } : {}),
    ...(options.leases ? { leases: options.leases } : {}),
  });
  await node.start();
  return Object.assign(node, { dataDir });
}

/** Entries over a few components; keys repeat so that state is smaller than the log. */
export function entryAt(sequence: number, component = `c${sequence % 3}`): LogEntry {
  const key = `k${sequence % 211}`;
  const change =
    sequence % 17 === 0
      ? { op: 'delete' as const, key }
      : { op: 'put' as const, key, value: Buffer.alloc(60 + (sequence % 50), sequence & 0xff) };
  return { componentId: component, sequence, timestamp: 1_700_000_000_000_000 + sequence, changes: [change] };
}

export async function appendEntries(wal: SegmentedWal, from: number, count: number): Promise<void> {
  const entries: LogEntry[] = [];
  for (let s = from; s < from + count; s++) entries.push(entryAt(s));
  await wal.appendBatch(entries);
}

export { eventually } from '../eventually';
