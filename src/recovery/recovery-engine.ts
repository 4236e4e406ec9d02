import { rebuildCatalog } from '../checkpoint/catalog/catalog-rebuild';
import type { CheckpointCatalog } from '../checkpoint/catalog/catalog';
import type { Manifest } from '../checkpoint/manifest/manifest';
import type { CheckpointMerger } from '../checkpoint/merge/checkpoint-merger';
import { RULE_CODES } from '../checkpoint/merge/conflict-resolution';
import { mergeRunComponent } from '../checkpoint/merge/run-merge';
import type { RunSlice } from '../checkpoint/run/run-slice';
import { orderedComponent, type SlicedComponent } from '../checkpoint/run/sliced-component';
import type { Snapshot } from '../checkpoint/state/state-types';
import { systemClock, type Clock } from '../lib/clock';
import { TidemarkError, invalidArgument } from '../lib/errors';
import { BlockPool } from './block-pool';
import { untilAborted } from './block-fetcher';
import { fetchChain } from './chain-fetch';
import { checkDigest } from './recovered-component';
import { planRecovery, type ResolvedPlan } from './recovery-planner';
import {
  DEFAULT_RECOVERY_CONFIG,
  type ComponentOutcome,
  type RecoveryConfig,
  type RecoveryPlan,
  type RecoveryProgress,
  type RecoveryResult,
  type RecoveryTarget,
} from './recovery-types';
import type { WalSources } from './wal-source';
import { componentsCovered, replayToTarget, type ReplayedLog } from './wal-replay';
import { completeResult } from './recovery-result';
import { HandOverQueue } from './hand-over-queue';
import { resolveRecoveryConfig } from './recovery-config';

/** Where a recovery reads from: the store (and prefix) always; the node's catalog, log and uploads record when it still has them. */
export interface RecoveryBackend extends WalSources {
  /** Without it, the catalog is rebuilt from the store's manifests (one LIST) on first use. */
  catalog?: CheckpointCatalog;
  /** The worker file of the block pool (tests running from sources point it at the build's copy). */
  workerFilename?: string;
  /** Durations, the recovery timeout and fetch timing (default: the system clock). */
  clock?: Clock;
}

/** Streaming: whole components waiting for their hand-over before fetching pauses. */
const MAX_COMPONENTS_WAITING = 2;

export interface RecoverOptions {
  signal?: AbortSignal;
  onProgress?: (progress: RecoveryProgress) => void;
  /**
   * Streams the state: each component is handed over as soon as it is whole — its blocks merged, its
   * log changes laid over, its digest checked under `full` — and then let go, so a recovery never holds
   * the whole state at once; `result.state` then holds no component. One call at a time, in the order
   * the components' blocks complete; the recovery resolves once the last call has settled, and a call
   * that rejects fails the recovery. The log is replayed first (phases: wal, blocks, done).
   */
  onComponent?: (component: SlicedComponent) => Promise<void> | void;
  /**
   * With `onComponent`: told once the log has been replayed, before the first hand-over — the cut and every
   * component the recovery covers (what a stream's header says). A call that rejects fails the recovery.
   */
  onCut?: (cut: { lsn: number; componentIds: string[] }) => Promise<void> | void;
}

/**
 * The recovery engine (the reference's RecoveryEngine): plans a path to a target — full checkpoint,
 * incremental chain, WAL — and executes it: blocks fetched in parallel with prefetch, checked and
 * decompressed on worker threads, incrementals merged, the log replayed exactly up to the target. Every
 * block is checked against its checksums and content hash; `full` verification also compares each
 * component's recomputed state digest with its manifest's. One consistent cut for all components.
 */
export class RecoveryEngine {
  readonly config: RecoveryConfig;
  private readonly pool: BlockPool;
  private readonly clock: Clock;
  private catalog: CheckpointCatalog | undefined;
  /** Bytes per ms the last recovery read at, for plan estimates. */
  private measuredBytesPerMs: number | undefined;

