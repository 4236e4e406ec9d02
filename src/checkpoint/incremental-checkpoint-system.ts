import { systemClock, type Clock, type Timer } from '../lib/clock';
import { TidemarkError, invalidArgument } from '../lib/errors';
import { silentLogger, type Logger } from '../lib/logger';
import { SerialQueue } from '../lib/serial-queue';
import { manifestKey, type ObjectStore } from '../storage';
import type { SegmentedWal } from '../wal';
import type { BlockDecoder } from './block/block-decoder';
import type { BlockEncoder } from './block/block-encoder';
import type { CheckpointCatalog } from './catalog/catalog';
import { CheckpointPins } from './catalog/checkpoint-pins';
import type { CheckpointListing, CheckpointSummary } from './catalog/checkpoint-summary';
import { resolveSystemConfig, type CheckpointSystemConfig } from './checkpoint-system-config';
import type { CheckpointMerger } from './merge/checkpoint-merger';
import { StateMaterializer } from './state/state-materializer';
import type { Snapshot } from './state/state-types';
import { loadCheckpointState, type CheckpointReadContext } from './write/checkpoint-reader';
import { adoptPublishedManifests } from './write/published-manifests';
import { writeIncrementalCheckpoint, type CheckpointWriteContext } from './write/checkpoint-writer';
import { mergeChainIntoFull, writeFullFromState, type FullWriteDeps } from './write/full-checkpoint-writes';

export type CheckpointKindRequest = 'full' | 'incremental' | 'auto';

export interface CheckpointSystemDeps {
  wal: SegmentedWal;
  store: ObjectStore;
  catalog: CheckpointCatalog;
  merger: CheckpointMerger;
  /** Where blocks are encoded and compressed (default: the calling thread). Its owner closes it. */
  encoder?: BlockEncoder;
  /** Where blocks read back (the state loaded at open) are checked and decoded (default: the calling thread). */
  decoder?: BlockDecoder;
  logger?: Logger;
  /** Periodic timers, manifests' createdAt and write durations (default: the system clock). */
  clock?: Clock;
}

/**
 * Wires the WAL, the state materialiser, the merger, the catalog and the store for one node: on open it
 * takes a new fencing token, rebuilds the state from the newest checkpoint plus the WAL after it, and
 * from then on turns the log into checkpoints — on demand, periodically, and merging long chains.
 * One operation at a time: checkpoints, chain merges and deletions are serialised.
 */
export class IncrementalCheckpointSystem {
  private readonly timers: Timer[] = [];
  private readonly committedListeners: ((summary: CheckpointSummary) => void)[] = [];
  /** Checkpoints, chain merges, deletions, lease adoptions and exclusive work: one at a time. */
  private readonly queue = new SerialQueue();
  /** Timestamp (µs) of the newest entry applied. */
  private newestTimestamp = 0;
  /** Checkpoints others still need: retention keeps them, `delete` refuses them unless forced. */
  readonly pins = new CheckpointPins();

  private constructor(
    private readonly deps: CheckpointSystemDeps & { logger: Logger; clock: Clock },
    readonly config: CheckpointSystemConfig,
    private readonly materializer: StateMaterializer,
    private fencingToken: number,
  ) {}

  /** What checks, right before each manifest, that this node still holds its lease (adoptLease). */
  private fence: (() => Promise<void>) | undefined;

  static async open(
    deps: CheckpointSystemDeps,
    config: Partial<CheckpointSystemConfig> = {},
  ): Promise<IncrementalCheckpointSystem> {
    const settings = resolveSystemConfig(config);
    const logger = deps.logger ?? silentLogger;
    // Adopt first: an orphan manifest of the previous run carries the token that run held, which the
    // new token would fence.
    await adoptPublishedManifests(deps, settings.prefix, logger);
    const fencingToken = await deps.catalog.advanceToken();
    const latest = deps.catalog.latestRestorable();
    const readContext: CheckpointReadContext = { ...deps, prefix: settings.prefix };
    const materializer = latest
      ? StateMaterializer.fromSnapshot(await loadCheckpointState(readContext, latest.id), { adopt: true })
      : new StateMaterializer();
    const clock = deps.clock ?? systemClock;
    const system = new IncrementalCheckpointSystem(
      { ...deps, logger, clock },
      settings,
      materializer,
      fencingToken,
    );
    system.newestTimestamp = latest?.timestamp ?? 0;
    await system.catchUp();
    logger.info(
      { fromCheckpoint: latest?.id, lsn: materializer.lsn, fencingToken },
      'checkpoint system opened',
    );
    return system;
  }

  /** Applies the WAL records written since the materialised state. */
  private async catchUp(): Promise<void> {
    const from = this.materializer.lsn + 1;
    const { firstLsn } = this.deps.wal.stats();
    if (firstLsn > from && this.deps.wal.stats().lastLsn >= from) {
      throw new TidemarkError(
        'INVALID_STATE_DATA',
        `the state needs the WAL from LSN ${from}, but the local log starts at ${firstLsn}`,
        { details: { from, firstLsn } },
      );
    }
    // Transient frames: the materialiser copies what it keeps.
    for await (const frame of this.deps.wal.readFrames({ fromLsn: from }, { transient: true })) {
      const newest = this.materializer.applyFrame(frame);
      if (newest > this.newestTimestamp) this.newestTimestamp = newest;
    }
  }

