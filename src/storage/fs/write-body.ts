import type { FileHandle } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { fsError } from './fs-errors';

/** Small stream chunks are gathered up to this size and written with one call. */
const WRITE_CHUNK = 1024 * 1024;

/**
 * Writes `body` at the start of the open file and returns its length. A stream is read one chunk at a time
 * (back-pressure: the next chunk is pulled only after the last write finished), so at most ~1 MiB of it is in
 * memory. A failing write destroys the stream and rejects with STORAGE_UNAVAILABLE; a failing stream rejects
 * with the stream's own error.
 */
export async function writeBody(handle: FileHandle, body: Buffer | Readable, key: string): Promise<number> {
  if (Buffer.isBuffer(body)) {
    await writeFully(handle, body, 0, key);
    return body.length;
  }
  let position = 0;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  for await (const chunk of body) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
    pending.push(buffer);
    pendingBytes += buffer.length;
    if (pendingBytes >= WRITE_CHUNK) {
      await writeFully(handle, pending.length === 1 ? pending[0] : Buffer.concat(pending), position, key);
      position += pendingBytes;
      pending = [];
      pendingBytes = 0;
    }
  }
  if (pendingBytes > 0) await writeFully(handle, Buffer.concat(pending), position, key);
  return position + pendingBytes;
}

async function writeFully(handle: FileHandle, buffer: Buffer, position: number, key: string): Promise<void> {
  let done = 0;
  try {
    while (done < buffer.length) {
      const { bytesWritten } = await handle.write(buffer, done, buffer.length - done, position + done);
      if (bytesWritten === 0) throw Object.assign(new Error('write made no progress'), { code: 'EIO' });
      done += bytesWritten;
    }
  } catch (error) {
    throw fsError(error, 'write', key);
  }
}
