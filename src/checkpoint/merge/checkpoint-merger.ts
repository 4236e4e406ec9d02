/**
 * The reference's checkpoint merger: merges a base snapshot with incremental deltas into a full snapshot
 * (`mergeIncrementals`) and describes a new incremental checkpoint (`createIncremental`).
 *
 * Rules: conflict-resolution.ts. Accepted LSN ranges: merge-validation.ts. Strategies: merge-plan.ts.
 * Worker threads: merge-pool.ts, merge-worker.ts, merge-wire.ts. Overview: docs/checkpoint-merge.md.
 *
 * The result shares record objects, Buffers and untouched components' record arrays with the inputs:
 * treat snapshots as immutable. Call close() when done with a merger that used the `optimal` strategy.
 */
import type { ComponentDelta, ComponentSnapshot, Delta, Snapshot } from '../state/state-types';
import { RULE_CODES } from './conflict-resolution';
import { planIncremental, type IncrementalPlan, type WalRange } from './incremental-plan';
import { applyResolved, mergeComponent, throwIfUnsorted } from './merge-component';
import { collectJobs, jobWeight, pruneJob, type ComponentJob } from './merge-plan';
import { DEFAULT_WORKER_FILENAME, MergePool } from './merge-pool';
import { validateDeltas, validateSnapshot } from './merge-validation';
import { encodeDeltaKeys } from './merge-wire';
import { resolveMergerConfig, type MergerConfig } from './merger-config';

/** Components with fewer delta records than this merge inline even under `optimal`. */
export const DEFAULT_INLINE_THRESHOLD = 16_384;

export interface CheckpointMergerOptions {
  /** The worker script (default: merge-worker.js beside this module, i.e. in a build). See merge-pool.ts. */
  workerFilename?: string;
  /** `optimal`: components with fewer delta records merge on the calling thread. 0 sends all to workers. */
  inlineThreshold?: number;
}

/** What the last mergeIncrementals did (for logs, metrics and tests; not for correctness). */
export interface MergeStats {
  strategy: MergerConfig['mergeStrategy'];
  components: number;
  /** Components returned as they were in the base (no delta touched them). */
  passedThrough: number;
  mergedInline: number;
  mergedInWorkers: number;
  /** Deltas the `optimal` plan dropped from components because they could not win. */
  prunedDeltas: number;
  /** `optimal` wanted workers but the worker file was missing: merged inline instead. */
  workerUnavailable: boolean;
  records: number;
}

export class CheckpointMerger {
  readonly config: MergerConfig;
  private readonly rule: number;
  private readonly workerFilename: string;
  private readonly inlineThreshold: number;
  private pool: MergePool | undefined;
  private workerMissing: boolean | undefined;
  private stats: MergeStats | undefined;

  constructor(config: Partial<MergerConfig> = {}, options: CheckpointMergerOptions = {}) {
    this.config = resolveMergerConfig(config);
    this.rule = RULE_CODES[this.config.conflictResolution];
    this.workerFilename = options.workerFilename ?? DEFAULT_WORKER_FILENAME;
    this.inlineThreshold = Math.max(0, options.inlineThreshold ?? DEFAULT_INLINE_THRESHOLD);
  }

  get lastMergeStats(): MergeStats | undefined {
    return this.stats;
  }

  /** Should a chain of `chainLength` incrementals be merged into a new full checkpoint? */
  needsCompaction(chainLength: number): boolean {
    return chainLength > this.config.maxChainLength;
  }

  /**
   * `base` with `incrementals` applied, under the configured rule. The deltas form a linear chain from
   * the base or a tree of branches (merge-validation.ts); the result's LSN is the highest toLsn. Every
   * component of the base or of any delta is in the result, possibly with no records.
   */
  async mergeIncrementals(base: Snapshot, incrementals: Delta[]): Promise<Snapshot> {
    validateSnapshot(base);
    validateDeltas(base, incrementals);
    let lsn = base.lsn;
    for (const delta of incrementals) lsn = Math.max(lsn, delta.toLsn);

    const jobs = collectJobs(base, incrementals);
    const stats: MergeStats = {
      strategy: this.config.mergeStrategy,
      components: jobs.length,
      passedThrough: 0,
      mergedInline: 0,
      mergedInWorkers: 0,
      prunedDeltas: 0,
      workerUnavailable: false,
      records: 0,
    };
    const merged =
      this.config.mergeStrategy === 'sequential'
        ? this.mergeSequential(jobs, stats)
        : await this.mergeOptimal(jobs, incrementals, stats);

    const components = new Map<string, ComponentSnapshot>();
    for (const component of merged) {
      components.set(component.componentId, component);
      stats.records += component.records.length;
    }
    this.stats = stats;
    return { lsn, components };
  }

