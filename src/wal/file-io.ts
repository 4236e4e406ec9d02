import * as fs from 'node:fs';

/**
 * The few positional file calls the writer makes, as promises over the callback API (cheaper than
 * fs/promises FileHandle on the hot path: one flush is one writev and one fdatasync).
 */
function writevAt(fd: number, buffers: Buffer[], position: number): Promise<number> {
  return new Promise((resolve, reject) =>
    fs.writev(fd, buffers, position, (error, written) => (error ? reject(error) : resolve(written))),
  );
}

/** Writes every byte of `buffers` at `position`, continuing after short writes. */
export async function writeAllAt(
  fd: number,
  buffers: Buffer[],
  total: number,
  position: number,
): Promise<void> {
  let remaining = buffers;
  let left = total;
  while (left > 0) {
    const written = await writevAt(fd, remaining, position);
    if (written === 0) throw Object.assign(new Error('write made no progress'), { code: 'EIO' });
    left -= written;
    position += written;
    if (left > 0) remaining = dropBytes(remaining, written);
  }
}

function dropBytes(buffers: Buffer[], count: number): Buffer[] {
  const rest: Buffer[] = [];
  for (const buffer of buffers) {
    if (count >= buffer.length) count -= buffer.length;
    else {
      rest.push(count > 0 ? buffer.subarray(count) : buffer);
      count = 0;
    }
  }
  return rest;
}

export function fdatasync(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fs.fdatasync(fd, (error) => (error ? reject(error) : resolve())));
}

export function fsyncFd(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fs.fsync(fd, (error) => (error ? reject(error) : resolve())));
}

export function ftruncate(fd: number, length: number): Promise<void> {
  return new Promise((resolve, reject) =>
    fs.ftruncate(fd, length, (error) => (error ? reject(error) : resolve())),
  );
}

export function openFd(path: string, flags: string): Promise<number> {
  return new Promise((resolve, reject) =>
    fs.open(path, flags, (error, fd) => (error ? reject(error) : resolve(fd))),
  );
}

export function closeFd(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fs.close(fd, (error) => (error ? reject(error) : resolve())));
}
