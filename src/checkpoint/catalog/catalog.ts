import { TidemarkError } from '../../lib/errors';
import { SerialQueue } from '../../lib/serial-queue';
import { manifestBlockHashes, type Manifest } from '../manifest/manifest';
import { validateManifest } from '../manifest/manifest-codec';
import { BlockSet } from './block-set';
import { type CatalogData, type CatalogFile, CATALOG_FORMAT_VERSION, corrupt } from './catalog-file';
import {
  chainOf,
  checkParentLink,
  chainsOf,
  dependentsOf,
  isRestorable,
  newestOf,
  newestRestorable,
  requireCommitted,
  type ChainSummary,
} from './catalog-chains';
import { type CheckpointSummary, summarize } from './checkpoint-summary';

export type { ChainSummary } from './catalog-chains';

export interface RemoveOptions {
  /** Remove even though committed checkpoints depend on it (their chains break). */
  force?: boolean;
}

export interface RemoveResult {
  removed: CheckpointSummary;
  /** Committed checkpoints whose chain went through it (non-empty only when forced): now unrecoverable. */
  brokenDependents: number[];
  /** Blocks no committed checkpoint names any more: candidates for garbage collection. */
  unreferencedBlocks: string[];
}

/**
 * What checkpoints and chains exist, which blocks the store holds, the checkpoint id counter and the
 * fencing token — one node's source of truth, persisted in `{dataDir}/catalog.json` (catalog-file.ts) so a
 * restart finds everything without listing the store, and rebuildable from the manifests
 * (catalog-rebuild.ts). See docs/checkpoint-catalog.md.
 *
 * Rules:
 * - Ids rise and are never reused: `nextCheckpointId` persists the new highest id before returning it.
 * - The fencing token only rises: `advanceToken` persists the new token before returning it; `commit`
 *   refuses (FENCED) a manifest written under a token below the highest seen.
 * - `commit` is called after the manifest is durable in the store (invariant 4) and is persisted before it
 *   resolves. A commit whose save fails is undone in memory and rejected.
 * - Mutations (everything async) run one at a time; queries are synchronous and see committed state.
 * - Blocks: `addBlock` (the block writer, once a block is durable) marks a block as present, with no
 *   references; a commit references the blocks its manifest names. Zero-reference blocks are GC candidates:
 *   GC calls `forgetBlocks` first (so writers PUT them again) and only then deletes them from the store.
 *   `addBlock` is saved with the next mutation (or `save()`): losing it costs a re-PUT, never data.
 */
export class CheckpointCatalog {
  private readonly file: CatalogFile | undefined;
  private readonly checkpoints = new Map<number, CheckpointSummary>();
  private readonly blocks = new BlockSet();
  private highestId = 0;
  private token = 0;
  /** Mutations, one at a time in call order. */
  private readonly queue = new SerialQueue();

  /** An empty catalog, or the one `data` describes; saved to `file` when given (else in memory only). */
  constructor(data?: CatalogData, file?: CatalogFile) {
    this.file = file;
    if (data !== undefined) this.restore(data);
  }

  /** Loads the catalog from `file`; a missing file is an empty catalog. */
  static async open(file: CatalogFile): Promise<CheckpointCatalog> {
    return new CheckpointCatalog(await file.load(), file);
  }

  get highestToken(): number {
    return this.token;
  }

  /** The highest checkpoint id ever handed out (0 when none). */
  get highestAllocatedId(): number {
    return this.highestId;
  }

  // ── ids and fencing ──────────────────────────────────────────────────────────────────────────────

  /** A new checkpoint id, above every id handed out or committed before; durable before it is returned. */
  nextCheckpointId(): Promise<number> {
    return this.queue.run(async () => {
      // Not undone when the save fails: the id is simply never handed out (a gap, never a reuse).
      this.highestId++;
      await this.persist();
      return this.highestId;
    });
  }

  /** Embedded mode: a new fencing token (on each start or takeover), durable before it is returned. */
  advanceToken(): Promise<number> {
    return this.queue.run(async () => {
      this.token++;
      await this.persist();
      return this.token;
    });
  }

  /**
   * Records a token issued elsewhere (a lease grant), durably: from now on commits under lower tokens are
   * refused. A token at or below the highest seen changes nothing.
   */
  observeToken(token: number): Promise<number> {
    return this.queue.run(async () => {
      if (!Number.isSafeInteger(token) || token < 0) {
        throw new TidemarkError('INVALID_ARGUMENT', `invalid fencing token ${String(token)}`);
      }
      if (token > this.token) {
        const before = this.token;
        this.token = token;
        try {
          await this.persist();
        } catch (error) {
          this.token = before;
          throw error;
        }
      }
      return this.token;
    });
  }

  /** Throws FENCED when `token` is below the highest seen: a writer checks before doing work. */
  checkToken(token: number): void {
    if (token < this.token) {
      throw new TidemarkError(
        'FENCED',
        `fencing token ${token} is stale: token ${this.token} has been issued since; this writer lost its lease`,
        { details: { token, highestToken: this.token } },
      );
    }
  }

