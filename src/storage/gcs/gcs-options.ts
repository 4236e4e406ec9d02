import { Storage, type StorageOptions } from '@google-cloud/storage';
import type { Clock } from '../../lib/clock';
import { TidemarkError } from '../../lib/errors';
import type { Logger } from '../../lib/logger';

/** A service account key's two fields that sign requests. */
export interface GcsCredentials {
  client_email: string;
  private_key: string;
}

export interface GcsStoreOptions {
  bucket: string;
  projectId?: string;
  /**
   * Another endpoint than `https://storage.googleapis.com`: a private endpoint, an emulator, a test server.
   * With a custom endpoint, requests are signed only when `credentials` or `keyFilename` is given; without
   * them the client talks to it anonymously (what emulators and the test server expect).
   */
  apiEndpoint?: string;
  credentials?: GcsCredentials;
  /** Path of a service account key file. Neither this nor `credentials`: Application Default Credentials. */
  keyFilename?: string;
  /**
   * A Buffer up to this many bytes goes up in one multipart request, a larger one as a resumable upload. A
   * stream is read ahead by up to this many bytes (at most one chunk): one that ends within that goes in one
   * request, a longer one as a resumable upload. Default 16 MiB.
   */
  resumableThreshold?: number;
  /**
   * Bytes per request of a resumable upload: a multiple of 256 KiB (GCS's unit), at least 8 MiB. Each chunk is
   * held in memory while it is sent (the SDK keeps it to resend). Default 8 MiB.
   */
  resumableChunkSize?: number;
  /** Keys per listing request (GCS's maximum, and default: 1,000). */
  pageSize?: number;
  /**
   * A download whose reader waits this long for the next bytes fails with STORAGE_UNAVAILABLE: the HTTP
   * client underneath never reports a connection cut mid-body. Default 60 s.
   */
  downloadStallTimeoutMs?: number;
  logger?: Logger;
  /** What the download stall timeout runs on (default: the system clock). */
  clock?: Clock;
  /**
   * A client to use instead of building one (its own endpoint, auth and retry settings apply; it should not
   * retry on its own — `retryOptions: {autoRetry: false}` — since `RetryingStore` does).
   */
  storage?: Storage;
}

export const MIB = 1024 * 1024;
const CHUNK_UNIT = 256 * 1024;

export const GCS_DEFAULTS = {
  resumableThreshold: 16 * MIB,
  resumableChunkSize: 8 * MIB,
  pageSize: 1000,
  downloadStallTimeoutMs: 60_000,
} as const;

/** The options with defaults filled in, checked: a bad value is CONFIG_INVALID at construction. */
export interface GcsSettings {
  bucket: string;
  resumableThreshold: number;
  resumableChunkSize: number;
  pageSize: number;
  downloadStallTimeoutMs: number;
}

function invalid(message: string, details: Record<string, unknown>): TidemarkError {
  return new TidemarkError('CONFIG_INVALID', `GCS store: ${message}`, { details });
}

export function gcsSettings(options: GcsStoreOptions): GcsSettings {
  const { bucket } = options;
  if (typeof bucket !== 'string' || !/^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$/.test(bucket)) {
    throw invalid(`invalid bucket name ${JSON.stringify(bucket)}`, { bucket });
  }
  const settings: GcsSettings = {
    bucket,
    resumableThreshold: options.resumableThreshold ?? GCS_DEFAULTS.resumableThreshold,
    resumableChunkSize: options.resumableChunkSize ?? GCS_DEFAULTS.resumableChunkSize,
    pageSize: options.pageSize ?? GCS_DEFAULTS.pageSize,
    downloadStallTimeoutMs: options.downloadStallTimeoutMs ?? GCS_DEFAULTS.downloadStallTimeoutMs,
  };
  const { resumableThreshold, resumableChunkSize, pageSize, downloadStallTimeoutMs } = settings;
  if (!Number.isSafeInteger(resumableThreshold) || resumableThreshold < 0) {
    throw invalid(`resumableThreshold must be a non-negative integer, not ${resumableThreshold}`, {
      resumableThreshold,
    });
  }
  if (
    !Number.isSafeInteger(resumableChunkSize) ||
    resumableChunkSize < 8 * MIB ||
    resumableChunkSize % CHUNK_UNIT !== 0
  ) {
    throw invalid(
      `resumableChunkSize must be a multiple of 256 KiB, at least 8 MiB, not ${resumableChunkSize}`,
      {
        resumableChunkSize,
      },
    );
  }
  if (!Number.isSafeInteger(pageSize) || pageSize < 1 || pageSize > 1000) {
    throw invalid(`pageSize must be 1 to 1,000, not ${pageSize}`, { pageSize });
  }
  if (!Number.isSafeInteger(downloadStallTimeoutMs) || downloadStallTimeoutMs < 1) {
    throw invalid(`downloadStallTimeoutMs must be a positive integer, not ${downloadStallTimeoutMs}`, {
      downloadStallTimeoutMs,
    });
  }
  return settings;
}

/**
 * The client the options describe. It never retries by itself (`autoRetry: false`): a retried upload is not
 * always safe, and `RetryingStore` decides what is retried, once, with its backoff, for every adapter alike.
 */
export function createStorage(options: GcsStoreOptions): Storage {
  if (options.storage !== undefined) return options.storage;
  const signed = options.credentials !== undefined || options.keyFilename !== undefined;
  const storageOptions: StorageOptions = {
    projectId: options.projectId,
    apiEndpoint: options.apiEndpoint,
    credentials: options.credentials,
    keyFilename: options.keyFilename,
    // Only consulted for a custom endpoint: sign when given credentials, else talk anonymously.
    useAuthWithCustomEndpoint: signed,
    retryOptions: { autoRetry: false },
  };
  return new Storage(storageOptions);
}
