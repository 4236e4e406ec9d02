import type { CheckpointSummary } from '../../checkpoint/catalog/checkpoint-summary';
import { manifestBlockHashes, type Manifest } from '../../checkpoint/manifest/manifest';
import { decodeManifest } from '../../checkpoint/manifest/manifest-codec';
import { TidemarkError } from '../../lib/errors';
import { checkpointsPrefix, getBuffer, manifestKey, parseManifestKey } from '../../storage';
import type { CheckpointVerification, VerifyFault, VerifyProgress, VerifySource } from './verify-report';
import { forEachLimited } from '../../lib/bounded-concurrency';
import { addFault, faultOf } from './verify-util';

/** A checkpoint being verified: its report entry, and its manifest when that decoded. */
export interface CheckedCheckpoint {
  entry: CheckpointVerification;
  manifest: Manifest | undefined;
  /** The manifest object is not in the store. */
  missing: boolean;
}

export type Checkpoints = Map<number, CheckedCheckpoint>;

/**
 * Basic level, manifests: lists the checkpoints (every manifest under `{prefix}/checkpoints/`, or the
 * catalog's committed ones), reads and strictly decodes each manifest (schema, known formatVersion,
 * internal consistency, the id its key names), compares it with the catalog's summary, and checks each
 * incremental's link to its parent: present, and fromLsn / baseId / depth following on from it.
 */
export async function loadCheckpoints(
  source: VerifySource,
  concurrency: number,
  report: (progress: VerifyProgress) => void,
): Promise<{ checkpoints: Checkpoints; other: VerifyFault[] }> {
  const other: VerifyFault[] = [];
  const summaries = new Map<number, CheckpointSummary>();
  const ids: number[] = [];
  if (source.catalog) {
    for (const summary of source.catalog.list()) {
      summaries.set(summary.id, summary);
      ids.push(summary.id);
    }
  } else {
    for await (const object of source.store.list(checkpointsPrefix(source.prefix))) {
      const id = parseManifestKey(source.prefix, object.key);
      if (id !== undefined) ids.push(id);
      else if (object.key.endsWith('/manifest.json')) {
        other.push({
          code: 'INVALID_ARGUMENT',
          message: `${object.key} is not a canonical manifest key ({prefix}/checkpoints/{20-digit id}/manifest.json): no checkpoint reads it`,
          key: object.key,
        });
      }
    }
  }
  ids.sort((a, b) => a - b);

  const checkpoints: Checkpoints = new Map();
  let done = 0;
  report({ phase: 'manifests', done, total: ids.length });
  await forEachLimited(ids, concurrency, async (id) => {
    checkpoints.set(id, await readCheckpoint(source, id, summaries.get(id)));
    report({ phase: 'manifests', done: ++done, total: ids.length });
  });
  const sorted: Checkpoints = new Map([...checkpoints].sort((a, b) => a[0] - b[0]));
  for (const checked of sorted.values()) checkParentLink(source, sorted, checked);
  return { checkpoints: sorted, other };
}

async function readCheckpoint(
  source: VerifySource,
  id: number,
  summary: CheckpointSummary | undefined,
): Promise<CheckedCheckpoint> {
  const key = manifestKey(source.prefix, id);
  const entry: CheckpointVerification = {
    id,
    kind: summary?.kind,
    parentId: summary?.parentId,
    lsn: summary?.lsn,
    key,
    blocks: 0,
    status: 'ok',
    faults: [],
  };
  let bytes: Buffer;
  try {
    bytes = await getBuffer(source.store, key);
  } catch (error) {
    if (!TidemarkError.is(error, 'NOT_FOUND')) {
      entry.faults.push(faultOf(error, key, `checkpoint ${id}: its manifest cannot be read`));
      return { entry, manifest: undefined, missing: false };
    }
    const where = summary ? 'the catalog lists it, but ' : '';
    entry.faults.push({
      code: 'CHECKPOINT_NOT_FOUND',
      message: `checkpoint ${id}: ${where}its manifest is not in the store`,
      key,
    });
    return { entry, manifest: undefined, missing: true };
  }
  let manifest: Manifest;
  try {
    manifest = decodeManifest(bytes, { expectedId: id });
  } catch (error) {
    entry.faults.push(faultOf(error, key, `checkpoint ${id}: its manifest does not decode`));
    return { entry, manifest: undefined, missing: false };
  }
  entry.kind = manifest.kind;
  entry.parentId = manifest.parentId;
  entry.lsn = manifest.lsn;
  entry.blocks = manifestBlockHashes(manifest).size;
  if (summary) compareWithCatalog(entry, manifest, summary);
  return { entry, manifest, missing: false };
}

