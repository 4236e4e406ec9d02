/**
 * One recovery case of the benchmark: a RecoveryEngine with given settings, run once with its GETs timed
 * by a wrapping store (also the warm-up: JIT, worker threads started), then `runs` times with the store
 * untouched; medians of wall time, CPU time and the engine's phases (from its progress reports:
 * plan → blocks → merge → [verify] → wal: replay + overlay → done).
 */
import * as os from 'node:os';
import { Readable } from 'node:stream';
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import type { CheckpointCatalog } from '../../src/checkpoint/catalog/catalog';
import { CheckpointMerger } from '../../src/checkpoint/merge';
import { RecoveryEngine, type RecoveryBackend } from '../../src/recovery/recovery-engine';
import type {
  PrefetchStrategy,
  RecoveryProgress,
  RecoveryTarget,
  VerificationLevel,
} from '../../src/recovery/recovery-types';
import {
  getBuffer,
  type ByteRange,
  type ListedObject,
  type ObjectBody,
  type ObjectInfo,
  type ObjectStore,
  type PutOptions,
  type PutResult,
} from '../../src/storage';
import { NODE_ID, PREFIX } from './recovery-bench-state';

/** A full GC before each timed run, so one run's garbage is not collected in the next (as in a fresh process). */
export const collectGarbage: () => void = (() => {
  try {
    setFlagsFromString('--expose-gc');
    return runInNewContext('gc') as () => void;
  } catch {
    return () => undefined;
  }
})();

/** Passes everything through; while `enabled`, each GET is read whole and timed (sum, and time ≥ 1 in flight). */
export class TimedStore implements ObjectStore {
  enabled = false;
  gets = 0;
  bytes = 0;
  sumMs = 0;
  busyMs = 0;
  private inFlight = 0;
  private busySince = 0;

  constructor(readonly inner: ObjectStore) {}

  reset(): void {
    this.gets = this.bytes = this.sumMs = this.busyMs = 0;
  }
  init(): Promise<void> {
    return this.inner.init();
  }
  put(key: string, body: ObjectBody, options?: PutOptions): Promise<PutResult> {
    return this.inner.put(key, body, options);
  }
  head(key: string): Promise<ObjectInfo | undefined> {
    return this.inner.head(key);
  }
  list(prefix: string): AsyncIterable<ListedObject> {
    return this.inner.list(prefix);
  }
  delete(keys: readonly string[]): Promise<void> {
    return this.inner.delete(keys);
  }
  async get(key: string, range?: ByteRange): Promise<Readable> {
    if (!this.enabled) return this.inner.get(key, range);
    return Readable.from([await this.timed(() => getBuffer(this.inner, key, range))]);
  }
  /** As the store's own (one read of a local file): what the engine's getBuffer calls. */
  getBytes(key: string): Promise<Buffer> {
    if (!this.enabled) return getBuffer(this.inner, key);
    return this.timed(() => getBuffer(this.inner, key));
  }
  private async timed(read: () => Promise<Buffer>): Promise<Buffer> {
    const started = performance.now();
    if (this.inFlight++ === 0) this.busySince = started;
    try {
      const body = await read();
      this.gets++;
      this.bytes += body.length;
      return body;
    } finally {
      const ended = performance.now();
      this.sumMs += ended - started;
      if (--this.inFlight === 0) this.busyMs += ended - this.busySince;
    }
  }
}

export interface EngineCase {
  name: string;
  store: 'local' | 's3rver';
  codec: string;
  threads: number;
  prefetch: PrefetchStrategy;
  verification: VerificationLevel;
  target: 'checkpoint' | 'lsn';
  /** Where the WAL comes from for an LSN target. */
  wal?: 'local segments' | 'uploaded packs';
}

export interface EngineSetup {
  store: TimedStore;
  catalog: CheckpointCatalog;
  target: RecoveryTarget;
  /** Extra backend parts (the WAL, the uploads record) for LSN targets. */
  backend?: Partial<RecoveryBackend>;
  runs: number;
  fetchConcurrency?: number;
}

/** Milliseconds of each engine phase, median of the timed runs; the GET figures are the first run's. */
export interface EnginePhases {
  planMs: number;
  blocksMs: number;
  mergeMs: number;
  verifyMs: number;
  /** WAL replay into the overlay, the overlay laid over the merged state, the logical-bytes sum. */
  walPhaseMs: number;
  /** Store GETs: time with ≥ 1 in flight, summed time of all, count, bytes. */
  fetchBusyMs: number;
  fetchSumMs: number;
  gets: number;
}

