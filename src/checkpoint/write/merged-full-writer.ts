/**
 * A chain (full checkpoint + incrementals) merged into a new full checkpoint at the chain's LSN, over
 * sorted runs and by block: blocks of the base no delta touches are named again by reference — not read,
 * decoded or recompressed (block-reuse-plan.ts) — and only the touched stretches are read, merged with the
 * deltas' records of their territory (run-merge.ts), cut again (chunkSlices: the same content-defined
 * rule) and written. Records after a stretch's last cut are carried into the next base block so that cuts
 * fall back onto the old ones instead of leaving a small block behind each stretch.
 *
 * The base must be manifest format 2 (blocks with key ranges) and the rule last-write-wins
 * (`canMergeByBlocks`); any other chain goes through loadCheckpointState + writeFullCheckpoint. A component's key count, size and digest
 * are the chain's newest word on it (the incremental writer recorded its whole state's); the blocks
 * written must hold exactly that many records, or nothing is published (INTERNAL).
 */
import { mapLimited } from '../../lib/bounded-concurrency';
import { TidemarkError } from '../../lib/errors';
import { chunkSlices } from '../block/chunker';
import type { ComponentManifest, Manifest, ManifestBlockRef } from '../manifest/manifest';
import { planBlockReuse, type BlockKeyRange, type MergeStretch } from '../merge/block-reuse-plan';
import { RULE_LAST_WRITE_WINS } from '../merge/conflict-resolution';
import { mergeRunComponent, type RunDelta } from '../merge/run-merge';
import { pushSlice, wholeRun, type RunSlice } from '../run/run-slice';
import { runFromSlices } from '../run/run-transfer';
import { runKey, type SortedRun } from '../run/sorted-run';
import { readRunBlocks } from './block-reader';
import { BlockSink, encodeSliceBlock, type BlockRef, type BlockWriteOptions } from './block-writer';
import {
  addTotals,
  beginCheckpointWrite,
  publishCheckpoint,
  type CheckpointWriteContext,
} from './checkpoint-writer';

export interface MergedWriteContext extends CheckpointWriteContext {
  /** The merger's conflict rule (RULE_CODES). */
  rule: number;
  /** Blocks fetched at once. */
  readConcurrency?: number;
}

/** What the last merged write did, for logs and the benchmark. */
export interface MergedWriteStats {
  /** Base blocks named again without being read. */
  blocksReused: number;
  /** Base blocks read and rewritten (touched, or carried into a stretch's tail). */
  blocksRewritten: number;
}

/**
 * Can `chain` (manifests, base first) be merged by block under `rule`? Its base must name key ranges, and
 * the rule must be last-write-wins: only then is the merged state the one the chain's manifests describe
 * (the log's order decides, as a replay does), so their key counts and digests can be taken as they are.
 */
export function canMergeByBlocks(chain: readonly Manifest[], rule: number): boolean {
  const base = chain[0];
  return (
    base !== undefined && base.kind === 'full' && base.formatVersion >= 2 && rule === RULE_LAST_WRITE_WINS
  );
}

/**
 * Changes after the chain's newest checkpoint that no checkpoint holds yet (a materialiser's), merged on
 * top as one more delta: per changed component its run, its last clear, and its whole state's description.
 */
export interface UnstoredChanges {
  lsn: number;
  timestamp: number;
  components: ReadonlyMap<string, UnstoredComponentChanges>;
}

export interface UnstoredComponentChanges {
  run: SortedRun;
  clearedAt?: { lsn: number; timestamp: number };
  described: Omit<ComponentManifest, 'blocks' | 'clearedAt'>;
}

/** What a merge by block will do, worked out before anything is written. */
export interface MergedFullPlan {
  readonly chain: readonly Manifest[];
  readonly unstored: UnstoredChanges | undefined;
  readonly components: readonly ComponentPlan[];
  /** Base blocks of every component. */
  readonly baseBlocks: number;
  /** Base blocks in a stretch to rewrite (a stretch's tail may take a block or two more). */
  readonly touchedBlocks: number;
}

interface ComponentPlan {
  componentId: string;
  baseRefs: BlockRef[];
  /** Base blocks skipped whole (a clear): from here on. */
  firstBase: number;
  stretches: MergeStretch[];
  deltas: RunDelta[];
  sources: number[];
  described: Omit<ComponentManifest, 'blocks' | 'clearedAt'>;
}

/**
 * Reads the chain's deltas and plans the merge of the chain (and `unstored` changes after it, if any):
 * which blocks each component reuses and which stretches it rewrites. Writes nothing.
 */
