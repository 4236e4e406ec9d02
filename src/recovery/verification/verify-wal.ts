import { TidemarkError } from '../../lib/errors';
import {
  getBuffer,
  parseWalSegmentKey,
  walNodePrefix,
  walPrefix,
  type ObjectStore,
  type WalSegmentKeyParts,
} from '../../storage';
import { splitPack, readSegmentBuffer } from '../../wal/archive';
import type {
  VerificationLevel,
  VerificationTotals,
  VerifyProgress,
  WalPackVerification,
} from './verify-report';
import { forEachLimited } from '../../lib/bounded-concurrency';
import { faultOf } from './verify-util';

export interface WalCheckContext {
  store: ObjectStore;
  prefix: string;
  nodeId: string | undefined;
  level: VerificationLevel;
  /** Packs read at once (they are read whole: keep it small). */
  concurrency: number;
  totals: VerificationTotals;
  report: (progress: VerifyProgress) => void;
}

/**
 * The uploaded WAL packs (`{prefix}/wal/{node}/{first}-{last}.seg`), by node and first LSN.
 * - basic: the listing only (it proves each pack exists and gives its size; no HEAD needed): every key
 *   parses, no pack is empty, and each node's packs leave no hole between their LSN ranges (overlaps are
 *   fine: a partial pack re-shipped larger leaves both). A hole is reported on the pack after it.
 * - standard: + every pack read and split into its segment files (headers and frame lengths walked to
 *   each footer and trailer), the first starting at the key's first LSN.
 * - full: + every frame of every segment checked (CRC, decoding) and the LSNs read contiguous from the
 *   key's first LSN to its last, across the pack's segments.
 */
export async function checkWal(context: WalCheckContext): Promise<WalPackVerification[]> {
  const { store, prefix, nodeId } = context;
  const packs: { entry: WalPackVerification; parts: WalSegmentKeyParts | undefined }[] = [];
  const listed = nodeId === undefined ? walPrefix(prefix) : walNodePrefix(prefix, nodeId);
  for await (const object of store.list(listed)) {
    const parts = parseWalSegmentKey(prefix, object.key);
    const entry: WalPackVerification = {
      key: object.key,
      nodeId: parts?.nodeId,
      firstLsn: parts?.firstLsn,
      lastLsn: parts?.lastLsn,
      size: object.size,
      entries: 0,
      status: 'ok',
      faults: [],
    };
    if (parts === undefined) {
      entry.faults.push({
        code: 'INVALID_ARGUMENT',
        message: `${object.key} is not a WAL pack key ({prefix}/wal/{node}/{firstLsn}-{lastLsn}.seg): recovery ignores it`,
        key: object.key,
      });
    } else if (object.size === 0) {
      entry.faults.push({
        code: 'INVALID_STATE_DATA',
        message: `WAL pack ${object.key} is empty`,
        key: object.key,
      });
    }
    packs.push({ entry, parts });
  }
  packs.sort((a, b) => order(a.parts, b.parts) || (a.entry.key < b.entry.key ? -1 : 1));
  findGaps(packs);

  const total = packs.length;
  let done = 0;
  context.report({ phase: 'wal', done, total });
  if (context.level !== 'basic') {
    await forEachLimited(packs, context.concurrency, async ({ entry, parts }) => {
      if (parts !== undefined && entry.size > 0) {
        try {
          await readPack(entry, parts, context);
        } catch (error) {
          entry.faults.push(faultOf(error, entry.key));
        }
      }
      context.report({ phase: 'wal', done: ++done, total });
    });
  }
  for (const { entry } of packs) {
    entry.status = entry.faults.length === 0 ? 'ok' : 'fault';
    context.totals.walEntries += entry.entries;
  }
  return packs.map((p) => p.entry);
}

function order(a: WalSegmentKeyParts | undefined, b: WalSegmentKeyParts | undefined): number {
  if (a === undefined || b === undefined) return a === b ? 0 : a === undefined ? 1 : -1;
  if (a.nodeId !== b.nodeId) return a.nodeId < b.nodeId ? -1 : 1;
  return a.firstLsn - b.firstLsn || b.lastLsn - a.lastLsn;
}

function findGaps(packs: { entry: WalPackVerification; parts: WalSegmentKeyParts | undefined }[]): void {
  let node: string | undefined;
  let coveredTo = 0;
  for (const { entry, parts } of packs) {
    if (parts === undefined) continue;
    if (parts.nodeId !== node) {
      node = parts.nodeId;
      coveredTo = parts.lastLsn;
      continue;
    }
    if (parts.firstLsn > coveredTo + 1) {
      entry.faults.push({
        code: 'INVALID_STATE_DATA',
        message: `WAL of node ${node}: LSNs ${coveredTo + 1}–${parts.firstLsn - 1} are in no pack (a gap before ${entry.key})`,
        key: entry.key,
      });
    }
    coveredTo = Math.max(coveredTo, parts.lastLsn);
  }
}

async function readPack(entry: WalPackVerification, parts: WalSegmentKeyParts, context: WalCheckContext) {
  const { key } = entry;
  let bytes: Buffer;
  try {
    bytes = await getBuffer(context.store, key);
  } catch (error) {
    if (!TidemarkError.is(error, 'NOT_FOUND')) throw error;
    entry.faults.push({ code: 'NOT_FOUND', message: `WAL pack ${key} was listed but is gone`, key });
    return;
  }
  context.totals.bytesRead += bytes.length;
  const segments = splitPack(bytes, key);
  const inconsistent = (message: string) =>
    entry.faults.push({ code: 'INVALID_STATE_DATA', message: `WAL pack ${key}: ${message}`, key });
  if (segments[0]?.firstLsn !== parts.firstLsn) {
    return inconsistent(`it starts at LSN ${segments[0]?.firstLsn}, its key says ${parts.firstLsn}`);
  }
  if (context.level !== 'full') return;
  let next = parts.firstLsn;
  for (const segment of segments) {
    if (segment.firstLsn !== next) {
      return inconsistent(`a segment starts at LSN ${segment.firstLsn} where ${next} was expected`);
    }
    const name = `WAL pack ${key} (segment at LSN ${segment.firstLsn})`;
    for await (const record of readSegmentBuffer(segment.bytes, name, 0, Number.MAX_SAFE_INTEGER)) {
      next = record.lsn + 1;
      entry.entries++;
    }
  }
  if (next - 1 !== parts.lastLsn) {
    inconsistent(
      `it holds LSNs ${parts.firstLsn}–${next - 1}, its key says ${parts.firstLsn}–${parts.lastLsn}`,
    );
  }
}
