import { Readable } from 'node:stream';
import type { BlockBlobClient, ContainerClient } from '@azure/storage-blob';
import type { TidemarkError } from '../../lib/errors';
import { silentLogger, type Logger } from '../../lib/logger';
import { checkRange } from '../byte-range';
import { assertValidKey, assertValidPrefix, keyProblem } from '../key-rules';
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
import { objectNotFound } from '../storage-errors';
import { downloadBlob, emptyBody } from './azure-download';
import { azureError, containerMissing, failureOf, isBlobMissing } from './azure-errors';
import { azureSettings, type AzureBlobStoreOptions, type AzureSettings } from './azure-options';
import { uploadBuffer, uploadStream, type UploadPlan } from './azure-upload';
import { objectInfo } from './blob-info';
import { Utf8ListOrder } from './list-order';
import { forEachLimited } from '../../lib/bounded-concurrency';
import { createServiceClient } from './service-client';

/** Deletes are one small request per key, sent this many at a time. */
const DELETE_CONCURRENCY = 16;

/**
 * The object store in an Azure Blob Storage container (or azurite), one block blob per key, the blob named
 * exactly as the key. Puts are atomic (one Put Blob, or staged blocks committed by one Put Block List, see
 * `azure-upload.ts`); create-if-absent is `If-None-Match: *`, which Azure enforces. The SDK tries each request
 * once — wrap the store in a RetryingStore — and its errors are translated by `azure-errors.ts`. The container
 * must exist: `init` checks it and says so clearly when it does not.
 */
export class AzureBlobStore implements ObjectStore {
  private readonly settings: AzureSettings;
  private readonly containerClient: ContainerClient;
  private readonly log: Logger;
  private ready: Promise<void> | undefined;

  constructor(options: AzureBlobStoreOptions) {
    this.settings = azureSettings(options);
    this.containerClient = createServiceClient(options).getContainerClient(this.settings.container);
    this.log = options.logger ?? silentLogger;
  }

  /** The container's name. */
  get container(): string {
    return this.settings.container;
  }

  init(): Promise<void> {
    this.ready ??= this.checkContainer().catch((error: unknown) => {
      this.ready = undefined; // let the next call try again
      throw error;
    });
    return this.ready;
  }

  private async checkContainer(): Promise<void> {
    try {
      await this.containerClient.getProperties();
    } catch (error) {
      throw failureOf(error).status === 404
        ? containerMissing(this.container, error)
        : this.failure(error, 'init');
    }
    this.log.debug({ container: this.container }, 'Azure Blob container reachable');
  }

  async put(key: string, body: ObjectBody, options: PutOptions = {}): Promise<PutResult> {
    let source: Buffer | Readable | undefined;
    try {
      assertValidKey(key);
      checkPutOptions(key, body, options);
      await this.init();
      source = openBody(body);
      const blob = this.blob(key);
      const plan = this.uploadPlan(key, options);
      return Buffer.isBuffer(source)
        ? await uploadBuffer(blob, source, plan)
        : await uploadStream(blob, source, plan);
    } catch (error) {
      if (source === undefined) discardBody(body);
      else if (source instanceof Readable) source.destroy();
      throw error; // a TidemarkError, or the body's own error (a factory's or its stream's) as it is
    }
  }

  async get(key: string, range?: ByteRange): Promise<Readable> {
    assertValidKey(key);
    checkRange(range);
    await this.init();
    if (range?.length === 0) {
      if ((await this.head(key)) === undefined) throw objectNotFound(key);
      return emptyBody();
    }
    try {
      return await downloadBlob(this.blob(key), range, (error) => this.failure(error, 'get', key));
    } catch (error) {
      throw this.failure(error, 'get', key);
    }
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    assertValidKey(key);
    await this.init();
    try {
      return objectInfo(await this.blob(key).getProperties());
    } catch (error) {
      if (isBlobMissing(error)) return undefined;
      throw this.failure(error, 'head', key);
    }
  }

  async *list(prefix: string): AsyncGenerator<ListedObject> {
    assertValidPrefix(prefix);
    await this.init();
    const order = new Utf8ListOrder<ListedObject>();
    const pages = this.containerClient
      .listBlobsFlat({ prefix: prefix === '' ? undefined : prefix })
      .byPage({ maxPageSize: this.settings.listPageSize });
    for (;;) {
      let page;
      try {
        page = await pages.next();
      } catch (error) {
        throw this.failure(error, 'list');
      }
      if (page.done === true) break;
      for (const item of page.value.segment.blobItems) {
        // Blobs other tools wrote under names no key can have (`a//b`, `dir/`) are not objects of this store.
        if (keyProblem(item.name) !== undefined) {
          this.log.debug(
            { container: this.container, name: item.name },
            'not listing a blob named unlike a key',
          );
          continue;
        }
        yield* order.push({ key: item.name, ...objectInfo(item.properties) });
      }
    }
    yield* order.flush();
  }

  async delete(keys: readonly string[]): Promise<void> {
    for (const key of keys) assertValidKey(key);
    if (keys.length === 0) return;
    await this.init();
    await forEachLimited([...new Set(keys)], DELETE_CONCURRENCY, async (key) => {
      try {
        await this.blob(key).deleteIfExists();
      } catch (error) {
        throw this.failure(error, 'delete', key);
      }
    });
  }

  private blob(key: string): BlockBlobClient {
    return this.containerClient.getBlockBlobClient(key);
  }

  private uploadPlan(key: string, options: PutOptions): UploadPlan {
    const { blockSize, singleShotThreshold, concurrency } = this.settings;
    return {
      key,
      exclusive: options.ifNoneMatch === '*',
      contentLength: options.contentLength,
      blockSize,
      singleShotThreshold,
      concurrency,
      log: this.log,
      translate: (error) => this.failure(error, 'put', key),
    };
  }

  private failure(error: unknown, op: string, key?: string): TidemarkError {
    return azureError(error, { op, container: this.container, key });
  }
}