  constructor(
    private readonly backend: RecoveryBackend,
    private readonly merger: CheckpointMerger,
    config: Partial<RecoveryConfig> = {},
  ) {
    this.config = resolveRecoveryConfig({ ...DEFAULT_RECOVERY_CONFIG, ...config });
    this.catalog = backend.catalog;
    this.clock = backend.clock ?? systemClock;
    this.pool = new BlockPool(this.config.maxParallelThreads, backend.workerFilename);
  }

  /** Whether blocks are decoded on worker threads (false: on this thread). */
  get usesWorkers(): boolean {
    return !this.pool.inline;
  }

  async findRecoveryPath(target: RecoveryTarget, components?: readonly string[]): Promise<RecoveryPlan> {
    return (await this.resolve(target, components)).plan;
  }

  /** The state of full checkpoint `checkpointId`. */
  async recoverFromFull(checkpointId: number, components?: readonly string[], options?: RecoverOptions) {
    const summary = (await this.catalogNow()).require(checkpointId);
    if (summary.kind !== 'full') {
      throw invalidArgument(`checkpoint ${checkpointId} is incremental; use recoverFromIncrementals`, {
        checkpointId,
      });
    }
    return this.recoverTo({ checkpointId }, components, options);
  }

  /** The state of incremental `targetId`, whose chain must start at full checkpoint `baseId`. */
  async recoverFromIncrementals(
    baseId: number,
    targetId: number,
    components?: readonly string[],
    options?: RecoverOptions,
  ): Promise<RecoveryResult> {
    const chain = (await this.catalogNow()).chain(targetId);
    if (chain[0]!.id !== baseId) {
      throw invalidArgument(
        `checkpoint ${targetId} builds on full checkpoint ${chain[0]!.id}, not ${baseId}`,
        {
          baseId,
          targetId,
        },
      );
    }
    return this.recoverTo({ checkpointId: targetId }, components, options);
  }

  /** The state at `target` (a checkpoint, an LSN, or a time), for `components` (default: all). */
  async recoverTo(
    target: RecoveryTarget,
    components?: readonly string[],
    options: RecoverOptions = {},
  ): Promise<RecoveryResult> {
    const started = this.clock.monotonic();
    const abort = new AbortController();
    const onOuterAbort = () => abort.abort(options.signal?.reason);
    if (options.signal?.aborted) onOuterAbort();
    else options.signal?.addEventListener('abort', onOuterAbort, { once: true });
    const timer =
      this.config.recoveryTimeout > 0
        ? this.clock.setTimeout(
            () =>
              abort.abort(
                new TidemarkError(
                  'TIMEOUT',
                  `recovery did not finish within ${this.config.recoveryTimeout} ms`,
                ),
              ),
            this.config.recoveryTimeout,
          )
        : undefined;
    try {
      // Raced with the signal: a store call that hangs (they take no signal) cannot hold the abort off. The
      // work left behind stops at its next signal check; its own failure is dropped.
      const work = this.resolve(target, components).then((resolved) =>
        this.execute(resolved, components, abort.signal, options),
      );
      const result = await untilAborted(work, abort.signal);
      const durationMs = this.clock.monotonic() - started;
      result.stats.durationMs = durationMs;
      if (result.stats.bytesRead > 0 && durationMs > 0)
        this.measuredBytesPerMs = result.stats.bytesRead / durationMs;
      return result;
    } catch (error) {
      if (abort.signal.aborted && abort.signal.reason instanceof TidemarkError) throw abort.signal.reason;
      throw error;
    } finally {
      timer?.cancel();
      options.signal?.removeEventListener('abort', onOuterAbort);
      // Work left behind by an abort stops at its next check of the (now aborted) signal.
      abort.abort(new TidemarkError('CLOSED', 'the recovery ended'));
    }
  }

  /** Ends the worker threads. */
  close(): Promise<void> {
    return this.pool.close();
  }

  private async catalogNow(): Promise<CheckpointCatalog> {
    this.catalog ??= (await rebuildCatalog(this.backend.store, this.backend.prefix)).catalog;
    return this.catalog;
  }

