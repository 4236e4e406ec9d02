import { CheckpointMerger } from '../../checkpoint/merge/checkpoint-merger';
import { systemClock } from '../../lib/clock';
import { invalidArgument } from '../../lib/errors';
import { assertValidKey } from '../../storage';
import { BlockPool } from '../block-pool';
import { checkBlocks, indexBlocks } from './verify-blocks';
import { checkDigests } from './verify-digests';
import { loadCheckpoints, propagateChainFaults } from './verify-manifests';
import type {
  VerificationLevel,
  VerificationReport,
  VerificationTotals,
  VerifyOptions,
  VerifyProgress,
  VerifySource,
} from './verify-report';
import { checkWal } from './verify-wal';

export const VERIFICATION_LEVELS: readonly VerificationLevel[] = ['basic', 'standard', 'full'];
const DEFAULT_CONCURRENCY = 8;
/** WAL packs are read whole (up to a segment's 64 MiB each): at most this many at once. */
const PACK_CONCURRENCY = 2;

/**
 * Verifies what a store holds (the reference's checkpoint_verify), at one of three levels, each adding
 * to the one before:
 * - basic: every manifest decodes strictly; chain links hold (parent present, fromLsn = parent's LSN,
 *   baseId and depth follow on: CHECKPOINT_NOT_FOUND for a missing link); every named block exists with
 *   the manifest's stored size (one HEAD per distinct block); the WAL packs' keys parse and leave no
 *   LSN hole (from the listing alone).
 * - standard: every block read and checked whole (checksums, decompression, content hash, record
 *   count); every WAL pack read and split into its segments.
 * - full: each checkpoint's state rebuilt (incrementals merged onto their parent's) and every listed
 *   component's digest, key count and bytes compared with its manifest; every WAL frame checked and
 *   each pack's LSNs matched with its key.
 * Faults are collected, never thrown: the report says per checkpoint and per pack what is wrong. It
 * rejects only when the store cannot be reached (or for invalid options: INVALID_ARGUMENT).
 */
export async function verifyStore(source: VerifySource, options: VerifyOptions): Promise<VerificationReport> {
  const clock = options.clock ?? systemClock;
  const started = clock.monotonic();
  const { level } = options;
  if (!VERIFICATION_LEVELS.includes(level)) {
    throw invalidArgument(
      `verification level must be one of ${VERIFICATION_LEVELS.join(', ')}; got ${JSON.stringify(level)}`,
    );
  }
  assertValidKey(source.prefix);
  const concurrency = positive('concurrency', options.concurrency ?? DEFAULT_CONCURRENCY);
  const threads = positive('threads', options.threads ?? 1);
  const report = (progress: VerifyProgress) => options.onProgress?.(progress);
  const totals: VerificationTotals = {
    checkpoints: 0,
    faultyCheckpoints: 0,
    blocks: 0,
    blockBytes: 0,
    blocksRead: 0,
    bytesRead: 0,
    walPacks: 0,
    faultyWalPacks: 0,
    walEntries: 0,
    faults: 0,
  };
  const pool = options.pool ?? new BlockPool(threads, options.workerFilename);
  const merger = level === 'full' ? (options.merger ?? new CheckpointMerger()) : undefined;
  try {
    const { checkpoints, other } = await loadCheckpoints(source, concurrency, report);
    const base = { store: source.store, prefix: source.prefix, concurrency, pool, totals, report };
    await checkBlocks(indexBlocks(checkpoints), { ...base, level });
    if (merger !== undefined) await checkDigests(checkpoints, { ...base, merger });
    propagateChainFaults(source, checkpoints);
    const walPacks = await checkWal({
      ...base,
      nodeId: source.nodeId,
      level,
      concurrency: Math.min(PACK_CONCURRENCY, concurrency),
    });

    const entries = [...checkpoints.values()].map((c) => c.entry);
    totals.checkpoints = entries.length;
    totals.faultyCheckpoints = entries.filter((e) => e.status === 'fault').length;
    totals.walPacks = walPacks.length;
    totals.faultyWalPacks = walPacks.filter((p) => p.status === 'fault').length;
    totals.faults =
      other.length +
      entries.reduce((sum, e) => sum + e.faults.length, 0) +
      walPacks.reduce((sum, p) => sum + p.faults.length, 0);
    report({
      phase: 'done',
      done: entries.length + walPacks.length,
      total: entries.length + walPacks.length,
    });
    return {
      level,
      prefix: source.prefix,
      source: source.catalog ? 'catalog' : 'store',
      nodeId: source.nodeId,
      ok: totals.faults === 0,
      durationMs: clock.monotonic() - started,
      checkpoints: entries,
      walPacks,
      other,
      totals,
    };
  } finally {
    if (options.pool === undefined) await pool.close();
    if (merger !== undefined && options.merger === undefined) await merger.close();
  }
}

function positive(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1 || value > 256) {
    throw invalidArgument(`verification ${name} must be an integer from 1 to 256; got ${String(value)}`);
  }
  return value;
}