  // ── commit and remove ────────────────────────────────────────────────────────────────────────────

  /**
   * Records a checkpoint whose manifest is durable in the store. Refused: a manifest that fails the codec's
   * checks; a token below the highest seen (FENCED); an id already committed or deleted
   * (PRECONDITION_FAILED); an incremental whose parent is not committed (CHECKPOINT_NOT_FOUND) or does
   * not match it — fromLsn, baseId, depth (INVALID_STATE_DATA). Nothing changes when refused.
   */
  commit(manifest: Manifest): Promise<CheckpointSummary> {
    return this.queue.run(async () => {
      const checked = validateManifest(manifest);
      this.checkAdmission(checked);
      checkParentLink(this.checkpoints, checked, true);
      const undo = this.apply(checked);
      try {
        await this.persist();
      } catch (error) {
        undo();
        throw error;
      }
      return { ...(this.checkpoints.get(checked.checkpointId) as CheckpointSummary) };
    });
  }

  /**
   * For catalog-rebuild: records a manifest read back from the store, in memory only, in id order. Fenced
   * and duplicate manifests throw as in `commit`; a missing or mismatched parent does not (the chain is
   * recorded as it is in the store) and is returned as a problem.
   */
  admitRebuilt(manifest: Manifest): string[] {
    this.checkAdmission(manifest);
    const problems = checkParentLink(this.checkpoints, manifest, false);
    this.apply(manifest);
    return problems;
  }

  /**
   * For catalog-rebuild: keeps a deletion the previous catalog recorded (in memory only), so the rebuilt
   * catalog neither forgets it nor admits that checkpoint's manifest again.
   */
  admitDeletedRecord(summary: CheckpointSummary): void {
    if (this.checkpoints.has(summary.id)) return;
    this.checkpoints.set(summary.id, { ...summary, components: [...summary.components], status: 'deleted' });
    this.highestId = Math.max(this.highestId, summary.id);
  }

  /**
   * Marks a committed checkpoint deleted and drops its block references. Refused while committed
   * checkpoints depend on it (DEPENDENT_CHECKPOINTS), unless forced. The catalog does no store I/O: the
   * caller deletes the manifest from the store AFTER this resolves (a crash in between leaves a manifest
   * the catalog calls deleted — harmless — never a committed checkpoint without a manifest).
   */
  remove(id: number, options: RemoveOptions = {}): Promise<RemoveResult> {
    return this.queue.run(async () => {
      const summary = this.require(id);
      const dependents = this.dependents(id);
      if (dependents.length > 0 && options.force !== true) {
        throw new TidemarkError(
          'DEPENDENT_CHECKPOINTS',
          `checkpoint ${id} cannot be removed: retained checkpoints depend on it (${dependents.join(', ')}); remove them first, or force`,
          { details: { checkpointId: id, dependents } },
        );
      }
      const released = this.blocks.release(id);
      this.checkpoints.set(id, { ...summary, status: 'deleted' });
      try {
        await this.persist();
      } catch (error) {
        this.checkpoints.set(id, summary);
        released.undo();
        throw error;
      }
      return {
        removed: { ...summary, status: 'deleted' },
        brokenDependents: dependents,
        unreferencedBlocks: released.unreferenced,
      };
    });
  }

  // ── queries ──────────────────────────────────────────────────────────────────────────────────────

  /** The checkpoint's summary, deleted ones included; undefined when the catalog never committed it. */
  get(id: number): CheckpointSummary | undefined {
    const summary = this.checkpoints.get(id);
    return summary === undefined ? undefined : { ...summary };
  }

  /** The committed checkpoint, or CHECKPOINT_NOT_FOUND (never committed, or deleted). */
  require(id: number): CheckpointSummary {
    return requireCommitted(this.checkpoints, id);
  }

  /** Committed checkpoints (deleted ones too with `includeDeleted`), by rising id. */
  list(options: { includeDeleted?: boolean } = {}): CheckpointSummary[] {
    return [...this.checkpoints.values()]
      .filter((s) => options.includeDeleted === true || s.status === 'committed')
      .sort((a, b) => a.id - b.id)
      .map((s) => ({ ...s }));
  }

  /**
   * What recovery to `id` reads: its full checkpoint, then each incremental down to `id`. CHECKPOINT_NOT_FOUND
   * when `id` or any link is not committed (a forced removal broke the chain).
   */
  chain(id: number): CheckpointSummary[] {
    return chainOf(this.checkpoints, id);
  }

  /**
   * Whether checkpoint `id` can be restored: it and every ancestor of its chain is committed. A forced
   * removal leaves its dependents committed but no longer restorable.
   */
  isRestorable(id: number): boolean {
    return isRestorable(this.checkpoints, id);
  }

  /** The committed checkpoint with the highest LSN (ties: the shallower, then the newer id). */
  latest(): CheckpointSummary | undefined {
    return newestOf(this.checkpoints, () => true);
  }

  /** The committed full checkpoint with the highest LSN (ties: the newer id). */
  latestFull(): CheckpointSummary | undefined {
    return newestOf(this.checkpoints, (s) => s.kind === 'full');
  }

