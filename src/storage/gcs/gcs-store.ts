import type { Bucket, FileMetadata } from '@google-cloud/storage';
import { Readable } from 'node:stream';
import { mapLimited } from '../../lib/bounded-concurrency';
import { systemClock, type Clock } from '../../lib/clock';
import { TidemarkError } from '../../lib/errors';
import { silentLogger, type Logger } from '../../lib/logger';
import { checkRange } from '../byte-range';
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
import { objectNotFound, storageUnavailable } from '../storage-errors';
import { openDownload } from './gcs-download';
import { gcsError, isObjectMissing, isRangeNotSatisfiable, type GcsOperation } from './gcs-errors';
import { createStorage, gcsSettings, type GcsSettings, type GcsStoreOptions } from './gcs-options';
import { uploadObject } from './gcs-upload';

/** Deletes in flight at once: GCS has no batch delete in the JSON API client, so keys go one request each. */
const DELETE_CONCURRENCY = 8;

/**
 * The object store in a Google Cloud Storage bucket, through `@google-cloud/storage`. Keys are object names
 * as they are. Create-if-absent is `ifGenerationMatch=0`, which GCS decides atomically; the version tag
 * (`etag`) is the object's generation, which rises with every write. The client does not retry on its own:
 * wrap the store in `RetryingStore` (as `createBackend` does).
 */
export class GcsStore implements ObjectStore {
  private readonly settings: GcsSettings;
  private readonly bucket: Bucket;
  private readonly log: Logger;
  private readonly clock: Clock;
  private ready: Promise<void> | undefined;

  constructor(options: GcsStoreOptions) {
    this.settings = gcsSettings(options);
    this.bucket = createStorage(options).bucket(this.settings.bucket);
    this.log = options.logger ?? silentLogger;
    this.clock = options.clock ?? systemClock;
  }

  /** Checks that the bucket exists and these credentials may read it; CONFIG_INVALID if not. */
  init(): Promise<void> {
    this.ready ??= this.call('init', '', async () => {
      await this.bucket.getMetadata();
      this.log.debug({ bucket: this.settings.bucket }, 'GCS bucket reachable');
    }).catch((error: unknown) => {
      this.ready = undefined; // let the next call try again
      throw error;
    });
    return this.ready;
  }

  async put(key: string, body: ObjectBody, options: PutOptions = {}): Promise<PutResult> {
    try {
      assertValidKey(key);
      checkPutOptions(key, body, options);
      await this.init();
    } catch (error) {
      discardBody(body);
      throw error;
    }
    const source = openBody(body);
    let bodyError: unknown;
    if (source instanceof Readable) source.once('error', (error: unknown) => (bodyError = error));
    try {
      const metadata = await uploadObject(this.bucket.file(key), {
        key,
        body: source,
        contentLength: options.contentLength,
        exclusive: options.ifNoneMatch === '*',
        resumableThreshold: this.settings.resumableThreshold,
        chunkSize: this.settings.resumableChunkSize,
      });
      const info = objectInfo(metadata, key);
      return { size: info.size, etag: info.etag };
    } catch (error) {
      if (source instanceof Readable) source.destroy(); // the store owns it
      if (error === bodyError) throw error; // the body's own failure, as the port says
      throw gcsError(error, this.context('put', key));
    }
  }

  async get(key: string, range?: ByteRange): Promise<Readable> {
    assertValidKey(key);
    checkRange(range);
    await this.init();
    if (range?.length === 0) {
      // No HTTP range selects zero bytes; the port still wants NOT_FOUND for a missing key.
      if ((await this.head(key)) === undefined) throw objectNotFound(key);
      return emptyBody();
    }
    const whole = range === undefined || (range.offset === 0 && range.length === undefined);
    const translate = (error: unknown) => gcsError(error, this.context('get', key));
    const stallMs = this.settings.downloadStallTimeoutMs;
    try {
      return await openDownload(this.bucket.file(key), {
        range: whole
          ? undefined
          : {
              start: range.offset,
              end: range.length === undefined ? undefined : range.offset + range.length - 1,
            },
        translate,
        stallMs,
        clock: this.clock,
        onStall: () =>
          storageUnavailable(
            `GCS get of ${JSON.stringify(key)}: no data for ${stallMs} ms`,
            undefined,
            this.context('get', key),
          ),
      });
    } catch (error) {
      if (isRangeNotSatisfiable(error)) return emptyBody(); // the offset is at or past the end: clipped
      throw translate(error);
    }
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    assertValidKey(key);
    await this.init();
    try {
      const [metadata] = await this.bucket.file(key).getMetadata();
      return objectInfo(metadata, key);
    } catch (error) {
      if (isObjectMissing(error)) return undefined;
      throw gcsError(error, this.context('head', key));
    }
  }

  async *list(prefix: string): AsyncGenerator<ListedObject> {
    assertValidPrefix(prefix);
    await this.init();
    let pageToken: string | undefined;
    do {
      const [files, next] = await this.call('list', prefix, () =>
        this.bucket.getFiles({
          prefix: prefix === '' ? undefined : prefix,
          maxResults: this.settings.pageSize,
          pageToken,
          autoPaginate: false,
        }),
      );
      // GCS lists in UTF-8 byte order: the port's order, so pages are passed on as they come.
      for (const file of files) yield { key: file.name, ...objectInfo(file.metadata, file.name) };
      pageToken = (next as { pageToken?: string } | null)?.pageToken;
    } while (pageToken !== undefined);
  }

  async delete(keys: readonly string[]): Promise<void> {
    for (const key of keys) assertValidKey(key);
    if (keys.length === 0) return;
    await this.init();
    await mapLimited([...new Set(keys)], DELETE_CONCURRENCY, (key) => this.deleteOne(key));
  }

  private async deleteOne(key: string): Promise<void> {
    try {
      await this.bucket.file(key).delete();
    } catch (error) {
      if (!isObjectMissing(error)) throw gcsError(error, this.context('delete', key));
    }
  }

  private context(op: GcsOperation, key: string) {
    return { op, key, bucket: this.settings.bucket };
  }

  private async call<T>(op: GcsOperation, key: string, request: () => Promise<T>): Promise<T> {
    try {
      return await request();
    } catch (error) {
      throw gcsError(error, this.context(op, key));
    }
  }
}

function emptyBody(): Readable {
  return Readable.from([], { objectMode: false });
}

/** Size, version tag and time from GCS's object resource (64-bit integers arrive as decimal strings). */
function objectInfo(metadata: FileMetadata, key: string): ObjectInfo {
  const size = Number(metadata.size);
  const lastModified = new Date(metadata.updated ?? Number.NaN);
  if (
    !Number.isSafeInteger(size) ||
    size < 0 ||
    Number.isNaN(lastModified.getTime()) ||
    metadata.generation === undefined
  ) {
    throw new TidemarkError('INTERNAL', `GCS returned incomplete metadata for ${key}`, {
      details: { key, size: metadata.size, updated: metadata.updated, generation: metadata.generation },
    });
  }
  return { size, etag: String(metadata.generation), lastModified };
}
