import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';

/** Deterministic test bodies made chunk by chunk, so a large body never exists whole in the test either. */

const TAPE_BYTES = 1024 * 1024;
const BLOCK = 4096;
const tapes = new Map<number, Buffer>();

/** 1 MiB of pseudo-random bytes per seed (sha256 in counter mode: native speed, no per-byte JavaScript). */
function tape(seed: number): Buffer {
  let bytes = tapes.get(seed);
  if (bytes === undefined) {
    const parts: Buffer[] = [];
    for (let i = 0; i < TAPE_BYTES / 32; i++)
      parts.push(createHash('sha256').update(`${seed}:${i}`).digest());
    bytes = Buffer.concat(parts);
    tapes.set(seed, bytes);
  }
  return bytes;
}

/**
 * Bytes [position, position + length) of body `seed`: the seed's tape repeated, except that the first 8 bytes
 * of every 4 KiB block hold the block's number — so a block moved, repeated or lost anywhere is detected.
 */
function patternChunk(seed: number, position: number, length: number): Buffer {
  const source = tape(seed);
  const chunk = Buffer.allocUnsafe(length);
  for (let done = 0; done < length;) {
    const at = (position + done) % TAPE_BYTES;
    done += source.copy(chunk, done, at, Math.min(TAPE_BYTES, at + length - done));
  }
  const stamp = Buffer.alloc(8);
  for (let block = Math.floor(position / BLOCK); block * BLOCK < position + length; block++) {
    stamp.writeBigUInt64LE(BigInt(block));
    for (let i = 0; i < 8; i++) {
      const offset = block * BLOCK + i - position;
      if (offset >= 0 && offset < length) chunk[offset] = stamp[i];
    }
  }
  return chunk;
}

export interface GeneratedStream {
  stream: Readable;
  /** Bytes handed to the consumer so far. */
  produced(): number;
}

/** `total` bytes in `chunkSize` chunks, each made only when the consumer asks for it. */
export function generatedStream(
  total: number,
  seed = 1,
  chunkSize = 64 * 1024,
  onRead?: () => void,
): GeneratedStream {
  let position = 0;
  const stream = new Readable({
    highWaterMark: chunkSize,
    read() {
      onRead?.();
      if (position >= total) {
        this.push(null);
        return;
      }
      const length = Math.min(chunkSize, total - position);
      const chunk = patternChunk(seed, position, length);
      position += length;
      this.push(chunk);
    },
  });
  return { stream, produced: () => position };
}

export function generatedBuffer(total: number, seed = 1): Buffer {
  return patternChunk(seed, 0, total);
}

/** sha256 of what `generatedStream(total, seed)` produces, computed chunk by chunk. */
export function generatedDigest(total: number, seed = 1, chunkSize = 64 * 1024): string {
  const hash = createHash('sha256');
  for (let position = 0; position < total; position += chunkSize) {
    hash.update(patternChunk(seed, position, Math.min(chunkSize, total - position)));
  }
  return hash.digest('hex');
}

/** sha256 and length of a stream, read chunk by chunk. */
export async function digestOf(stream: Readable): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of stream) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), size };
}

/** A stream that yields `before` and then fails with `error`. */
export function failingStream(before: Buffer, error: Error): Readable {
  let sent = false;
  return new Readable({
    read() {
      if (!sent) {
        sent = true;
        this.push(before);
      } else this.destroy(error);
    },
  });
}
