import { createHash, type Hash } from 'node:crypto';
import { invalidArgument } from '../../lib/errors';

const SCRATCH_BYTES = 64 * 1024;
/** Keys and values at least this long go to the hash directly instead of through the scratch buffer. */
const DIRECT_BYTES = 4 * 1024;

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
    if (this.previousKey !== undefined && Buffer.compare(this.previousKey, key) >= 0) {
      throw invalidArgument('StateDigest: keys must be fed in strictly rising byte order', {
        previousKey: this.previousKey.toString('hex'),
        key: key.toString('hex'),
      });
    }
    this.previousKey = key;
    this.keyCount++;
    this.bytes += key.length + value.length;
    this.feedLength(key.length);
    this.feed(key);
    this.feedLength(value.length);
    this.feed(value);
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
    this.scratch.writeUInt32BE(length, this.used);
    this.used += 4;
  }

  private feed(bytes: Buffer): void {
    if (bytes.length >= DIRECT_BYTES) {
      this.flush();
      this.hash.update(bytes);
      return;
    }
    if (this.used + bytes.length > SCRATCH_BYTES) this.flush();
    bytes.copy(this.scratch, this.used);
    this.used += bytes.length;
  }

  private flush(): void {
    if (this.used === 0) return;
    this.hash.update(this.scratch.subarray(0, this.used));
    this.used = 0;
  }
}
