/**
 * The states the checkpoint benchmark measures, each a Snapshot (records sorted by key bytes, unique keys,
 * lsn and timestamp set), deterministic for a target logical size (key + value bytes) and a seed:
 *   - 'windows': the bench generator, merge-bench.ts's base state exactly (window panes and aggregates of
 *     binary f64s); its seed is merge-bench's own (42), not the one given here;
 *   - 'json-events': per session, its last event as JSON, keyed `session:<uuid>` (json-events-generator.ts);
 *   - 'small-records': half deduplication-cache entries, half counters (small-records-generator.ts).
 * `changed(share)` is the same state with that share of each component's keys given new values: the newest
 * windows for 'windows' (key order is time order there; what the bench always did), keys picked at random
 * for the others (their keys are random ids, so a stream's changes land anywhere in key order).
 */
import type { ComponentSnapshot, Snapshot, StateRecord } from '../../src/checkpoint/state/state-types';
import { generateMergeWorkload } from './merge-bench';
import { T0 } from './generated-records';
import { eventValue, jsonEvents } from './json-events-generator';
import { prng, Slab } from './recovery-bench-state';
import { bumped, smallRecords } from './small-records-generator';

export type GeneratorKind = 'windows' | 'json-events' | 'small-records';

export const GENERATOR_KINDS: readonly GeneratorKind[] = ['windows', 'json-events', 'small-records'];

export interface GeneratedState {
  kind: GeneratorKind;
  snapshot: Snapshot;
  logicalBytes: number;
  records: number;
  /** The same keys, `share` of each component's records with new values (and LSNs past the snapshot's). */
  changed(share: number): Snapshot;
}

export function generateState(kind: GeneratorKind, targetBytes: number, seed = 1): GeneratedState {
  if (kind === 'windows') {
    const snapshot = generateMergeWorkload(targetBytes).base;
    return described(kind, snapshot, (share) => changeNewest(snapshot, share));
  }
  const rand = prng(seed);
  const slab = new Slab();
  const snapshot =
    kind === 'json-events' ? jsonEvents(targetBytes, rand, slab) : smallRecords(targetBytes, rand, slab);
  const revalue: Revalue =
    kind === 'json-events'
      ? (_r, t, random) => eventValue(slab, random, t)
      : (r, _t, random) => bumped(slab, r.value, random);
  return described(kind, snapshot, (share) => changeScattered(snapshot, share, prng(seed + 1), revalue));
}

function described(kind: GeneratorKind, snapshot: Snapshot, changed: (share: number) => Snapshot) {
  let logicalBytes = 0;
  let records = 0;
  for (const c of snapshot.components.values()) {
    records += c.records.length;
    for (const r of c.records) logicalBytes += r.key.length + r.value.length;
  }
  return { kind, snapshot, logicalBytes, records, changed };
}

/** The bench's original change: the newest `share` of each component's keys, last value byte + 1. */
export function changeNewest(snapshot: Snapshot, share: number): Snapshot {
  const components = new Map<string, ComponentSnapshot>();
  for (const [id, component] of snapshot.components) {
    const records = component.records.slice();
    const from = Math.floor(records.length * (1 - share));
    for (let i = from; i < records.length; i++) {
      const record = records[i]!;
      const value = Buffer.from(record.value);
      value[value.length - 1] = (value[value.length - 1]! + 1) & 0xff;
      records[i] = { ...record, value, lsn: snapshot.lsn + 1, timestamp: record.timestamp + 1 };
    }
    components.set(id, { componentId: id, records });
  }
  return { lsn: snapshot.lsn + 1, components };
}

type Revalue = (record: StateRecord, timestampUs: number, rand: () => number) => Buffer;

/** Each record changes with probability `share`, to `revalue`'s value, at rising LSNs past the snapshot. */
function changeScattered(snapshot: Snapshot, share: number, rand: () => number, revalue: Revalue): Snapshot {
  let lsn = snapshot.lsn;
  const components = new Map<string, ComponentSnapshot>();
  for (const [id, component] of snapshot.components) {
    const records = component.records.slice();
    for (let i = 0; i < records.length; i++) {
      if (rand() >= share) continue;
      const timestamp = T0 * 1000 + 60e6 + Math.floor(rand() * 60e6);
      records[i] = {
        key: records[i]!.key,
        value: revalue(records[i]!, timestamp, rand),
        lsn: ++lsn,
        timestamp,
      };
    }
    components.set(id, { componentId: id, records });
  }
  return { lsn, components };
}
