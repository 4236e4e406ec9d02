import { promises as fs, type BigIntStats } from 'node:fs';
import type { ObjectInfo } from '../object-store';
import { fsError, isMissing } from './fs-errors';

/**
 * What the local store reports about one file. The etag is inode, size and modification time in nanoseconds:
 * an overwrite renames a new inode into place, so the etag changes; rename and link keep the inode and mtime,
 * so `put` can compute it from the temporary file before publishing it.
 */
export function infoFromStats(stats: BigIntStats): ObjectInfo {
  return {
    size: Number(stats.size),
    etag: `${stats.ino.toString(16)}-${stats.size.toString(16)}-${stats.mtimeNs.toString(16)}`,
    lastModified: new Date(Number(stats.mtimeNs / 1_000_000n)),
  };
}

/** The object stored in file `path`, or undefined when there is no regular file there. */
export async function statObject(path: string, key: string): Promise<ObjectInfo | undefined> {
  try {
    const stats = await fs.stat(path, { bigint: true });
    return stats.isFile() ? infoFromStats(stats) : undefined;
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw fsError(error, 'stat', key);
  }
}
