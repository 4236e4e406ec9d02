import { promises as fs } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import type { ObjectInfo } from '../object-store';
import { lengthMismatch, objectExists } from '../storage-errors';
import { makeDirectories } from './directories';
import { errnoOf, fsError, fsStep, keyShadowed } from './fs-errors';
import { infoFromStats, statObject } from './object-files';
import { writeBody } from './write-body';

/**
 * The steps of an atomic put into a directory: create a temporary file beside the object, fill it and make it
 * durable, then publish it under the object's name in one step — rename(2) to replace, link(2) to create only
 * if absent. Until the publishing step nothing is visible under the name; after it, the whole body is.
 */

/** Attempts at creating a temporary file while a concurrent delete removes its (empty) directory. */
const DIRECTORY_RACES = 5;

/** Opens a new temporary file (named by `tempName`) beside `path`, creating the directories it needs. */
export async function createTempFile(
  path: string,
  key: string,
  tempName: () => string,
  sync: boolean,
): Promise<{ path: string; handle: FileHandle }> {
  const dir = dirname(path);
  for (let attempt = 1; ; attempt++) {
    const lastAttempt = attempt >= DIRECTORY_RACES;
    try {
      await makeDirectories(dir, sync);
    } catch (error) {
      const errno = errnoOf(error);
      if (errno === 'ENOTDIR' || errno === 'EEXIST') throw keyShadowed(key); // a file where a directory goes
      if (errno !== 'ENOENT' || lastAttempt) throw fsError(error, 'put', key);
      continue;
    }
    const temp = join(dir, tempName());
    try {
      return { path: temp, handle: await fs.open(temp, 'wx') };
    } catch (error) {
      // ENOENT: a delete removed the directory, empty a moment ago; make it again.
      if (errnoOf(error) !== 'ENOENT' || lastAttempt) throw fsError(error, 'put', key);
    }
  }
}

/** Writes the body into the temporary file, checks its length, makes it durable; always closes the file. */
export async function fillTempFile(
  handle: FileHandle,
  source: Buffer | Readable,
  key: string,
  expected: number | undefined,
  sync: boolean,
): Promise<ObjectInfo> {
  try {
    const size = await writeBody(handle, source, key);
    if (expected !== undefined && size !== expected) throw lengthMismatch(key, expected, size);
    if (sync) await fsStep('fsync', key, () => handle.sync());
    return infoFromStats(await fsStep('stat', key, () => handle.stat({ bigint: true })));
  } finally {
    await handle.close().catch(() => undefined);
  }
}

/** Replaces whatever object `path` held: rename(2) is atomic. */
export async function publishReplacing(temp: string, path: string, key: string): Promise<void> {
  try {
    await fs.rename(temp, path);
  } catch (error) {
    const errno = errnoOf(error);
    throw errno === 'EISDIR' || errno === 'ENOTEMPTY' || errno === 'EEXIST'
      ? keyShadowed(key)
      : fsError(error, 'put', key);
  }
}

/**
 * Create-if-absent: link(2) fails with EEXIST when the name exists, atomically — of many racing creators
 * exactly one wins, with no window between a check and a rename. The temporary name is removed either way.
 */
export async function publishIfAbsent(temp: string, path: string, key: string): Promise<void> {
  try {
    await fs.link(temp, path);
  } catch (error) {
    if (errnoOf(error) !== 'EEXIST') throw fsError(error, 'put', key);
    throw (await statObject(path, key)) === undefined ? keyShadowed(key) : objectExists(key);
  } finally {
    await fs.rm(temp, { force: true }).catch(() => undefined); // a leftover is swept by the next init
  }
}
