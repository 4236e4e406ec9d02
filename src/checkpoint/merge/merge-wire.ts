/**
 * The merge worker's wire format: one component's deltas, as phase 1 (delta-resolution.ts) needs them,
 * in ONE ArrayBuffer that is transferred (moved, not copied or structured-cloned) to a worker thread.
 *
 * Only what decides a merge crosses: keys, LSNs, timestamps, clears, argument positions. Values
 * never do — the worker answers with a pick list (ResolvedKeys: which delta record wins each key) and the
 * calling thread builds the result from its own record objects, so values are neither copied nor
 * re-created. Layout (platform byte order — both ends are threads of one process — every section
 * aligned to its element size):
 *
 *   u32[8]   header: magic 'TMMW', version, rule, deltaCount k, recordCount n, keyBytes, 0, 0
 *   f64[3k]  per delta: clearLsn (NaN: not cleared), clearTimestamp, source (argument position)
 *   f64[n]   per record: lsn            (records of delta 0, then delta 1, …)
 *   f64[n]   per record: timestamp
 *   u32[k]   per delta: record count
 *   u32[n]   per record: end offset of its key in the key bytes (start = previous end)
 *   u8[…]    key bytes, concatenated
 *
 * Ops (put/delete) do not cross: a delete wins or loses exactly like a put, and the calling thread reads
 * the winner's op from its own record.
 */
import { TidemarkError } from '../../lib/errors';
import type { ComponentDelta } from '../state/state-types';
import type { DeltaKeySource } from './delta-resolution';

export const WIRE_MAGIC = 0x574d4d54; // 'TMMW' read as little-endian u32
export const WIRE_VERSION = 1;
const HEADER_U32 = 8;

/** Encode one component's deltas (in argument order, `sources` their positions) for a worker. */
export function encodeDeltaKeys(
  deltas: readonly ComponentDelta[],
  sources: readonly number[],
  rule: number,
): ArrayBuffer {
  const k = deltas.length;
  let n = 0;
  let keyBytes = 0;
  for (const delta of deltas) {
    n += delta.records.length;
    for (const r of delta.records) keyBytes += r.key.length;
  }
  const deltaF64At = HEADER_U32 * 4;
  const lsnAt = deltaF64At + 24 * k;
  const tsAt = lsnAt + 8 * n;
  const countsAt = tsAt + 8 * n;
  const keyEndAt = countsAt + 4 * k;
  const keysAt = keyEndAt + 4 * n;
  const buffer = new ArrayBuffer(keysAt + keyBytes);

  const header = new Uint32Array(buffer, 0, HEADER_U32);
  header.set([WIRE_MAGIC, WIRE_VERSION, rule, k, n, keyBytes, 0, 0]);
  const deltaF64 = new Float64Array(buffer, deltaF64At, 3 * k);
  const lsns = new Float64Array(buffer, lsnAt, n);
  const timestamps = new Float64Array(buffer, tsAt, n);
  const counts = new Uint32Array(buffer, countsAt, k);
  const keyEnds = new Uint32Array(buffer, keyEndAt, n);
  const keys = new Uint8Array(buffer, keysAt, keyBytes);

  let g = 0;
  let end = 0;
  for (let d = 0; d < k; d++) {
    const delta = deltas[d];
    const clear = delta.clearedAt;
    deltaF64[3 * d] = clear === undefined ? NaN : clear.lsn;
    deltaF64[3 * d + 1] = clear === undefined ? 0 : clear.timestamp;
    deltaF64[3 * d + 2] = sources[d];
    const records = delta.records;
    counts[d] = records.length;
    for (let i = 0; i < records.length; i++, g++) {
      const r = records[i];
      lsns[g] = r.lsn;
      timestamps[g] = r.timestamp;
      const key = r.key;
      const len = key.length;
      if (len < 64) {
        for (let b = 0; b < len; b++) keys[end + b] = key[b];
      } else {
        keys.set(key, end);
      }
      end += len;
      keyEnds[g] = end;
    }
  }
  return buffer;
}

/** Phase-1 view over a wire buffer, reading in place (no copies, no per-record objects). */
export class WireDeltaSource implements DeltaKeySource {
  readonly rule: number;
  readonly deltaCount: number;
  private readonly deltaF64: Float64Array;
  private readonly lsns: Float64Array;
  private readonly timestamps: Float64Array;
  private readonly keyEnds: Uint32Array;
  private readonly keys: Uint8Array;
  /** Global index of each delta's first record. */
  private readonly firsts: Int32Array;
  private readonly counts: Uint32Array;

  constructor(buffer: ArrayBuffer) {
    const header = new Uint32Array(buffer, 0, HEADER_U32);
    if (header[0] !== WIRE_MAGIC || header[1] !== WIRE_VERSION) {
      throw new TidemarkError(
        'UNSUPPORTED_VERSION',
        `merge wire buffer: magic ${header[0]} version ${header[1]}, expected ${WIRE_MAGIC} version ${WIRE_VERSION} (worker and caller built from different sources?)`,
      );
    }
    this.rule = header[2];
    const k = header[3];
    const n = header[4];
    const keyBytes = header[5];
    this.deltaCount = k;
    const deltaF64At = HEADER_U32 * 4;
    const lsnAt = deltaF64At + 24 * k;
    const tsAt = lsnAt + 8 * n;
    const countsAt = tsAt + 8 * n;
    const keyEndAt = countsAt + 4 * k;
    const keysAt = keyEndAt + 4 * n;
    this.deltaF64 = new Float64Array(buffer, deltaF64At, 3 * k);
    this.lsns = new Float64Array(buffer, lsnAt, n);
    this.timestamps = new Float64Array(buffer, tsAt, n);
    this.counts = new Uint32Array(buffer, countsAt, k);
    this.keyEnds = new Uint32Array(buffer, keyEndAt, n);
    this.keys = new Uint8Array(buffer, keysAt, keyBytes);
    this.firsts = new Int32Array(k);
    let g = 0;
    for (let d = 0; d < k; d++) {
      this.firsts[d] = g;
      g += this.counts[d];
    }
  }

  recordCount(d: number): number {
    return this.counts[d];
  }
  compare(da: number, ia: number, db: number, ib: number): number {
    const ga = this.firsts[da] + ia;
    const gb = this.firsts[db] + ib;
    const ends = this.keyEnds;
    let a = ga === 0 ? 0 : ends[ga - 1];
    let b = gb === 0 ? 0 : ends[gb - 1];
    const aEnd = ends[ga];
    const bEnd = ends[gb];
    const keys = this.keys;
    while (a < aEnd && b < bEnd) {
      const diff = keys[a] - keys[b];
      if (diff !== 0) return diff < 0 ? -1 : 1;
      a++;
      b++;
    }
    const restA = aEnd - a;
    const restB = bEnd - b;
    return restA === restB ? 0 : restA < restB ? -1 : 1;
  }
  lsn(d: number, i: number): number {
    return this.lsns[this.firsts[d] + i];
  }
  timestamp(d: number, i: number): number {
    return this.timestamps[this.firsts[d] + i];
  }
  source(d: number): number {
    return this.deltaF64[3 * d + 2];
  }
  hasClear(d: number): boolean {
    return !Number.isNaN(this.deltaF64[3 * d]);
  }
  clearLsn(d: number): number {
    return this.deltaF64[3 * d];
  }
  clearTimestamp(d: number): number {
    return this.deltaF64[3 * d + 1];
  }
}