export async function planMergedFull(
  context: MergedWriteContext,
  chain: readonly Manifest[],
  unstored?: UnstoredChanges,
): Promise<MergedFullPlan> {
  if (!canMergeByBlocks(chain, context.rule)) {
    throw new TidemarkError('INTERNAL', 'this chain cannot be merged by block (see canMergeByBlocks)');
  }
  const ids = new Set<string>();
  for (const manifest of chain)
    for (const componentId of Object.keys(manifest.components)) ids.add(componentId);
  for (const componentId of unstored?.components.keys() ?? []) ids.add(componentId);
  const components: ComponentPlan[] = [];
  let baseBlocks = 0;
  let touchedBlocks = 0;
  for (const componentId of [...ids].sort()) {
    const plan = await planComponent(context, chain, componentId, unstored?.components.get(componentId));
    components.push(plan);
    baseBlocks += plan.baseRefs.length;
    touchedBlocks += plan.firstBase;
    for (const stretch of plan.stretches) touchedBlocks += stretch.endBlock - stretch.firstBlock;
  }
  return { chain, unstored, components, baseBlocks, touchedBlocks };
}

/** Writes a planned merge as a new full checkpoint; resolves with its manifest and what it reused. */
export async function writeMergedFull(
  context: MergedWriteContext,
  plan: MergedFullPlan,
): Promise<{ manifest: Manifest; stats: MergedWriteStats }> {
  const newest = plan.chain[plan.chain.length - 1]!;
  const { started, id, totals, components } = await beginCheckpointWrite(context);
  const sink = new BlockSink(
    context.store,
    context.prefix,
    context.catalog,
    context.blocks.enableDeduplication,
  );
  const stats: MergedWriteStats = { blocksReused: 0, blocksRewritten: 0 };
  for (const component of plan.components) {
    components[component.componentId] = await writeComponent(context, component, sink, stats);
  }
  addTotals(totals, sink.totals);
  const manifest = await publishCheckpoint(context, started, totals, {
    checkpointId: id,
    kind: 'full',
    parentId: null,
    baseId: id,
    depth: 0,
    fromLsn: 0,
    lsn: plan.unstored?.lsn ?? newest.lsn,
    timestamp: Math.max(plan.unstored?.timestamp ?? 0, newest.timestamp),
    components,
  });
  return { manifest, stats };
}

/** planMergedFull, then writeMergedFull. */
export async function writeMergedFullCheckpoint(
  context: MergedWriteContext,
  chain: readonly Manifest[],
  unstored?: UnstoredChanges,
): Promise<{ manifest: Manifest; stats: MergedWriteStats }> {
  return writeMergedFull(context, await planMergedFull(context, chain, unstored));
}

async function planComponent(
  context: MergedWriteContext,
  chain: readonly Manifest[],
  componentId: string,
  unstored: UnstoredComponentChanges | undefined,
): Promise<ComponentPlan> {
  const baseRefs = (chain[0]!.components[componentId]?.blocks ?? []) as BlockRef[];
  let described: Omit<ComponentManifest, 'blocks' | 'clearedAt'> | undefined;
  const deltas: RunDelta[] = [];
  const sources: number[] = [];
  for (let k = 0; k < chain.length; k++) {
    const entry = chain[k]!.components[componentId];
    if (entry === undefined) continue;
    described = entry;
    if (k === 0) continue;
    const runs = await readRunBlocks(context.store, context.prefix, entry.blocks, context.readConcurrency);
    const run = runs.length === 1 ? runs[0]! : runFromSlices(runs.map(wholeRun));
    deltas.push(entry.clearedAt ? { run, clearedAt: entry.clearedAt } : { run });
    sources.push(k - 1);
  }
  if (unstored !== undefined) {
    const { run, clearedAt } = unstored;
    deltas.push(clearedAt ? { run, clearedAt } : { run });
    sources.push(chain.length - 1);
    described = unstored.described;
  }
  const cleared = deltas.some((delta) => delta.clearedAt !== undefined);
  // Under a clear the base loses whole (last-write-wins): its blocks are skipped, the deltas merged.
  const stretches: MergeStretch[] = cleared
    ? [
        {
          firstBlock: 0,
          endBlock: 0,
          deltaStarts: deltas.map(() => 0),
          deltaEnds: deltas.map((d) => d.run.count),
        },
      ]
    : planBlockReuse(
        baseRefs.map(keyRange),
        deltas.map((delta) => delta.run),
      );
  const firstBase = cleared ? baseRefs.length : 0;
  return { componentId, baseRefs, firstBase, stretches, deltas, sources, described: described! };
}

async function writeComponent(
  context: MergedWriteContext,
  plan: ComponentPlan,
  sink: BlockSink,
  stats: MergedWriteStats,
): Promise<ComponentManifest> {
  const { componentId } = plan;
  const blocks = await writeStretches(
    context,
    componentId,
    plan.baseRefs,
    plan.firstBase,
    plan.stretches,
    plan.deltas,
    plan.sources,
    sink,
    stats,
  );
  const { keyCount, bytes, digest } = plan.described;
  const written = blocks.reduce((sum, block) => sum + block.recordCount, 0);
  if (written !== keyCount) {
    throw new TidemarkError(
      'INTERNAL',
      `merging component ${componentId} gave ${written} records where the chain's manifests say ${keyCount}: not published`,
      { details: { componentId, written, keyCount } },
    );
  }
  return { blocks, keyCount, bytes, digest };
}