  /** The newest committed checkpoint whose whole chain is committed: what a restart loads. */
  latestRestorable(): CheckpointSummary | undefined {
    return newestRestorable(this.checkpoints);
  }

  /** Committed checkpoints (other than `id`) whose chain includes `id`, by rising id. */
  dependents(id: number): number[] {
    return dependentsOf(this.checkpoints, id);
  }

  /** Committed checkpoints grouped by the full checkpoint at their root. */
  chains(): ChainSummary[] {
    return chainsOf(this.list());
  }

  // ── blocks ───────────────────────────────────────────────────────────────────────────────────────

  /** Whether the store holds the block (as far as this catalog knows): writers ask this, not LIST. */
  hasBlock(hash: string): boolean {
    return this.blocks.has(hash);
  }

  /** The size of the stored object of a block the store holds (as far as this catalog knows). */
  storedBytesOf(hash: string): number | undefined {
    return this.blocks.storedBytes(hash);
  }

  /**
   * Records a block that is durable in the store (no references until a manifest naming it commits).
   * INVALID_ARGUMENT for a hash that is not 64 lowercase hex digits.
   */
  addBlock(hash: string, storedBytes: number): void {
    this.blocks.add(hash, storedBytes);
  }

  /** The committed checkpoints naming the block, by rising id; undefined for an unknown block. */
  blockRefs(hash: string): number[] | undefined {
    return this.blocks.refs(hash);
  }

  get blockCount(): number {
    return this.blocks.size;
  }

  /** Known blocks no committed checkpoint names, sorted: what GC may delete (after `forgetBlocks`). */
  unreferencedBlocks(): string[] {
    return this.blocks.unreferenced();
  }

  /**
   * Forgets unreferenced blocks (GC, before deleting them from the store), persisted. Returns the hashes
   * forgotten; a block that gained a reference meanwhile is kept and not returned.
   */
  forgetBlocks(hashes: readonly string[]): Promise<string[]> {
    return this.queue.run(async () => {
      const { forgotten, undo } = this.blocks.forget(hashes);
      try {
        await this.persist();
      } catch (error) {
        undo();
        throw error;
      }
      return forgotten;
    });
  }

  // ── persistence ──────────────────────────────────────────────────────────────────────────────────

  /** Saves now (e.g. blocks added since the last mutation). A no-op for an in-memory catalog. */
  save(): Promise<void> {
    return this.queue.run(() => this.persist());
  }

  /** The whole catalog as plain data (what catalog.json holds), deterministic for equal catalogs. */
  toData(): CatalogData {
    return {
      formatVersion: CATALOG_FORMAT_VERSION,
      highestAllocatedId: this.highestId,
      highestToken: this.token,
      checkpoints: [...this.checkpoints.values()].sort((a, b) => a.id - b.id).map((s) => ({ ...s })),
      blocks: this.blocks.toData(),
    };
  }

  /**
   * Raises the id counter and token to at least these values (catalog rebuild keeps the old file's
   * counters when it can read them, so no id is reused and no token lowered).
   */
  raiseCounters(highestAllocatedId: number, highestToken: number): void {
    this.highestId = Math.max(this.highestId, highestAllocatedId);
    this.token = Math.max(this.token, highestToken);
  }

  // ── internals ────────────────────────────────────────────────────────────────────────────────────

  private checkAdmission(manifest: Manifest): void {
    this.checkToken(manifest.fencingToken);
    const existing = this.checkpoints.get(manifest.checkpointId);
    if (existing !== undefined) {
      throw new TidemarkError(
        'PRECONDITION_FAILED',
        `checkpoint ${manifest.checkpointId} is already ${existing.status}: ids are never reused`,
        { details: { checkpointId: manifest.checkpointId, status: existing.status } },
      );
    }
  }

  /** Adds the checkpoint and its block references; returns what undoes it. */
  private apply(m: Manifest): () => void {
    const id = m.checkpointId;
    const unreference = this.blocks.reference(id, manifestBlockHashes(m));
    this.checkpoints.set(id, summarize(m));
    this.highestId = Math.max(this.highestId, id);
    this.token = Math.max(this.token, m.fencingToken);
    return () => {
      this.checkpoints.delete(id);
      unreference();
      // The id counter and the token stay raised: counters never go down (a gap, never a reuse).
    };
  }

  private restore(data: CatalogData): void {
    const where = this.file?.path ?? 'catalog';
    for (const summary of data.checkpoints) {
      if (this.checkpoints.has(summary.id)) throw corrupt(where, `checkpoint ${summary.id} is listed twice`);
      this.checkpoints.set(summary.id, { ...summary, components: [...summary.components] });
    }
    const problem = this.blocks.load(data.blocks, (id) => this.checkpoints.get(id)?.status === 'committed');
    if (problem !== undefined) throw corrupt(where, problem);
    this.highestId = data.highestAllocatedId;
    for (const id of this.checkpoints.keys()) this.highestId = Math.max(this.highestId, id);
    this.token = data.highestToken;
  }

  private async persist(): Promise<void> {
    if (this.file !== undefined) await this.file.save(this.toData());
  }
}
