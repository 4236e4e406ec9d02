import type { CheckpointCatalog } from '../checkpoint/catalog/catalog';
import type { CheckpointSummary } from '../checkpoint/catalog/checkpoint-summary';
import type { Manifest } from '../checkpoint/manifest/manifest';
import { readManifest } from '../checkpoint/write/checkpoint-reader';
import { TidemarkError, invalidArgument } from '../lib/errors';
import { blockKey, manifestKey } from '../storage';
import type { PlannedObject, RecoveryPlan, RecoveryTarget } from './recovery-types';
import {
  coverWal,
  findInLog,
  lastAvailableLsn,
  listRemotePacks,
  type RemotePack,
  type WalCoverage,
  type WalSources,
} from './wal-source';

/** A plan with what executing it needs: the chain's manifests and where the log comes from. */
export interface ResolvedPlan {
  plan: RecoveryPlan;
  manifests: Manifest[];
  wal: WalCoverage | undefined;
  /** For a time target: stop before the first entry later than this (µs). */
  stopAfterTime: number | undefined;
}

/** Assumed when nothing was measured yet: a local store reads at several hundred MB/s, a cloud one less. */
const ASSUMED_BYTES_PER_MS = 200_000;

export function checkTarget(target: RecoveryTarget): RecoveryTarget {
  const [kind, value] = Object.entries(target ?? {})[0] ?? [];
  const ok =
    target !== null &&
    typeof target === 'object' &&
    Object.keys(target).length === 1 &&
    (kind === 'checkpointId' || kind === 'lsn' || kind === 'time') &&
    Number.isSafeInteger(value) &&
    (value as number) >= (kind === 'checkpointId' ? 1 : 0);
  if (!ok) {
    throw invalidArgument(
      `a recovery target is {checkpointId}, {lsn} or {time} (µs), one non-negative integer; got ${JSON.stringify(target)}`,
    );
  }
  return target;
}

/** Newest by LSN, then shallower chain, then newer id (as the catalog picks "newest"). */
function newest(candidates: CheckpointSummary[]): CheckpointSummary | undefined {
  let best: CheckpointSummary | undefined;
  for (const c of candidates) {
    if (
      !best ||
      c.lsn > best.lsn ||
      (c.lsn === best.lsn && (c.depth < best.depth || (c.depth === best.depth && c.id > best.id)))
    ) {
      best = c;
    }
  }
  return best;
}

/**
 * The last LSN a time target's cut may lie at: the cut is before the first entry later than `time`, so
 * the first checkpoint after `fromLsn` whose newest entry is later than `time` bounds it; without one,
 * the end of the log as far as anything the node knows (its WAL, the uploaded packs, every checkpoint
 * the catalog has seen, deleted ones too) — never just the part of the log that happens to be at hand.
 */
function timeCutBound(catalog: CheckpointCatalog, available: number, afterLsn: number, time: number): number {
  let bound = available;
  for (const c of catalog.list({ includeDeleted: true })) bound = Math.max(bound, c.lsn);
  for (const c of catalog.list({ includeDeleted: true })) {
    if (c.timestamp > time && c.lsn > afterLsn) bound = Math.min(bound, c.lsn);
  }
  return bound;
}

/** `coverWal`, with a time target's reason in the error: the log is needed to find where the cut lies. */
function coverLog(
  sources: WalSources,
  remote: readonly RemotePack[],
  fromLsn: number,
  toLsn: number,
  time: number | undefined,
): WalCoverage {
  try {
    return coverWal(sources, remote, fromLsn, toLsn);
  } catch (error) {
    if (time === undefined || !(error instanceof TidemarkError)) throw error;
    throw new TidemarkError(
      error.code,
      `cannot recover to time ${time} µs: the cut lies between LSN ${fromLsn - 1} and ${toLsn}, and finding it needs the WAL there; ${error.message}`,
      { cause: error, details: { ...error.details, time } },
    );
  }
}

/**
 * Components asked for by name that do not exist: no checkpoint the catalog has seen names them (deleted
 * ones too) and no entry of the log writes them — the local log's table of components first, then, only
 * for ids still unaccounted for, a read of the log at hand. A component that exists at some point of the
 * log is known: its state at a target before it appeared is empty, not unknown.
 */
export async function unknownComponents(
  catalog: CheckpointCatalog,
  sources: WalSources,
  remote: readonly RemotePack[],
  components: readonly string[],
): Promise<string[]> {
  const named = new Set<string>();
  for (const c of catalog.list({ includeDeleted: true })) for (const id of c.components) named.add(id);
  const candidates = components.filter((id) => !named.has(id) && sources.wal?.hasComponent(id) !== true);
  if (candidates.length === 0) return [];
  const inLog = await findInLog(sources, remote, candidates);
  return candidates.filter((id) => !inLog.has(id));
}

function componentsNotFound(ids: readonly string[]): TidemarkError {
  const list = ids
    .slice(0, 10)
    .map((id) => JSON.stringify(id))
    .join(', ');
  const more = ids.length > 10 ? ` and ${ids.length - 10} more` : '';
  return new TidemarkError(
    'COMPONENT_NOT_FOUND',
    `no component ${list}${more}: no checkpoint names it and the log has no entry of it`,
    { details: { components: ids.slice(0, 10) } },
  );
}

