import { countBody } from '../../checkpoint/block/block-codec';
import type { ManifestBlockRef } from '../../checkpoint/manifest/manifest';
import { TidemarkError } from '../../lib/errors';
import { blockKey, getBuffer, type ObjectStore } from '../../storage';
import type { BlockPool } from '../block-pool';
import type { CheckedCheckpoint, Checkpoints } from './verify-manifests';
import type { VerificationLevel, VerificationTotals, VerifyFault, VerifyProgress } from './verify-report';
import { forEachLimited } from '../../lib/bounded-concurrency';
import { addFault, faultOf } from './verify-util';

/** A checkpoint naming a block, and what its manifest says about it. */
interface BlockUse {
  checkpoint: CheckedCheckpoint;
  ref: ManifestBlockRef;
}

/** Every distinct block the decoded manifests name, with who names it (each reference once per checkpoint). */
export function indexBlocks(checkpoints: Checkpoints): Map<string, BlockUse[]> {
  const index = new Map<string, BlockUse[]>();
  for (const checkpoint of checkpoints.values()) {
    const seen = new Set<string>();
    for (const component of Object.values(checkpoint.manifest?.components ?? {})) {
      for (const ref of component.blocks) {
        const key = `${ref.hash}/${ref.storedBytes}/${ref.rawBytes}/${ref.recordCount}`;
        if (seen.has(key)) continue;
        seen.add(key);
        const uses = index.get(ref.hash) ?? [];
        uses.push({ checkpoint, ref });
        index.set(ref.hash, uses);
      }
    }
  }
  return index;
}

export interface BlockCheckContext {
  prefix: string;
  store: ObjectStore;
  level: VerificationLevel;
  concurrency: number;
  pool: BlockPool;
  totals: VerificationTotals;
  report: (progress: VerifyProgress) => void;
}

/**
 * Each distinct block once. Basic: HEAD — it exists, and its size is the manifest's storedBytes.
 * Standard and full: GET and the whole check (stored crc32c, decompression, raw crc32c, sha256 against its
 * name, on the block pool's threads), then its records counted and compared with the header and with each
 * manifest's recordCount and rawBytes. A fault is reported on every checkpoint naming the block.
 */
export async function checkBlocks(index: Map<string, BlockUse[]>, context: BlockCheckContext): Promise<void> {
  const hashes = [...index.keys()].sort();
  const total = hashes.length;
  let done = 0;
  context.totals.blocks = total;
  context.totals.blockBytes = hashes.reduce((sum, h) => sum + index.get(h)![0]!.ref.storedBytes, 0);
  context.report({ phase: 'blocks', done, total });
  await forEachLimited(hashes, context.concurrency, async (hash) => {
    const uses = index.get(hash)!;
    const key = blockKey(context.prefix, hash);
    const fail = (fault: VerifyFault, only?: BlockUse) => {
      for (const use of only ? [only] : uses) addFault(use.checkpoint.entry.faults, named(use, fault));
    };
    try {
      if (context.level === 'basic') await headBlock(key, uses, context, fail);
      else await readBlock(hash, key, uses, context, fail);
    } catch (error) {
      fail(faultOf(error, key));
    }
    context.report({ phase: 'blocks', done: ++done, total });
  });
}

/** The fault with the checkpoint (and the block, unless the message names it) in front. */
function named(use: BlockUse, fault: VerifyFault): VerifyFault {
  const id = use.checkpoint.entry.id;
  const block = `block ${use.ref.hash}`;
  const message = fault.message.startsWith(block)
    ? `checkpoint ${id}: ${fault.message}`
    : `checkpoint ${id} names ${block}: ${fault.message}`;
  return { ...fault, message };
}

type Fail = (fault: VerifyFault, only?: BlockUse) => void;

function missing(key: string): VerifyFault {
  return { code: 'NOT_FOUND', message: 'it is not in the store', key };
}

function checkSize(key: string, size: number, uses: BlockUse[], fail: Fail): void {
  for (const use of uses) {
    if (use.ref.storedBytes !== size) {
      const message = `the stored object has ${size} bytes, the manifest says ${use.ref.storedBytes}`;
      fail({ code: 'INVALID_STATE_DATA', message, key }, use);
    }
  }
}

async function headBlock(key: string, uses: BlockUse[], context: BlockCheckContext, fail: Fail) {
  const info = await context.store.head(key);
  if (info === undefined) fail(missing(key));
  else checkSize(key, info.size, uses, fail);
}

async function readBlock(
  hash: string,
  key: string,
  uses: BlockUse[],
  context: BlockCheckContext,
  fail: Fail,
) {
  let bytes: Buffer;
  try {
    bytes = await getBuffer(context.store, key);
  } catch (error) {
    if (TidemarkError.is(error, 'NOT_FOUND')) return fail(missing(key));
    throw error;
  }
  const size = bytes.length;
  context.totals.blocksRead++;
  context.totals.bytesRead += size;
  checkSize(key, size, uses, fail);
  // The pool moves the bytes to a worker thread: nothing reads `bytes` after this.
  const opened = await context.pool.open(bytes, hash);
  const { raw, recordCount } = opened;
  const counted = countBody(opened);
  if (counted !== recordCount) {
    const message = `it holds ${counted} records, its header says ${recordCount}`;
    return fail({ code: 'DESERIALIZATION_ERROR', message, key });
  }
  for (const use of uses) {
    const { recordCount: expected, rawBytes } = use.ref;
    if (expected !== recordCount || rawBytes !== raw.length) {
      const message = `it holds ${recordCount} records in ${raw.length} raw bytes, the manifest says ${expected} in ${rawBytes}`;
      fail({ code: 'INVALID_STATE_DATA', message, key }, use);
    }
  }
}