function compareWithCatalog(entry: CheckpointVerification, m: Manifest, s: CheckpointSummary): void {
  const fields = ['kind', 'parentId', 'baseId', 'fromLsn', 'lsn'] as const;
  for (const field of fields) {
    if (m[field] !== s[field]) {
      entry.faults.push({
        code: 'INVALID_STATE_DATA',
        message: `checkpoint ${m.checkpointId}: the catalog says ${field} ${String(s[field])}, its manifest ${String(m[field])}`,
        key: entry.key,
      });
    }
  }
}

function checkParentLink(source: VerifySource, checkpoints: Checkpoints, checked: CheckedCheckpoint): void {
  const m = checked.manifest;
  if (m === undefined || m.parentId === null) return;
  const id = m.checkpointId;
  const parentKey = manifestKey(source.prefix, m.parentId);
  const parent = checkpoints.get(m.parentId);
  if (parent === undefined || parent.missing) {
    const status = source.catalog?.get(m.parentId)?.status;
    const why =
      parent !== undefined
        ? 'has no manifest in the store'
        : status === 'deleted'
          ? 'the catalog marks deleted'
          : source.catalog
            ? 'is not in the catalog'
            : 'has no manifest in the store';
    checked.entry.faults.push({
      code: 'CHECKPOINT_NOT_FOUND',
      message: `checkpoint ${id} builds on checkpoint ${m.parentId}, which ${why}: its chain is broken`,
      key: parentKey,
    });
    return;
  }
  const p = parent.manifest;
  if (p === undefined) return; // unreadable: the parent's own fault; propagateChainFaults reports the chain
  const problems: string[] = [];
  if (p.lsn !== m.fromLsn) problems.push(`fromLsn ${m.fromLsn} is not its parent's LSN ${p.lsn}`);
  if (p.baseId !== m.baseId) problems.push(`baseId ${m.baseId} is not its parent's base ${p.baseId}`);
  if (p.depth + 1 !== m.depth)
    problems.push(`depth ${m.depth} is not its parent's depth + 1 (${p.depth + 1})`);
  for (const problem of problems) {
    checked.entry.faults.push({
      code: 'INVALID_STATE_DATA',
      message: `checkpoint ${id} (parent ${m.parentId}): ${problem}`,
      key: checked.entry.key,
    });
  }
}

/**
 * After every check: a checkpoint whose chain runs through a missing checkpoint (beyond its parent,
 * reported already) gets CHECKPOINT_NOT_FOUND; one whose chain runs through a checkpoint with faults gets
 * INVALID_STATE_DATA naming the nearest such ancestor: restoring it reads that one. Sets each status.
 */
export function propagateChainFaults(source: VerifySource, checkpoints: Checkpoints): void {
  const faulty = new Set<number>();
  for (const [id, c] of checkpoints) if (c.entry.faults.length > 0) faulty.add(id);
  for (const [id, checked] of checkpoints) {
    const parentId = checked.manifest?.parentId ?? null;
    let missing: number | undefined;
    let nearestFaulty: number | undefined;
    for (let a = parentId; a !== null;) {
      const ancestor = checkpoints.get(a);
      if (ancestor === undefined || ancestor.missing) {
        missing = a;
        break;
      }
      if (faulty.has(a)) nearestFaulty ??= a;
      a = ancestor.manifest?.parentId ?? null;
    }
    if (missing !== undefined && missing !== parentId) {
      addFault(checked.entry.faults, {
        code: 'CHECKPOINT_NOT_FOUND',
        message: `the chain of checkpoint ${id} is broken: its ancestor ${missing} is missing`,
        key: manifestKey(source.prefix, missing),
      });
    } else if (missing === undefined && nearestFaulty !== undefined) {
      addFault(checked.entry.faults, {
        code: 'INVALID_STATE_DATA',
        message: `checkpoint ${id} builds on checkpoint ${nearestFaulty}, which has faults (restoring ${id} reads it)`,
        key: manifestKey(source.prefix, nearestFaulty),
      });
    }
  }
  for (const { entry } of checkpoints.values()) entry.status = entry.faults.length === 0 ? 'ok' : 'fault';
}
