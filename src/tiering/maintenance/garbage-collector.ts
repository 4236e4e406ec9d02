import type { CheckpointCatalog } from '../../checkpoint/catalog/catalog';
import type { IncrementalCheckpointSystem } from '../../checkpoint/incremental-checkpoint-system';
import { systemClock, type Clock } from '../../lib/clock';
import { silentLogger, type Logger } from '../../lib/logger';
import { blockKey, blocksPrefix, parseBlockKey, type ObjectStore } from '../../storage';

export interface GarbageCollectorOptions {
  prefix: string;
  /** A block is swept only after it has been unreferenced (or, in a full sweep, unknown) this long. */
  graceMs: number;
  /** Wall time, compared with objects' lastModified too (default: the system clock). */
  clock?: Clock;
  logger?: Logger;
}

export interface GcResult {
  deletedBlocks: number;
  /** Unreferenced blocks still inside their grace period. */
  waitingBlocks: number;
  /** Objects under blocks/ that no catalog entry knew (a full sweep's finds). */
  deletedOrphans: number;
  fullSweep: boolean;
}

/**
 * Mark and sweep of checkpoint blocks. Mark: the catalog knows every block and which committed manifests
 * name it, so the unreferenced ones are known without listing the store. Sweep: those unreferenced for at
 * least `graceMs` are forgotten by the catalog (so a writer PUTs them again if it needs them) and then
 * deleted. It runs with the checkpoint system's operations excluded, so no writer sits between "the
 * catalog has this block" and its commit; the grace period covers writers outside this process (a
 * paused former lease holder). A full sweep also LISTs blocks/ for objects no catalog entry knows (left by
 * a crash before the block was recorded) and deletes those older than the grace period — the only LIST,
 * and only when asked for.
 */
export class GarbageCollector {
  private readonly unreferencedSince = new Map<string, number>();
  private readonly logger: Logger;
  private readonly clock: Clock;

  constructor(
    private readonly system: IncrementalCheckpointSystem,
    private readonly catalog: CheckpointCatalog,
    private readonly store: ObjectStore,
    private readonly options: GarbageCollectorOptions,
  ) {
    this.logger = options.logger ?? silentLogger;
    this.clock = options.clock ?? systemClock;
  }

  collect(options: { fullSweep?: boolean; fence: () => Promise<void> }): Promise<GcResult> {
    return this.system.runExclusive(async () => {
      const now = this.clock.now();
      const unreferenced = new Set(this.catalog.unreferencedBlocks());
      for (const hash of this.unreferencedSince.keys()) {
        if (!unreferenced.has(hash)) this.unreferencedSince.delete(hash);
      }
      const due: string[] = [];
      for (const hash of unreferenced) {
        const since = this.unreferencedSince.get(hash) ?? now;
        this.unreferencedSince.set(hash, since);
        if (now - since >= this.options.graceMs) due.push(hash);
      }
      let forgotten: string[] = [];
      if (due.length > 0) {
        await options.fence();
        forgotten = await this.catalog.forgetBlocks(due);
        await this.store.delete(forgotten.map((hash) => blockKey(this.options.prefix, hash)));
      }
      for (const hash of forgotten) this.unreferencedSince.delete(hash);
      const deletedOrphans = options.fullSweep === true ? await this.sweepOrphans(now, options.fence) : 0;
      const result: GcResult = {
        deletedBlocks: forgotten.length,
        waitingBlocks: unreferenced.size - forgotten.length,
        deletedOrphans,
        fullSweep: options.fullSweep === true,
      };
      if (forgotten.length > 0 || deletedOrphans > 0) this.logger.info(result, 'garbage collected');
      return result;
    });
  }

  private async sweepOrphans(now: number, fence: () => Promise<void>): Promise<number> {
    const orphans: string[] = [];
    for await (const object of this.store.list(blocksPrefix(this.options.prefix))) {
      const hash = parseBlockKey(this.options.prefix, object.key);
      if (hash === undefined || this.catalog.hasBlock(hash)) continue;
      if (now - object.lastModified.getTime() >= this.options.graceMs) orphans.push(object.key);
    }
    if (orphans.length > 0) {
      await fence();
      await this.store.delete(orphans);
    }
    return orphans.length;
  }
}