/** The component's blocks in key order: reused, or rewritten stretch by stretch. */
async function writeStretches(
  context: MergedWriteContext,
  componentId: string,
  baseRefs: readonly BlockRef[],
  firstBase: number,
  stretches: readonly MergeStretch[],
  deltas: readonly RunDelta[],
  sources: readonly number[],
  sink: BlockSink,
  stats: MergedWriteStats,
): Promise<BlockRef[]> {
  const out: BlockRef[] = [];
  let pending: RunSlice[] = [];
  let b = firstBase;
  let s = 0;
  const finished = () => b >= baseRefs.length && s >= stretches.length;
  while (!finished()) {
    const stretch = stretches[s];
    if (stretch !== undefined && (stretch.firstBlock <= b || stretch.firstBlock >= baseRefs.length)) {
      const base = await readSlices(context, baseRefs.slice(stretch.firstBlock, stretch.endBlock));
      stats.blocksRewritten += stretch.endBlock - stretch.firstBlock;
      const changes = deltas.map((delta, d) => ({
        ...delta,
        run: subRun(delta.run, stretch.deltaStarts[d]!, stretch.deltaEnds[d]!),
      }));
      for (const slice of mergeRunComponent(componentId, base, changes, context.rule, sources)) {
        pushSlice(pending, slice.run, slice.start, slice.end);
      }
      b = Math.max(b, stretch.endBlock);
      s++;
    } else if (pending.length > 0) {
      // A tail waits for its cut: the next base block joins it (the cut falls back onto the old one).
      for (const slice of await readSlices(context, [baseRefs[b]!]))
        pushSlice(pending, slice.run, slice.start, slice.end);
      stats.blocksRewritten++;
      b++;
    } else {
      out.push(sink.reuse(baseRefs[b]!));
      stats.blocksReused++;
      b++;
      continue;
    }
    pending = await writeCut(context.blocks, pending, finished(), sink, out);
  }
  return out;
}

/**
 * Writes the blocks of `pending` up to its last content-defined cut (all of it when `final`) and returns
 * the records after that cut.
 */
async function writeCut(
  options: BlockWriteOptions,
  pending: RunSlice[],
  final: boolean,
  sink: BlockSink,
  out: BlockRef[],
): Promise<RunSlice[]> {
  const { ends, tailStart } = chunkSlices(pending, options);
  const upTo = final ? ends.length : ends.findIndex((end) => end > tailStart);
  const count = upTo < 0 ? ends.length : upTo;
  const written = await mapLimited(ends.slice(0, count), options.concurrency, async (end, i) => {
    const start = i === 0 ? 0 : ends[i - 1]!;
    const slices = slicesBetween(pending, start, end);
    const first = slices[0]!;
    const last = slices[slices.length - 1]!;
    // Copies: a run handed to a worker thread is moved there.
    const firstKey = Buffer.from(runKey(first.run, first.start));
    const lastKey = Buffer.from(runKey(last.run, last.end - 1));
    return sink.put(await encodeSliceBlock(slices, options), firstKey, lastKey);
  });
  out.push(...written);
  return final ? [] : slicesBetween(pending, count === 0 ? 0 : ends[count - 1]!, totalCount(pending));
}

/** Records [from, to) of the concatenation of `slices`, as slices. */
function slicesBetween(slices: readonly RunSlice[], from: number, to: number): RunSlice[] {
  const out: RunSlice[] = [];
  let at = 0;
  for (const { run, start, end } of slices) {
    const length = end - start;
    const lo = Math.max(from, at);
    const hi = Math.min(to, at + length);
    if (lo < hi) out.push({ run, start: start + lo - at, end: start + hi - at });
    at += length;
    if (at >= to) break;
  }
  return out;
}

function totalCount(slices: readonly RunSlice[]): number {
  let count = 0;
  for (const slice of slices) count += slice.end - slice.start;
  return count;
}

async function readSlices(context: MergedWriteContext, refs: readonly BlockRef[]): Promise<RunSlice[]> {
  const runs = await readRunBlocks(context.store, context.prefix, refs, context.readConcurrency);
  return runs.filter((run) => run.count > 0).map(wholeRun);
}

function keyRange(ref: ManifestBlockRef): BlockKeyRange {
  return { firstKey: Buffer.from(ref.firstKey!, 'base64'), lastKey: Buffer.from(ref.lastKey!, 'base64') };
}

/** Records [start, end) of `run` as a run of their own: views over its columns, nothing copied. */
function subRun(run: SortedRun, start: number, end: number): SortedRun {
  if (start === 0 && end === run.count) return run;
  return {
    count: end - start,
    keyBytes: run.keyBytes,
    keyStarts: run.keyStarts.subarray(start, end + 1),
    valueBytes: run.valueBytes,
    valueStarts: run.valueStarts.subarray(start, end + 1),
    deletes: run.deletes?.subarray(start, end),
    lsns: run.lsns.subarray(start, end),
    timestamps: run.timestamps.subarray(start, end),
  };
}
