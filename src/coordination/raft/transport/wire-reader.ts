import { isUtf8 } from 'node:buffer';
import { TidemarkError } from '../../../lib/errors';
import { MAX_VARINT_BYTES } from './wire-varint';

/** A string read from the input, by where its bytes are. */
interface RecentString {
  readonly start: number;
  readonly length: number;
  readonly value: string;
}

/**
 * A bounds-checked cursor over received bytes: every read checks the room left first and fails with
 * DESERIALIZATION_ERROR naming what was being read and where, so that a malformed or truncated batch is
 * refused cleanly — never a RangeError, never a read past the end.
 */
export class WireReader {
  private pos = 0;
  private readonly recentStrings: [RecentString | undefined, RecentString | undefined] = [
    undefined,
    undefined,
  ];
  private nextRecent = 0;

  constructor(private readonly buf: Buffer) {}

  get offset(): number {
    return this.pos;
  }

  get remaining(): number {
    return this.buf.length - this.pos;
  }

  u8(what: string): number {
    if (this.pos >= this.buf.length) throw this.malformed(`${what}: truncated`);
    return this.buf[this.pos++];
  }

  /** An unsigned LEB128 safe integer (see wire-varint.ts). */
  varint(what: string): number {
    const buf = this.buf;
    let value = 0;
    let scale = 1;
    for (let i = 0; i < MAX_VARINT_BYTES; i++) {
      if (this.pos >= buf.length) throw this.malformed(`${what}: truncated`);
      const byte = buf[this.pos++];
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) {
        if (value > Number.MAX_SAFE_INTEGER) throw this.malformed(`${what}: beyond 2^53 - 1`);
        return value;
      }
      scale *= 0x80;
    }
    throw this.malformed(`${what}: a varint longer than ${MAX_VARINT_BYTES} bytes`);
  }

  /** A varint that counts things each at least `minBytes` long: it cannot exceed what is left. */
  count(what: string, minBytes: number): number {
    const count = this.varint(what);
    if (count * minBytes > this.remaining) {
      throw this.malformed(`${what}: ${count} cannot fit in the ${this.remaining} bytes left`);
    }
    return count;
  }

  /** `length` bytes as a view of the input (no copy). */
  bytes(length: number, what: string): Buffer {
    if (length > this.remaining) {
      throw this.malformed(`${what}: ${length} bytes announced, ${this.remaining} left`);
    }
    const start = this.pos;
    this.pos += length;
    return this.buf.subarray(start, this.pos);
  }

  /** A u8 length and that many bytes of well-formed UTF-8. */
  shortString(what: string): string {
    const length = this.u8(what);
    if (length > this.remaining) {
      throw this.malformed(`${what}: ${length} bytes announced, ${this.remaining} left`);
    }
    const start = this.pos;
    this.pos += length;
    // Every message of a batch names the same two nodes: the last strings read are the likely ones.
    for (const recent of this.recentStrings) {
      if (recent !== undefined && this.sameBytes(recent, start, length)) return recent.value;
    }
    const bytes = this.buf.subarray(start, this.pos);
    if (!isUtf8(bytes)) throw this.malformed(`${what}: not UTF-8`);
    const value = bytes.toString('utf8');
    this.recentStrings[this.nextRecent] = { start, length, value };
    this.nextRecent ^= 1;
    return value;
  }

  private sameBytes(recent: RecentString, start: number, length: number): boolean {
    if (recent.length !== length) return false;
    const buf = this.buf;
    for (let i = 0; i < length; i++) if (buf[recent.start + i] !== buf[start + i]) return false;
    return true;
  }

  /** The input must end here. */
  end(): void {
    if (this.pos !== this.buf.length) {
      throw this.malformed(`${this.buf.length - this.pos} unexpected bytes after the last message`);
    }
  }

  malformed(message: string): TidemarkError {
    return new TidemarkError('DESERIALIZATION_ERROR', `raft message batch: ${message}`, {
      details: { offset: this.pos },
    });
  }
}
