import { TidemarkError } from '../lib/errors';
import { getBuffer, parseWalSegmentKey, walNodePrefix, type ObjectStore } from '../storage';
import { splitPack, type UploadedSegments, readSegmentBuffer } from '../wal/archive';
import type { LogRecord, SegmentedWal } from '../wal';
import { untilAborted } from './block-fetcher';

/** An uploaded pack of WAL segments in the store. */
export interface RemotePack {
  key: string;
  firstLsn: number;
  lastLsn: number;
  size: number;
}

export interface WalSources {
  store: ObjectStore;
  prefix: string;
  nodeId: string;
  /** The local log, when the node still has its disk. */
  wal?: SegmentedWal;
  /** The node's record of uploads; without it the store is listed (one LIST of wal/{nodeId}/). */
  uploads?: UploadedSegments;
}

/** Where the log from `fromLsn` to `toLsn` is read: the local segments, then uploaded packs for what is gone. */
export interface WalCoverage {
  fromLsn: number;
  toLsn: number;
  /** The local log serves LSNs from here on (undefined: not at all). */
  localFrom: number | undefined;
  remote: RemotePack[];
}

/** The uploaded packs, by first LSN; overlapping packs (a partial pack re-shipped larger) are all listed. */
export async function listRemotePacks(sources: WalSources): Promise<RemotePack[]> {
  if (sources.uploads) {
    return sources.uploads
      .list()
      .map(({ key, firstLsn, lastLsn, size }) => ({ key, firstLsn, lastLsn, size }));
  }
  const packs: RemotePack[] = [];
  for await (const object of sources.store.list(walNodePrefix(sources.prefix, sources.nodeId))) {
    const parsed = parseWalSegmentKey(sources.prefix, object.key);
    if (parsed)
      packs.push({ key: object.key, firstLsn: parsed.firstLsn, lastLsn: parsed.lastLsn, size: object.size });
  }
  return packs.sort((a, b) => a.firstLsn - b.firstLsn || b.lastLsn - a.lastLsn);
}

/** The newest LSN any source holds (0 when the log is empty everywhere). */
export function lastAvailableLsn(sources: WalSources, remote: readonly RemotePack[]): number {
  const local = sources.wal?.stats().lastLsn ?? 0;
  return Math.max(local, ...remote.map((pack) => pack.lastLsn), 0);
}

/**
 * Chooses, for every LSN of [fromLsn, toLsn], a source: the local log where it still holds the LSN, else
 * the pack reaching furthest that holds it. A hole is INVALID_STATE_DATA naming the missing range.
 */
export function coverWal(
  sources: WalSources,
  remote: readonly RemotePack[],
  fromLsn: number,
  toLsn: number,
): WalCoverage {
  const stats = sources.wal?.stats();
  const localFrom = stats && stats.lastLsn >= stats.firstLsn ? stats.firstLsn : undefined;
  const chosen: RemotePack[] = [];
  let next = fromLsn;
  while (next <= toLsn && (localFrom === undefined || next < localFrom)) {
    let best: RemotePack | undefined;
    for (const pack of remote) {
      if (pack.firstLsn <= next && pack.lastLsn >= next && (!best || pack.lastLsn > best.lastLsn))
        best = pack;
    }
    if (!best) {
      const end = Math.min(toLsn, localFrom === undefined ? toLsn : localFrom - 1);
      throw new TidemarkError(
        'INVALID_STATE_DATA',
        `the WAL from LSN ${next} to ${end} is neither on local disk nor in the store`,
        { details: { fromLsn: next, toLsn: end } },
      );
    }
    chosen.push(best);
    next = best.lastLsn + 1;
  }
  return { fromLsn, toLsn, localFrom: next <= toLsn ? localFrom : undefined, remote: chosen };
}

/**
 * The records of the covered range in LSN order, every frame checked on the way. The log has no gaps: a
 * record that is not the next LSN, or a source that ends before `toLsn` (a pack shorter than its name
 * says, local segments deleted since the plan was made), is INVALID_STATE_DATA naming the missing range —
 * never a silent skip. `signal` is checked before each pack is fetched and every 1024 records.
 */
export async function* replayWal(
  sources: WalSources,
  coverage: WalCoverage,
  signal?: AbortSignal,
): AsyncGenerator<LogRecord> {
  let expected = coverage.fromLsn;
  const check = (record: LogRecord) => {
    if (record.lsn !== expected) throw walGap(expected, record.lsn - 1);
    expected++;
    if ((expected & 1023) === 0) signal?.throwIfAborted();
  };
  for (const pack of coverage.remote) {
    const to = Math.min(pack.lastLsn, coverage.toLsn);
    if (to < expected) continue;
    signal?.throwIfAborted();
    const bytes = await (signal
      ? untilAborted(getBuffer(sources.store, pack.key), signal)
      : getBuffer(sources.store, pack.key));
    for (const segment of splitPack(bytes, pack.key)) {
      for await (const record of readSegmentBuffer(
        segment.bytes,
        `${pack.key}@${segment.firstLsn}`,
        expected,
        to,
      )) {
        check(record);
        yield record;
      }
    }
    if (expected <= to) throw walGap(expected, to, pack.key);
  }
  if (expected <= coverage.toLsn && coverage.localFrom !== undefined && sources.wal) {
    for await (const record of sources.wal.read({ fromLsn: expected, toLsn: coverage.toLsn })) {
      check(record);
      yield record;
    }
  }
  if (expected <= coverage.toLsn) throw walGap(expected, coverage.toLsn);
}

/**
 * Which of `ids` have an entry anywhere in the log that is at hand (the local log, every uploaded pack),
 * read until all are found. Costly: for the rare question "does this component exist at all", never on
 * a recovery's own path.
 */
export async function findInLog(
  sources: WalSources,
  remote: readonly RemotePack[],
  ids: readonly string[],
  signal?: AbortSignal,
): Promise<Set<string>> {
  const wanted = new Set(ids);
  const found = new Set<string>();
  const meet = (record: LogRecord) => {
    if (wanted.delete(record.entry.componentId)) found.add(record.entry.componentId);
    return wanted.size === 0;
  };
  if (sources.wal) {
    for await (const record of sources.wal.read()) if (meet(record)) return found;
  }
  for (const pack of remote) {
    signal?.throwIfAborted();
    const bytes = await getBuffer(sources.store, pack.key);
    for (const segment of splitPack(bytes, pack.key)) {
      const name = `${pack.key}@${segment.firstLsn}`;
      for await (const record of readSegmentBuffer(segment.bytes, name, 0, Number.MAX_SAFE_INTEGER)) {
        if (meet(record)) return found;
      }
    }
  }
  return found;
}

function walGap(fromLsn: number, toLsn: number, pack?: string): TidemarkError {
  return new TidemarkError(
    'INVALID_STATE_DATA',
    pack === undefined
      ? `the WAL from LSN ${fromLsn} to ${toLsn} is missing (the log was changed or lost during recovery)`
      : `WAL pack ${pack} ends before LSN ${toLsn}: LSNs ${fromLsn} to ${toLsn} are missing`,
    { details: { fromLsn, toLsn, ...(pack === undefined ? {} : { key: pack }) } },
  );
}