  /**
   * Describe the incremental checkpoint whose parent is `baseCheckpointId` and which covers `walRange`:
   * the changes normalised (sorted by key, one change per key, records older than a clear folded into
   * it; components that changed nothing left out) and the block settings the writer should use.
   */
  createIncremental(
    baseCheckpointId: number,
    componentChanges: Map<string, ComponentDelta> | Delta,
    walRange: WalRange,
  ): IncrementalPlan {
    return planIncremental(baseCheckpointId, componentChanges, walRange, this.config);
  }

  /** Stop the worker threads, if any ran. The merger stays usable (a later merge starts them again). */
  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    if (pool !== undefined) await pool.close();
  }

  private mergeSequential(jobs: ComponentJob[], stats: MergeStats): ComponentSnapshot[] {
    return jobs.map((job) => {
      if (job.deltas.length === 0) stats.passedThrough++;
      else stats.mergedInline++;
      return mergeComponent(job.componentId, job.base, job.deltas, this.rule, job.sources);
    });
  }

  private async mergeOptimal(
    jobs: ComponentJob[],
    incrementals: readonly Delta[],
    stats: MergeStats,
  ): Promise<ComponentSnapshot[]> {
    const out = new Array<ComponentSnapshot>(jobs.length);
    const heavy: number[] = [];
    const weights = new Float64Array(jobs.length);
    for (let j = 0; j < jobs.length; j++) {
      const job = jobs[j];
      if (job.deltas.length === 0) {
        out[j] = { componentId: job.componentId, records: job.base?.records ?? [] };
        stats.passedThrough++;
        continue;
      }
      stats.prunedDeltas += pruneJob(job, incrementals, this.rule);
      weights[j] = jobWeight(job);
      if (weights[j] >= this.inlineThreshold && weights[j] > 0) heavy.push(j);
    }
    const pool = heavy.length > 0 ? this.workerPool(stats) : undefined;
    const inWorkers = new Set<number>();
    const pending: Promise<void>[] = [];
    if (pool !== undefined) {
      heavy.sort((a, b) => weights[b] - weights[a]);
      for (const j of heavy) {
        const job = jobs[j];
        inWorkers.add(j);
        const input = encodeDeltaKeys(job.deltas, job.sources, this.rule);
        pending.push(
          pool.run(input).then((resolved) => {
            throwIfUnsorted(job.componentId, resolved, job.sources);
            const records = applyResolved(
              job.base?.records ?? [],
              job.deltas,
              job.sources,
              resolved,
              this.rule,
            );
            out[j] = { componentId: job.componentId, records };
          }),
        );
      }
      stats.mergedInWorkers = heavy.length;
    }
    try {
      for (let j = 0; j < jobs.length; j++) {
        if (out[j] !== undefined || inWorkers.has(j)) continue;
        const job = jobs[j];
        out[j] = mergeComponent(job.componentId, job.base, job.deltas, this.rule, job.sources);
        stats.mergedInline++;
      }
    } catch (error) {
      await Promise.allSettled(pending);
      throw error;
    }
    await Promise.all(pending);
    return out;
  }

  private workerPool(stats: MergeStats): MergePool | undefined {
    if (this.workerMissing === undefined) this.workerMissing = !MergePool.workerExists(this.workerFilename);
    if (this.workerMissing) {
      stats.workerUnavailable = true;
      return undefined;
    }
    this.pool ??= new MergePool(this.workerFilename, this.config.parallelThreads);
    return this.pool;
  }
}
