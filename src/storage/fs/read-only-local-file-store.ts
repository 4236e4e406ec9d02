import { Readable } from 'node:stream';
import { invalidArgument } from '../../lib/errors';
import { LocalFileStore, type ObjectBody, type PutResult } from '..';

/**
 * A local store directory opened for reading only — what `tidemark verify --path` reads. A plain
 * LocalFileStore prepares its directory on first use: creates it, and removes temporary files it takes
 * for a crash's leftovers, which would fail the puts in flight of a node running on that directory. This
 * one skips that (the directory must exist) and refuses writes.
 */
export class ReadOnlyLocalFileStore extends LocalFileStore {
  constructor(basePath: string) {
    super({ basePath, syncWrites: false });
  }

  override init(): Promise<void> {
    return Promise.resolve();
  }

  override put(key: string, body: ObjectBody): Promise<PutResult> {
    if (body instanceof Readable) body.destroy(); // the store owns a stream body it refuses
    return Promise.reject(invalidArgument(`this store is opened read-only; cannot put ${key}`));
  }

  override delete(keys: readonly string[]): Promise<void> {
    return Promise.reject(
      invalidArgument(`this store is opened read-only; cannot delete ${keys.length} keys`),
    );
  }
}