  /**
   * Runs `work` with no checkpoint, merge or deletion in progress (garbage collection needs that: a writer
   * between "the catalog has this block" and its commit must not see the block swept).
   */
  runExclusive<T>(work: () => Promise<T>): Promise<T> {
    return this.queue.run(work);
  }

  /** The fencing token writes carry now (it only rises). */
  get currentFencingToken(): number {
    return this.fencingToken;
  }

  /**
   * A lease was granted with `token`: once the operation in progress has finished, the catalog records the
   * token (durably) and writes from then on carry it and run `fence` right before publishing. A write of an
   * earlier tenure can thus never be fenced by this node's own new grant — only by another holder's.
   */
  adoptLease(token: number, fence?: () => Promise<void>): Promise<void> {
    return this.queue.run(async () => {
      if (token < this.fencingToken) {
        throw new TidemarkError(
          'FENCED',
          `lease token ${token} is below the token ${this.fencingToken} this node writes with`,
          { details: { token, current: this.fencingToken } },
        );
      }
      await this.deps.catalog.observeToken(token);
      this.fencingToken = token;
      this.fence = fence;
    });
  }

  private writeContext(): CheckpointWriteContext {
    return {
      store: this.deps.store,
      prefix: this.config.prefix,
      catalog: this.deps.catalog,
      nodeId: this.config.nodeId,
      fencingToken: this.fencingToken,
      fence: this.fence,
      codec: this.config.codec,
      clock: this.deps.clock,
      blocks: {
        codec: this.config.codec,
        compressionThreshold: this.config.compressionThreshold,
        targetSize: this.config.targetBlockSize,
        enableDeduplication: this.config.enableDeduplication,
        concurrency: this.config.blockConcurrency,
        encoder: this.deps.encoder,
      },
    };
  }

  /**
   * Takes a checkpoint of everything in the WAL so far. `auto`: full when there is none yet or the newest
   * chain has `maxIncrementalChainLength` incrementals, else incremental. Resolves with its summary.
   */
  checkpoint(options: { kind?: CheckpointKindRequest } = {}): Promise<CheckpointListing> {
    const kind = options.kind ?? 'auto';
    if (kind !== 'full' && kind !== 'incremental' && kind !== 'auto') {
      return Promise.reject(
        invalidArgument(`checkpoint kind must be full, incremental or auto, got ${String(kind)}`),
      );
    }
    return this.queue.run(() => this.takeCheckpoint(kind));
  }

  /** Runs in the queue. */
  private async takeCheckpoint(kind: CheckpointKindRequest): Promise<CheckpointListing> {
    await this.catchUp();
    const parent = this.deps.catalog.latestRestorable();
    const full =
      kind === 'full' ||
      !parent ||
      (kind === 'auto' && parent.depth >= this.config.maxIncrementalChainLength);
    const context = this.writeContext();
    const manifest = full
      ? await writeFullFromState(
          this.fullWriteDeps(),
          context,
          parent,
          this.materializer,
          this.newestTimestamp,
        )
      : await this.writeIncremental(context, parent!);
    this.materializer.forgetBefore(manifest.lsn);
    const summary = this.deps.catalog.require(manifest.checkpointId);
    for (const listener of this.committedListeners) {
      try {
        listener(summary);
      } catch (error) {
        this.deps.logger.error({ err: error }, 'checkpoint-committed listener failed');
      }
    }
    this.deps.logger.info(
      {
        checkpointId: manifest.checkpointId,
        kind: manifest.kind,
        lsn: manifest.lsn,
        stats: manifest.stats,
      },
      'checkpoint committed',
    );
    return this.get(manifest.checkpointId);
  }

  /**
   * What the periodic timer runs: an `auto` checkpoint, skipped (undefined) when no entry arrived since
   * the newest restorable checkpoint — an idle node does not pile up empty checkpoints. An explicit
   * `checkpoint()` always takes one.
   */
  periodicCheckpoint(): Promise<CheckpointListing | undefined> {
    return this.queue.run(async () => {
      await this.catchUp();
      const newest = this.deps.catalog.latestRestorable();
      return this.materializer.lsn === (newest?.lsn ?? 0) ? undefined : this.takeCheckpoint('auto');
    });
  }

  /**
   * A cluster barrier's cut: the state as of every entry appended so far, as a committed checkpoint — a
   * new one, or the newest restorable one when no entry arrived since (an idle node acknowledges barrier
   * after barrier without piling up empty checkpoints).
   */
  checkpointForBarrier(): Promise<CheckpointListing> {
    return this.queue.run(async () => {
      await this.catchUp();
      const newest = this.deps.catalog.latestRestorable();
      if (newest !== undefined && this.materializer.lsn === newest.lsn) return this.get(newest.id);
      return this.takeCheckpoint('auto');
    });
  }

  private fullWriteDeps(): FullWriteDeps {
    return { ...this.deps, prefix: this.config.prefix };
  }