  private async resolve(target: RecoveryTarget, components?: readonly string[]): Promise<ResolvedPlan> {
    if (
      components !== undefined &&
      (!Array.isArray(components) || components.some((c) => typeof c !== 'string' || c === ''))
    ) {
      throw invalidArgument('components must be a list of component ids');
    }
    return planRecovery(await this.catalogNow(), this.backend, target, components, this.measuredBytesPerMs);
  }

  private async execute(
    resolved: ResolvedPlan,
    components: readonly string[] | undefined,
    signal: AbortSignal,
    { onProgress, onComponent, onCut }: RecoverOptions,
  ): Promise<RecoveryResult> {
    const { plan, manifests } = resolved;
    const wanted = components ? new Set(components) : undefined;
    const ids = componentIds(manifests, wanted);
    const progress: RecoveryProgress = {
      phase: onComponent === undefined ? 'blocks' : 'wal',
      blocksDone: 0,
      blocksTotal: plan.checkpoints.reduce((sum, c) => sum + c.blocks, 0),
      bytesDone: 0,
      // What the blocks phase counts: every block fetched, as bytesDone does (plan.bytes also counts the
      // WAL, and a block shared by two links once).
      bytesTotal: plan.checkpoints.reduce((sum, c) => sum + c.blockBytes, 0),
      componentsDone: 0,
      componentsTotal: ids.length,
    };
    // Work left behind by an abort (recoverTo has rejected) reports nothing more.
    const report = () => {
      if (!signal.aborted) onProgress?.({ ...progress });
    };
    report();
    const fetchOptions = {
      // Streaming: the lanes pause while hand-overs are behind, and stop when one failed.
      gate: () => handOvers?.gate(),
      store: this.backend.store,
      prefix: this.backend.prefix,
      pool: this.pool,
      strategy: this.config.prefetchStrategy,
      concurrency: this.config.fetchConcurrency,
      signal,
      adaptive: { lanes: 2 },
      clock: this.clock,
      // The crc32c of the stored and the raw bytes catch corruption at every level; the sha256 of the
      // name (a block under another's name) is the full level's.
      checkHash: this.config.verificationLevel === 'full',
      onBlock: (bytes: number) => {
        progress.blocksDone++;
        progress.bytesDone += bytes;
        report();
      },
    };

    const outcomes = new Map<string, ComponentOutcome>();
    // The checkpoint restored: the chain's newest link (its full checkpoint merged with its incrementals).
    const restored = manifests.at(-1)?.checkpointId;
    const finalState: Snapshot = { lsn: 0, components: new Map() };
    let logicalBytes = 0;
    // Streaming: the log first, so that each component can be finished as its last block arrives.
    let replayed: ReplayedLog | undefined;
    if (onComponent !== undefined) {
      progress.phase = 'wal';
      report();
      replayed = await replayToTarget(this.backend, resolved, wanted, outcomes, signal);
      await onCut?.({ lsn: replayed.cut, componentIds: componentsCovered(ids, replayed, wanted) });
      progress.phase = 'blocks';
      report();
    }
    const handOvers =
      onComponent === undefined ? undefined : new HandOverQueue(onComponent, signal, MAX_COMPONENTS_WAITING);
    const finish = (id: string, slices: readonly RunSlice[], log: NonNullable<typeof replayed>) => {
      const component = orderedComponent(id, log.overlay.applyToSlices(id, slices));
      logicalBytes += component.bytes;
      outcomes.set(id, {
        ...(outcomes.get(id) ?? { componentId: id }),
        keyCount: component.keyCount,
        bytes: component.bytes,
        walEntriesApplied: log.perComponent.get(id) ?? 0,
      });
      return component;
    };
    const handOver = (id: string, slices: readonly RunSlice[]) => {
      if (handOvers!.ended) return;
      try {
        if (this.config.verificationLevel === 'full') checkDigest(id, slices, manifests);
        handOvers!.push(finish(id, slices, replayed!));
      } catch (error) {
        this.failComponent(id, error, outcomes, state, signal);
      }
    };
    // Each component as run slices: its blocks' runs, the incrementals laid over them as soon as its last
    // block arrives (merge over runs: untouched stretches stay slices of the blocks, nothing is copied;
    // it runs here while the workers decode the next components' blocks), later the log's changes.
    const state = new Map<string, readonly RunSlice[]>();
    const rule = RULE_CODES[this.merger.config.conflictResolution];
    let failed: Map<string, unknown>;
    try {
      failed = await fetchChain(
        manifests,
        ids,
        fetchOptions,
        this.config.optimisticRecovery,
        (id, fetched) => {
          progress.componentsDone++;
          report();
          if (fetched === undefined) return;
          outcomes.set(id, { componentId: id, fromCheckpoint: restored });
          const changes = fetched.deltas.flatMap((delta) => delta ?? []);
          const sources = fetched.deltas.flatMap((delta, i) => (delta ? [i] : []));
          const slices =
            changes.length === 0 ? fetched.base : mergeRunComponent(id, fetched.base, changes, rule, sources);
          if (onComponent === undefined) state.set(id, slices);
          else handOver(id, slices);
        },
      );
    } catch (error) {
      // The hand-over under way settles before the recovery rejects (nothing is written after it has
      // ended); those not begun are dropped.
      await handOvers?.stop();
      throw error;
    }
    if (replayed !== undefined) {
      try {
        for (const [id, error] of failed) this.failComponent(id, error, outcomes, state, signal);
        // Components the log created after the checkpoint, then the last hand-over.
        for (const id of [...replayed.overlay.componentIds()].sort()) {
          if ((wanted && !wanted.has(id)) || outcomes.has(id)) continue;
          handOver(id, []);
        }
      } catch (error) {
        await handOvers!.stop();
        throw error;
      }
      await handOvers!.drain();
      return completeResult({
        plan,
        cut: replayed.cut,
        state: finalState,
        outcomes,
        wanted,
        progress,
        logicalBytes,
        walEntries: replayed.total,
        verificationLevel: this.config.verificationLevel,
        report,
      });
    }
    for (const [id, error] of failed) this.failComponent(id, error, outcomes, state, signal);

    if (this.config.verificationLevel === 'full') {
      progress.phase = 'verify';
      report();
      for (const id of [...state.keys()]) {
        try {
          checkDigest(id, state.get(id)!, manifests);
        } catch (error) {
          this.failComponent(id, error, outcomes, state, signal);
        }
      }
    }

    progress.phase = 'wal';
    report();
    const log = await replayToTarget(this.backend, resolved, wanted, outcomes, signal);
    const recovered = new Set([...state.keys(), ...log.overlay.componentIds()]);
    for (const id of [...recovered].sort()) {
      if ((wanted && !wanted.has(id)) || outcomes.get(id)?.error) continue;
      try {
        finalState.components.set(id, finish(id, state.get(id) ?? [], log));
      } catch (error) {
        this.failComponent(id, error, outcomes, finalState.components, signal);
      }
    }
    return completeResult({
      plan,
      cut: log.cut,
      state: finalState,
      outcomes,
      wanted,
      progress,
      logicalBytes,
      walEntries: log.total,
      verificationLevel: this.config.verificationLevel,
      report,
    });
  }

  private failComponent(
    id: string,
    error: unknown,
    outcomes: Map<string, ComponentOutcome>,
    state: Map<string, unknown>,
    signal: AbortSignal,
  ): void {
    if (signal.aborted || !this.config.optimisticRecovery) throw error;
    const described =
      error instanceof TidemarkError
        ? { code: error.code, message: error.message }
        : { code: 'INTERNAL', message: String(error) };
    outcomes.set(id, { componentId: id, error: described });
    state.delete(id);
  }
}

function componentIds(manifests: readonly Manifest[], wanted: ReadonlySet<string> | undefined): string[] {
  const ids = new Set<string>();
  for (const manifest of manifests) for (const id of Object.keys(manifest.components)) ids.add(id);
  return [...ids].filter((id) => !wanted || wanted.has(id)).sort();
}