export interface EngineCaseResult extends EngineCase {
  runs: number;
  usesWorkers: boolean;
  blocks: number;
  storedBytes: number;
  logicalBytes: number;
  keys: number;
  walEntries: number;
  /** Median of the plain runs. */
  wallMs: number;
  cpuMs: number;
  /** CPU time ÷ wall time: cores kept busy (all threads of the process). */
  cores: number;
  mbPerSec: number;
  storedMbPerSec: number;
  blocksPerSec: number;
  wallRunsMs: number[];
  cpuRunsMs: number[];
  /** The first run (GETs timed; includes starting the worker threads). */
  firstRunMs: number;
  /** 1-minute load average when the case started (other processes on the machine). */
  loadAverage: number;
  phases: EnginePhases;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

function phasesOf(events: { at: number; p: RecoveryProgress }[], started: number, ended: number) {
  const first = (phase: RecoveryProgress['phase']) => events.find((e) => e.p.phase === phase)?.at;
  const blocksStart = first('blocks') ?? started;
  const lastBlocks = [...events].reverse().find((e) => e.p.phase === 'blocks')?.at ?? blocksStart;
  const verify = first('verify');
  const wal = first('wal') ?? ended;
  const done = first('done') ?? ended;
  return {
    planMs: blocksStart - started,
    blocksMs: lastBlocks - blocksStart,
    mergeMs: (verify ?? wal) - lastBlocks,
    verifyMs: verify === undefined ? 0 : wal - verify,
    walPhaseMs: done - wal,
  };
}

/** One recoverTo: wall, CPU and phase times (from the progress reports); figures kept, the state let go. */
async function timedRun(engine: RecoveryEngine, setup: EngineSetup, timeGets: boolean) {
  const events: { at: number; p: RecoveryProgress }[] = [];
  setup.store.reset();
  setup.store.enabled = timeGets;
  collectGarbage();
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  try {
    const result = await engine.recoverTo(setup.target, undefined, {
      onProgress: (p) => events.push({ at: performance.now(), p }),
    });
    const ended = performance.now();
    const used = process.cpuUsage(cpuBefore);
    // The outcomes' counts: reading `records` would build an object per record the engine does not make.
    let keys = 0;
    for (const c of result.components) keys += c.keyCount ?? 0;
    return {
      stats: result.stats,
      keys,
      wallMs: ended - started,
      cpuMs: (used.user + used.system) / 1000,
      phases: phasesOf(events, started, ended),
    };
  } finally {
    setup.store.enabled = false;
  }
}

export async function runEngineCase(spec: EngineCase, setup: EngineSetup): Promise<EngineCaseResult> {
  const merger = new CheckpointMerger();
  const backend: RecoveryBackend = {
    store: setup.store,
    prefix: PREFIX,
    nodeId: NODE_ID,
    catalog: setup.catalog,
    ...setup.backend,
  };
  const engine = new RecoveryEngine(backend, merger, {
    maxParallelThreads: spec.threads,
    prefetchStrategy: spec.prefetch,
    verificationLevel: spec.verification,
    fetchConcurrency: setup.fetchConcurrency ?? 8,
  });
  const loadAverage = os.loadavg()[0]!;
  try {
    // The first run (also the warm-up: JIT, worker threads) times the store's GETs.
    const first = await timedRun(engine, setup, true);
    const fetch = { fetchBusyMs: setup.store.busyMs, fetchSumMs: setup.store.sumMs, gets: setup.store.gets };
    const { blocksRead, bytesRead, logicalBytes, walEntries } = first.stats;
    const runs: Awaited<ReturnType<typeof timedRun>>[] = [];
    for (let r = 0; r < setup.runs; r++) {
      const run = await timedRun(engine, setup, false);
      if (run.stats.logicalBytes !== logicalBytes)
        throw new Error(`${spec.name}: runs recovered different states`);
      runs.push(run);
    }
    const wallMs = median(runs.map((r) => r.wallMs));
    const cpuMs = median(runs.map((r) => r.cpuMs));
    const phase = (key: keyof ReturnType<typeof phasesOf>) => median(runs.map((r) => r.phases[key]));
    return {
      ...spec,
      runs: setup.runs,
      usesWorkers: engine.usesWorkers,
      blocks: blocksRead,
      storedBytes: bytesRead,
      logicalBytes,
      keys: first.keys,
      walEntries,
      wallMs,
      cpuMs,
      cores: cpuMs / wallMs,
      mbPerSec: logicalBytes / 1e3 / wallMs,
      storedMbPerSec: bytesRead / 1e3 / wallMs,
      blocksPerSec: (blocksRead * 1000) / wallMs,
      wallRunsMs: runs.map((r) => r.wallMs),
      cpuRunsMs: runs.map((r) => r.cpuMs),
      firstRunMs: first.wallMs,
      loadAverage,
      phases: {
        planMs: phase('planMs'),
        blocksMs: phase('blocksMs'),
        mergeMs: phase('mergeMs'),
        verifyMs: phase('verifyMs'),
        walPhaseMs: phase('walPhaseMs'),
        ...fetch,
      },
    };
  } finally {
    await engine.close();
    await merger.close();
  }
}