/**
 * Resolves a target into a plan without reading any block: the newest restorable checkpoint at or before
 * the target (by LSN, or by the newest entry time it covers), its chain's manifests (read: they name the
 * blocks), and the log after it — local segments first, uploaded packs where the local copy is gone.
 */
export async function planRecovery(
  catalog: CheckpointCatalog,
  sources: WalSources,
  target: RecoveryTarget,
  components: readonly string[] | undefined,
  bytesPerMs = ASSUMED_BYTES_PER_MS,
): Promise<ResolvedPlan> {
  checkTarget(target);
  const committed = catalog.list().filter((c) => catalog.isRestorable(c.id));
  let checkpoint: CheckpointSummary | undefined;
  let walTo: number | undefined;
  let stopAfterTime: number | undefined;
  const remote = 'checkpointId' in target && !components ? [] : await listRemotePacks(sources);
  if (components) {
    const unknown = await unknownComponents(catalog, sources, remote, components);
    if (unknown.length > 0) throw componentsNotFound(unknown);
  }
  const available = lastAvailableLsn(sources, remote);
  if ('checkpointId' in target) {
    checkpoint = catalog.require(target.checkpointId);
    catalog.chain(checkpoint.id); // CHECKPOINT_NOT_FOUND when broken
  } else if ('lsn' in target) {
    if (target.lsn > Math.max(available, ...committed.map((c) => c.lsn))) {
      throw invalidArgument(`LSN ${target.lsn} is beyond the log (it ends at ${available})`, {
        lsn: target.lsn,
      });
    }
    checkpoint = newest(committed.filter((c) => c.lsn <= target.lsn));
    walTo = target.lsn;
  } else {
    checkpoint = newest(committed.filter((c) => c.timestamp <= target.time));
    walTo = timeCutBound(catalog, available, checkpoint?.lsn ?? 0, target.time);
    stopAfterTime = target.time;
  }

  const chain = checkpoint ? catalog.chain(checkpoint.id) : [];
  const manifests = await Promise.all(
    chain.map((link) => readManifest(sources.store, sources.prefix, link.id)),
  );
  const wanted = components ? new Set(components) : undefined;
  const fromLsn = (checkpoint?.lsn ?? 0) + 1;
  const wal =
    walTo !== undefined && walTo >= fromLsn
      ? coverLog(sources, remote, fromLsn, walTo, stopAfterTime)
      : undefined;

  const objects: PlannedObject[] = [];
  const seen = new Set<string>();
  const planned = manifests.map((manifest) => {
    objects.push({ key: manifestKey(sources.prefix, manifest.checkpointId), bytes: 0, kind: 'manifest' });
    let blocks = 0;
    let blockBytes = 0;
    for (const [id, component] of Object.entries(manifest.components)) {
      if (wanted && !wanted.has(id)) continue;
      for (const ref of component.blocks) {
        blocks++;
        blockBytes += ref.storedBytes;
        if (seen.has(ref.hash)) continue;
        seen.add(ref.hash);
        objects.push({ key: blockKey(sources.prefix, ref.hash), bytes: ref.storedBytes, kind: 'block' });
      }
    }
    return {
      id: manifest.checkpointId,
      kind: manifest.kind,
      lsn: manifest.lsn,
      timestamp: manifest.timestamp,
      blocks,
      blockBytes,
    };
  });
  const remoteObjects: PlannedObject[] = (wal?.remote ?? []).map((p) => ({
    key: p.key,
    bytes: p.size,
    kind: 'wal-pack',
  }));
  // The local log is read from where the packs stop (they may reach past the local log's first LSN).
  const localStart = Math.max(wal?.fromLsn ?? 0, (wal?.remote.at(-1)?.lastLsn ?? 0) + 1);
  const localObjects: PlannedObject[] =
    wal?.localFrom !== undefined && sources.wal
      ? sources.wal
          .segments()
          .filter((s) => s.entryCount > 0 && s.lastLsn >= localStart && s.firstLsn <= wal.toLsn)
          .map((s) => ({ key: s.path, bytes: s.sizeBytes, kind: 'wal-local' }))
      : [];
  objects.push(...remoteObjects);
  const bytes =
    objects.reduce((sum, o) => sum + o.bytes, 0) + localObjects.reduce((sum, o) => sum + o.bytes, 0);
  const getRequests = objects.length;
  return {
    manifests,
    wal,
    stopAfterTime,
    plan: {
      target,
      components: components ? [...components] : 'all',
      checkpoints: planned,
      wal: wal && { fromLsn: wal.fromLsn, toLsn: wal.toLsn, local: localObjects, remote: remoteObjects },
      objects: objects.length + localObjects.length,
      bytes,
      getRequests,
      estimatedDurationMs: Math.round(bytes / bytesPerMs),
      estimateNote:
        bytesPerMs === ASSUMED_BYTES_PER_MS
          ? 'assumes 200 MB/s (nothing measured yet by this engine)'
          : `at ${Math.round(bytesPerMs / 1000)} MB/s, as this engine's last recovery read`,
    },
  };
}