  private async writeIncremental(context: CheckpointWriteContext, parent: CheckpointSummary) {
    const delta = this.deps.merger.createIncremental(parent.id, this.materializer.deltaSince(parent.lsn), {
      fromLsn: parent.lsn,
      toLsn: this.materializer.lsn,
    });
    const changed = [...delta.delta.components.keys()];
    const state = this.materializer.snapshot(changed);
    // The merger's settings decide how deltas are stored: compressed or not, above which size, deduplicated.
    const blocks = {
      ...context.blocks,
      codec: delta.blocks.compress ? context.blocks.codec : ('none' as const),
      compressionThreshold: delta.blocks.compressionThreshold,
      enableDeduplication: delta.blocks.deduplicate,
    };
    return writeIncrementalCheckpoint(
      { ...context, blocks },
      parent,
      delta.delta,
      state,
      this.newestTimestamp,
    );
  }

  /**
   * Chain optimisation: when the newest chain has more incrementals than the merger's maxChainLength,
   * merges it into a new full checkpoint at the same LSN. Resolves with it, or undefined when not needed.
   */
  optimizeChains(): Promise<CheckpointSummary | undefined> {
    return this.queue.run(async () => {
      const latest = this.deps.catalog.latestRestorable();
      if (!latest || !this.deps.merger.needsCompaction(latest.depth)) return undefined;
      const manifest = await mergeChainIntoFull(this.fullWriteDeps(), this.writeContext(), latest);
      return this.deps.catalog.require(manifest.checkpointId);
    });
  }

  /** The state at checkpoint `id` (its chain merged), read from the store. */
  loadCheckpoint(id: number, componentIds?: readonly string[]): Promise<Snapshot> {
    return loadCheckpointState({ ...this.deps, prefix: this.config.prefix }, id, componentIds);
  }

  /** The materialised state as of the last WAL record applied. */
  async currentState(componentIds?: readonly string[]): Promise<Snapshot> {
    return this.queue.run(async () => {
      await this.catchUp();
      return this.materializer.snapshot(componentIds);
    });
  }

  /** Committed checkpoints by rising id, each saying whether it can be restored now. */
  list(): CheckpointListing[] {
    return this.deps.catalog.list().map((summary) => this.listing(summary));
  }

  get(id: number): CheckpointListing {
    return this.listing(this.deps.catalog.require(id));
  }

  private listing(summary: CheckpointSummary): CheckpointListing {
    return { ...summary, restorable: this.deps.catalog.isRestorable(summary.id) };
  }

  /**
   * Deletes a checkpoint: refused while a retained checkpoint depends on it unless forced. The catalog
   * forgets it first, then its manifest leaves the store; its blocks are left for garbage collection.
   */
  delete(id: number, options: { force?: boolean } = {}) {
    return this.queue.run(async () => {
      if (options.force !== true && this.deps.catalog.latestRestorable()?.id === id) {
        // The WAL before it may be gone already: without it a restart could not rebuild the state.
        throw new TidemarkError(
          'DEPENDENT_CHECKPOINTS',
          `checkpoint ${id} is the newest restorable one: the node restarts from it and the local WAL ` +
            'before it may already be deleted; take a newer checkpoint first, or force',
          { details: { checkpointId: id } },
        );
      }
      const pinnedBy = this.pins.all().get(id);
      if (options.force !== true && pinnedBy !== undefined) {
        throw new TidemarkError(
          'DEPENDENT_CHECKPOINTS',
          `checkpoint ${id} is pinned by ${pinnedBy}: it stays while that needs it, unless forced`,
          { details: { checkpointId: id, pinnedBy } },
        );
      }
      // A deletion is a commit too: a writer that lost its lease must not delete.
      this.deps.catalog.checkToken(this.fencingToken);
      await this.fence?.();
      const result = await this.deps.catalog.remove(id, options);
      await this.deps.store.delete([manifestKey(this.config.prefix, id)]);
      return result;
    });
  }

  /** Calls `listener` after each checkpoint is committed (the service runs WAL cleanup then). */
  onCheckpointCommitted(listener: (summary: CheckpointSummary) => void): void {
    this.committedListeners.push(listener);
  }

  /** Starts periodic checkpoints and chain optimisation (timers do not keep the process alive). */
  start(): void {
    const every = (ms: number, what: string, work: () => Promise<unknown>) => {
      if (ms <= 0) return;
      const timer = this.deps.clock.setInterval(() => {
        work().catch((error: unknown) => this.deps.logger.error({ err: error }, `${what} failed`));
      }, ms);
      this.timers.push(timer.unref());
    };
    every(this.config.checkpointInterval, 'periodic checkpoint', () => this.periodicCheckpoint());
    every(this.config.cleanupInterval, 'chain optimisation', () => this.optimizeChains());
  }

  /** No periodic checkpoint or chain optimisation starts from now on (the first step of a shutdown). */
  stopTimers(): void {
    for (const timer of this.timers.splice(0)) timer.cancel();
  }

  /** Stops the timers and waits for the operation in progress. */
  async stop(): Promise<void> {
    this.stopTimers();
    await this.queue.idle();
  }
}
