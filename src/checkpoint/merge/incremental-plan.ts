/**
 * createIncremental's answer: a plain description of the incremental checkpoint to write — parent, LSN
 * range, the changes normalised, and the block settings — which the checkpoint writer turns into blocks
 * and a manifest. Nothing here does I/O.
 *
 * Normalisation of each component's changes:
 *   - records older than the component's clear (`lsn < clearedAt.lsn`) are dropped: the clear erased
 *     them. A record AT the clear's LSN is kept — it was written after the clear in the same entry (a
 *     producer reports `clearedAt` as the last clear and records after it);
 *   - records are sorted by key bytes and only the last change per key is kept: the highest LSN, and at
 *     equal LSNs (several changes to a key in one entry) the one later in the input;
 *   - a component with no records and no clear is left out.
 * Input that already is normal (the state materialiser's output) is passed through without copying.
 */
import { invalidArgument } from '../../lib/errors';
import { compareKeys, type ComponentDelta, type Delta, type DeltaRecord } from '../state/state-types';
import { validateComponentDelta, validateLsnRange } from './merge-validation';
import type { MergerConfig } from './merger-config';

export interface WalRange {
  /** Exclusive: the parent checkpoint's LSN. */
  fromLsn: number;
  /** Inclusive: the LSN the incremental is taken at. */
  toLsn: number;
}

export interface IncrementalComponentSummary {
  componentId: string;
  cleared: boolean;
  puts: number;
  deletes: number;
  /** Key and value bytes of its records. */
  logicalBytes: number;
}

export interface IncrementalPlan {
  parentId: number;
  fromLsn: number;
  toLsn: number;
  /** The normalised changes, ready to encode (components in id order). */
  delta: Delta;
  /** Per component, in id order. */
  components: IncrementalComponentSummary[];
  recordCount: number;
  logicalBytes: number;
  /** From MergerConfig: what the block writer should do with this incremental's blocks. */
  blocks: { compress: boolean; compressionThreshold: number; deduplicate: boolean };
}

function isNormal(delta: ComponentDelta): boolean {
  const records = delta.records;
  const floor = delta.clearedAt?.lsn ?? -1;
  for (let i = 0; i < records.length; i++) {
    if (records[i].lsn < floor) return false;
    if (i > 0 && compareKeys(records[i - 1].key, records[i].key) >= 0) return false;
  }
  return true;
}

export function normaliseComponentDelta(delta: ComponentDelta): ComponentDelta {
  if (isNormal(delta)) return delta;
  const floor = delta.clearedAt?.lsn ?? -1;
  const kept = delta.records.filter((r) => r.lsn >= floor);
  // Stable sort: at equal key and LSN the input order stays, so the later change is last.
  kept.sort((a, b) => compareKeys(a.key, b.key) || a.lsn - b.lsn);
  const records: DeltaRecord[] = [];
  for (let i = 0; i < kept.length; i++) {
    if (i + 1 < kept.length && compareKeys(kept[i].key, kept[i + 1].key) === 0) continue;
    records.push(kept[i]);
  }
  return delta.clearedAt === undefined
    ? { componentId: delta.componentId, records }
    : { componentId: delta.componentId, clearedAt: delta.clearedAt, records };
}

export function planIncremental(
  parentId: number,
  changes: Map<string, ComponentDelta> | Delta,
  walRange: WalRange,
  config: MergerConfig,
): IncrementalPlan {
  if (!Number.isSafeInteger(parentId) || parentId < 0) {
    throw invalidArgument(`baseCheckpointId must be a safe non-negative integer, got ${String(parentId)}`);
  }
  if (walRange === null || typeof walRange !== 'object')
    throw invalidArgument('walRange must be {fromLsn, toLsn}');
  const { fromLsn, toLsn } = walRange;
  validateLsnRange('walRange', fromLsn, toLsn);
  let components: Map<string, ComponentDelta>;
  if (changes instanceof Map) {
    components = changes;
  } else if (changes !== null && typeof changes === 'object' && changes.components instanceof Map) {
    if (changes.fromLsn !== fromLsn || changes.toLsn !== toLsn) {
      throw invalidArgument(
        `delta covers (${changes.fromLsn}, ${changes.toLsn}] but walRange is (${fromLsn}, ${toLsn}]`,
        { fromLsn, toLsn },
      );
    }
    components = changes.components;
  } else {
    throw invalidArgument('componentChanges must be a Map of component deltas or a Delta');
  }

  const ids = [...components.keys()].sort();
  const normalised = new Map<string, ComponentDelta>();
  const summaries: IncrementalComponentSummary[] = [];
  let recordCount = 0;
  let logicalBytes = 0;
  for (const id of ids) {
    const raw = components.get(id) as ComponentDelta;
    validateComponentDelta('componentChanges', id, raw, fromLsn, toLsn, true);
    const delta = normaliseComponentDelta(raw);
    if (delta.records.length === 0 && delta.clearedAt === undefined) continue;
    let puts = 0;
    let bytes = 0;
    for (const r of delta.records) {
      bytes += r.key.length;
      if (r.op === 'put') {
        puts++;
        bytes += r.value.length;
      }
    }
    normalised.set(id, delta);
    summaries.push({
      componentId: id,
      cleared: delta.clearedAt !== undefined,
      puts,
      deletes: delta.records.length - puts,
      logicalBytes: bytes,
    });
    recordCount += delta.records.length;
    logicalBytes += bytes;
  }
  return {
    parentId,
    fromLsn,
    toLsn,
    delta: { fromLsn, toLsn, components: normalised },
    components: summaries,
    recordCount,
    logicalBytes,
    blocks: {
      compress: config.enableDeltaCompression,
      compressionThreshold: config.compressionThreshold,
      deduplicate: config.enableDeduplication,
    },
  };
}
