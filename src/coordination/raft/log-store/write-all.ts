import { writeSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';

/** Writes `buffers` one after another at `position`, however many calls the kernel needs for it. */
export async function writeAll(
  handle: FileHandle,
  buffers: readonly Uint8Array[],
  position: number,
): Promise<void> {
  let pending = buffers.filter((buffer) => buffer.length > 0);
  while (pending.length > 0) {
    const first = pending[0] as Uint8Array;
    const { bytesWritten } =
      pending.length === 1
        ? await handle.write(first, 0, first.length, position)
        : await handle.writev(pending, position);
    if (bytesWritten <= 0) throw new Error(`a write at offset ${position} wrote nothing`);
    position += bytesWritten;
    pending = dropWritten(pending, bytesWritten);
  }
}

/** writeAll's synchronous twin, for writes small enough to cost less than a trip to the thread pool. */
export function writeAllSync(fd: number, bytes: Uint8Array, position: number): void {
  let at = 0;
  while (at < bytes.length) {
    const written = writeSync(fd, bytes, at, bytes.length - at, position + at);
    if (written <= 0) throw new Error(`a write at offset ${position + at} wrote nothing`);
    at += written;
  }
}

function dropWritten(buffers: Uint8Array[], written: number): Uint8Array[] {
  let i = 0;
  while (i < buffers.length && written >= (buffers[i] as Uint8Array).length) {
    written -= (buffers[i] as Uint8Array).length;
    i++;
  }
  const rest = buffers.slice(i);
  if (written > 0) rest[0] = (rest[0] as Uint8Array).subarray(written);
  return rest;
}
