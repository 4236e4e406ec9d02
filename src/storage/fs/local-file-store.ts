import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import { TidemarkError } from '../../lib/errors';
import { syncDirectory } from '../../lib/fs/sync-directory';
import { silentLogger, type Logger } from '../../lib/logger';
import { checkRange, clipRange } from '../byte-range';
import { assertValidKey, assertValidPrefix } from '../key-rules';
import { checkPutOptions, discardBody, openBody } from '../object-body';
import type {
  ByteRange,
  ListedObject,
  ObjectBody,
  ObjectInfo,
  ObjectStore,
  PutOptions,
  PutResult,
} from '../object-store';
import { objectExists, objectNotFound } from '../storage-errors';
import { createTempFile, fillTempFile, publishIfAbsent, publishReplacing } from './atomic-write';
import { makeDirectories, removeEmptyDirectories } from './directories';
import { errnoOf, fsError, fsStep, isMissing } from './fs-errors';
import { statObject } from './object-files';
import { removeLeftoverTempFiles, tempFileName } from './temp-files';
import { walkKeys } from './walk-keys';

export interface LocalFileStoreOptions {
  /** The directory that holds the objects; key `a/b/c` is file `{basePath}/a/b/c`. */
  basePath: string;
  /** fsync each object and its directory before `put` resolves, directories after deletes. Default true. */
  syncWrites?: boolean;
  logger?: Logger;
}

const READ_CHUNK = 256 * 1024;

/**
 * The object store in a local directory: the embedded default. A put writes a temporary file beside the
 * object, fsyncs it, then publishes it under its real name — rename(2) to replace, link(2) to
 * create-if-absent (the kernel refuses an existing name with EEXIST, so exactly one of many racing creators
 * wins) — and fsyncs the directory. A crash leaves the old object or the new one, never a partial one under
 * the real name; its temporary files are invisible to `list` and removed by `init`. One process (the node
 * holding the data directory) is expected to own the directory; another instance's `init` removes the first's
 * temporary files and so fails its puts in flight (STORAGE_UNAVAILABLE, retried). Create-if-absent needs hard
 * links, which ext4, xfs, btrfs, tmpfs and NFS have.
 */
export class LocalFileStore implements ObjectStore {
  private readonly root: string;
  private readonly sync: boolean;
  private readonly log: Logger;
  private readonly owner = randomBytes(6).toString('hex');
  private tempCount = 0;
  private ready: Promise<void> | undefined;

  constructor(options: LocalFileStoreOptions) {
    this.root = resolve(options.basePath);
    this.sync = options.syncWrites ?? true;
    this.log = options.logger ?? silentLogger;
  }

  init(): Promise<void> {
    this.ready ??= this.prepare().catch((error: unknown) => {
      this.ready = undefined; // let the next call try again
      throw fsError(error, 'init', this.root);
    });
    return this.ready;
  }

  private async prepare(): Promise<void> {
    await makeDirectories(this.root, this.sync);
    const removed = await removeLeftoverTempFiles(this.root, this.owner);
    if (removed > 0) this.log.info({ dir: this.root, removed }, 'removed temporary files left by a crash');
  }

  async put(key: string, body: ObjectBody, options: PutOptions = {}): Promise<PutResult> {
    const exclusive = options.ifNoneMatch === '*';
    let source: Buffer | Readable | undefined;
    let temp: string | undefined;
    try {
      assertValidKey(key);
      checkPutOptions(key, body, options);
      await this.init();
      const path = this.pathOf(key);
      if (exclusive && (await statObject(path, key)) !== undefined) throw objectExists(key); // fast path only
      source = openBody(body);
      const tempName = () => tempFileName(basename(path), this.owner, ++this.tempCount);
      const created = await createTempFile(path, key, tempName, this.sync);
      temp = created.path;
      const info = await fillTempFile(created.handle, source, key, options.contentLength, this.sync);
      await (exclusive ? publishIfAbsent(temp, path, key) : publishReplacing(temp, path, key));
      temp = undefined;
      if (this.sync) await fsStep('fsync', key, () => syncDirectory(dirname(path)));
      return { size: info.size, etag: info.etag };
    } catch (error) {
      if (source === undefined) discardBody(body);
      else if (source instanceof Readable) source.destroy();
      if (temp !== undefined) await fs.rm(temp, { force: true }).catch(() => undefined);
      throw error;
    }
  }

  async get(key: string, range?: ByteRange): Promise<Readable> {
    assertValidKey(key);
    checkRange(range);
    await this.init();
    let handle: FileHandle;
    try {
      handle = await fs.open(this.pathOf(key), 'r');
    } catch (error) {
      throw isMissing(error) ? objectNotFound(key) : fsError(error, 'get', key);
    }
    try {
      const stats = await handle.stat();
      if (!stats.isFile()) throw objectNotFound(key); // a directory: a prefix of other keys, not an object
      const { start, end } = clipRange(stats.size, range);
      if (end <= start) {
        await handle.close();
        return Readable.from([], { objectMode: false });
      }
      return handle.createReadStream({ start, end: end - 1, highWaterMark: READ_CHUNK, autoClose: true });
    } catch (error) {
      await handle.close().catch(() => undefined);
      throw error instanceof TidemarkError ? error : fsError(error, 'get', key);
    }
  }

  /** The file in one read (no stream: a block of recovery costs an open, a stat, a read and a close). */
  async getBytes(key: string): Promise<Buffer> {
    assertValidKey(key);
    await this.init();
    try {
      return await fs.readFile(this.pathOf(key));
    } catch (error) {
      if (isMissing(error) || errnoOf(error) === 'EISDIR') throw objectNotFound(key);
      throw fsError(error, 'get', key);
    }
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    assertValidKey(key);
    await this.init();
    return statObject(this.pathOf(key), key);
  }

  async *list(prefix: string): AsyncGenerator<ListedObject> {
    assertValidPrefix(prefix);
    await this.init();
    yield* walkKeys(this.root, prefix);
  }

  async delete(keys: readonly string[]): Promise<void> {
    for (const key of keys) assertValidKey(key);
    if (keys.length === 0) return;
    await this.init();
    const dirs = new Set<string>();
    for (const key of new Set(keys)) {
      const path = this.pathOf(key);
      try {
        await fs.unlink(path);
        dirs.add(dirname(path));
      } catch (error) {
        // Missing, or a directory (a prefix of other keys, not an object): nothing to delete.
        if (!isMissing(error) && errnoOf(error) !== 'EISDIR') throw fsError(error, 'delete', key);
      }
    }
    const deepestFirst = [...dirs].sort((a, b) => b.length - a.length);
    if (this.sync) {
      for (const dir of deepestFirst) {
        await syncDirectory(dir).catch((error: unknown) => {
          if (!isMissing(error)) throw fsError(error, 'delete', dir);
        });
      }
    }
    for (const dir of deepestFirst) await removeEmptyDirectories(dir, this.root);
  }

  /** The file of a valid key: inside the root by construction (no empty, dot or backslash segments). */
  private pathOf(key: string): string {
    const path = join(this.root, ...key.split('/'));
    if (!path.startsWith(this.root.endsWith(sep) ? this.root : this.root + sep))
      throw new TidemarkError('INTERNAL', `key escapes the store: ${key}`);
    return path;
  }
}
