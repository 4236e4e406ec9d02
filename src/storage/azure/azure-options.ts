import type { BlobServiceClient } from '@azure/storage-blob';
import { invalidArgument } from '../../lib/errors';
import type { Logger } from '../../lib/logger';

const MiB = 1024 * 1024;

/**
 * Where the objects live and how to reach them. Give exactly one credential form: `connectionString`, or
 * `accountName` + `accountKey` (+ `endpoint`), or a ready `serviceClient`.
 */
export interface AzureBlobStoreOptions {
  /** The container that holds the objects. It must exist: the store never creates it. */
  container: string;
  /** `DefaultEndpointsProtocol=…;AccountName=…;AccountKey=…;BlobEndpoint=…` (the portal's form). */
  connectionString?: string;
  accountName?: string;
  accountKey?: string;
  /**
   * The blob service URL for `accountName`/`accountKey`; default `https://{accountName}.blob.core.windows.net`.
   * Azurite: `http://127.0.0.1:10000/devstoreaccount1`.
   */
  endpoint?: string;
  /**
   * A client built by the caller (its own credential, pipeline or policies), used as is — build it with
   * `retryOptions: { maxTries: 1 }` unless the SDK should retry below RetryingStore too.
   */
  serviceClient?: BlobServiceClient;
  /** Bytes per staged block of an upload too big for one request. Default 8 MiB. */
  blockSize?: number;
  /** Bodies up to this many bytes are stored with one Put Blob request. Default: `blockSize`. */
  singleShotThreshold?: number;
  /** Blocks of one upload staged in parallel (each holds `blockSize` bytes in memory). Default 4. */
  concurrency?: number;
  /** Blobs a listing request asks for (Azure's maximum is 5,000). Default 5,000. */
  listPageSize?: number;
  logger?: Logger;
}

/** The settings the store runs with, validated, defaults filled in. */
export interface AzureSettings {
  container: string;
  blockSize: number;
  singleShotThreshold: number;
  concurrency: number;
  listPageSize: number;
}

// Azure's limits: a staged block ≤ 4,000 MiB, a single Put Blob ≤ 5,000 MiB, a listing page ≤ 5,000.
const MAX_BLOCK = 4000 * MiB;
const MAX_SINGLE_SHOT = 5000 * MiB;
const MAX_LIST_PAGE = 5000;

/** Throws INVALID_ARGUMENT for a container name Azure would refuse or numbers out of Azure's range. */
export function azureSettings(options: AzureBlobStoreOptions): AzureSettings {
  const { container } = options;
  if (typeof container !== 'string' || !isContainerName(container)) {
    throw invalidArgument(
      `invalid Azure container name ${JSON.stringify(container)}: 3–63 lowercase letters, digits and ` +
        'single hyphens, beginning and ending with a letter or digit',
      { container },
    );
  }
  const blockSize = integerIn('blockSize', options.blockSize ?? 8 * MiB, 1, MAX_BLOCK);
  return {
    container,
    blockSize,
    singleShotThreshold: integerIn(
      'singleShotThreshold',
      options.singleShotThreshold ?? Math.min(blockSize, MAX_SINGLE_SHOT),
      0,
      MAX_SINGLE_SHOT,
    ),
    concurrency: integerIn('concurrency', options.concurrency ?? 4, 1, 64),
    listPageSize: integerIn('listPageSize', options.listPageSize ?? MAX_LIST_PAGE, 1, MAX_LIST_PAGE),
  };
}

function isContainerName(name: string): boolean {
  return (
    name === '$root' || (name.length >= 3 && name.length <= 63 && /^[a-z0-9](?:-?[a-z0-9])*$/.test(name))
  );
}

function integerIn(name: string, value: number, min: number, max: number): number {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw invalidArgument(`invalid Azure ${name} ${String(value)}: an integer from ${min} to ${max}`, {
      [name]: value,
    });
  }
  return value;
}
