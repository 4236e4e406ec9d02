import { createHash, type Hash } from 'node:crypto';
import { invalidArgument } from '../../lib/errors';
import { compareRunKeys } from '../run/run-slice';
import type { SortedRun } from '../run/run-types';

const SCRATCH_BYTES = 64 * 1024;
/** Keys and values at least this long go to the hash directly instead of through the scratch buffer. */
const DIRECT_BYTES = 4 * 1024;
/** Up to this many bytes are copied by a loop rather than a native call. */
const SHORT_COPY = 64;

/** Is `b` strictly above `a` in byte order? A loop: Buffer.compare's checks cost more on short keys. */
function rises(a: Uint8Array, b: Uint8Array): boolean {
  const shorter = a.length < b.length ? a.length : b.length;
  for (let i = 0; i < shorter; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x !== y) return x < y;
  }
  return a.length < b.length;
}

/**
 * The digest of a component's whole logical state: sha256 over its records in key order (Buffer.compare),
 * each fed as `keyLen u32 BE | key | valueLen u32 BE | value`. Nothing else goes in — no LSN, timestamp,
 * component id or block layout — so a full checkpoint, a merged chain and a replay of the log all give the
 * same digest for the same state, which is what recovery's `full` verification compares.
 * The empty state's digest is sha256 of nothing (e3b0c442…).
 *
 * Records must come in strictly rising key order (INVALID_ARGUMENT otherwise: an unsorted or duplicated
 * key is a bug in the caller, and a digest of it would not match anybody else's). Small records are
 * batched through a scratch buffer, so the cost is about one hash update per 64 KiB.
 */
export class StateDigest {
  private readonly hash: Hash = createHash('sha256');
  private readonly scratch = Buffer.allocUnsafe(SCRATCH_BYTES);
  private used = 0;
  private previousKey: Buffer | undefined;
  private result: string | undefined;
  /** Records fed so far: the state's key count. */
  keyCount = 0;
  /** Key and value bytes fed so far: the state's logical size (the manifest's `bytes`). */
  bytes = 0;

  /** The digest of `records` (already sorted by key). */
  static of(records: Iterable<{ key: Buffer; value: Buffer }>): string {
    const digest = new StateDigest();
    for (const record of records) digest.update(record.key, record.value);
    return digest.digest();
  }

  update(key: Buffer, value: Buffer): this {
    if (this.result !== undefined) throw invalidArgument('StateDigest.update after digest()');
    if (this.previousKey !== undefined && !rises(this.previousKey, key))
      this.outOfOrder(this.previousKey, key);
    this.previousKey = key;
    this.keyCount++;
    this.bytes += key.length + value.length;
    this.feedLength(key.length);
    this.feed(key);
    this.feedLength(value.length);
    this.feed(value);
    return this;
  }

  /**
   * `update` for records [start, end) of a state run (no deletes), read from its columns in place: no
   * Buffer per key or value.
   */
  updateRun(run: SortedRun, start = 0, end = run.count): this {
    if (this.result !== undefined) throw invalidArgument('StateDigest.updateRun after digest()');
    if (run.deletes !== undefined)
      throw invalidArgument('StateDigest.updateRun: a run with deletes is not a state');
    if (start >= end) return this;
    const { keyBytes, keyStarts, valueBytes, valueStarts } = run;
    const first = keyBytes.subarray(keyStarts[start]!, keyStarts[start + 1]!);
    if (this.previousKey !== undefined && !rises(this.previousKey, first))
      this.outOfOrder(this.previousKey, first);
    for (let i = start; i < end; i++) {
      const keyStart = keyStarts[i]!;
      const keyEnd = keyStarts[i + 1]!;
      if (i > start && compareRunKeys(run, i - 1, run, i) >= 0) {
        this.outOfOrder(keyBytes.subarray(keyStarts[i - 1]!, keyStart), keyBytes.subarray(keyStart, keyEnd));
      }
      const valueStart = valueStarts[i]!;
      const valueEnd = valueStarts[i + 1]!;
      this.keyCount++;
      this.bytes += keyEnd - keyStart + valueEnd - valueStart;
      this.feedLength(keyEnd - keyStart);
      this.feedRange(keyBytes, keyStart, keyEnd);
      this.feedLength(valueEnd - valueStart);
      this.feedRange(valueBytes, valueStart, valueEnd);
    }
    this.previousKey = keyBytes.subarray(keyStarts[end - 1]!, keyStarts[end]!);
    return this;
  }

  /** Lowercase hex sha256; idempotent, and the digest is final after the first call. */
  digest(): string {
    if (this.result === undefined) {
      this.flush();
      this.result = this.hash.digest('hex');
    }
    return this.result;
  }

  private feedLength(length: number): void {
    if (this.used + 4 > SCRATCH_BYTES) this.flush();
    // By hand: writeUInt32BE's checks cost more than the four bytes (profiled, a checkpoint write).
    const scratch = this.scratch;
    const at = this.used;
    scratch[at] = length >>> 24;
    scratch[at + 1] = (length >>> 16) & 0xff;
    scratch[at + 2] = (length >>> 8) & 0xff;
    scratch[at + 3] = length & 0xff;
    this.used = at + 4;
  }

  private feed(bytes: Buffer): void {
    this.feedRange(bytes, 0, bytes.length);
  }

  private feedRange(bytes: Buffer, start: number, end: number): void {
    const length = end - start;
    if (length >= DIRECT_BYTES) {
      this.flush();
      this.hash.update(bytes.subarray(start, end));
      return;
    }
    if (this.used + length > SCRATCH_BYTES) this.flush();
    if (length <= SHORT_COPY) {
      // A native copy's call costs more than a short loop: keys and small values are a few dozen bytes.
      const scratch = this.scratch;
      let at = this.used;
      for (let i = start; i < end; i++) scratch[at++] = bytes[i]!;
    } else bytes.copy(this.scratch, this.used, start, end);
    this.used += length;
  }

  private outOfOrder(previousKey: Buffer, key: Buffer): never {
    throw invalidArgument('StateDigest: keys must be fed in strictly rising byte order', {
      previousKey: previousKey.toString('hex'),
      key: key.toString('hex'),
    });
  }

  private flush(): void {
    if (this.used === 0) return;
    this.hash.update(this.scratch.subarray(0, this.used));
    this.used = 0;
  }
}
