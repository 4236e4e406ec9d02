import {
  BlobServiceClient,
  StorageSharedKeyCredential,
  type StoragePipelineOptions,
} from '@azure/storage-blob';
import { invalidArgument } from '../../lib/errors';
import type { AzureBlobStoreOptions } from './azure-options';

/**
 * One try per request: `retrying-store.ts` does the retrying, with backoff, and knows that a retried
 * create-if-absent may meet its own lost first attempt — an SDK retry hidden below it would turn such a win
 * into PRECONDITION_FAILED unnoticed. A fresh object each time: the SDK writes into the options it is given.
 */
function pipelineOptions(): StoragePipelineOptions {
  return { retryOptions: { maxTries: 1 } };
}

/** The client for the one credential form the options give; INVALID_ARGUMENT for none, several or a bad one. */
export function createServiceClient(options: AzureBlobStoreOptions): BlobServiceClient {
  const { connectionString, accountName, accountKey, endpoint, serviceClient } = options;
  const account = accountName !== undefined || accountKey !== undefined || endpoint !== undefined;
  const forms = [connectionString !== undefined, account, serviceClient !== undefined].filter(Boolean);
  if (forms.length !== 1) {
    throw invalidArgument(
      'Azure Blob store: give exactly one of connectionString, accountName + accountKey (+ endpoint), ' +
        `or serviceClient (${forms.length === 0 ? 'none' : 'several'} given)`,
    );
  }
  if (serviceClient !== undefined) return serviceClient;
  if (connectionString !== undefined) {
    if (typeof connectionString !== 'string' || connectionString.trim() === '') {
      throw invalidArgument('Azure Blob store: connectionString is empty');
    }
    try {
      return BlobServiceClient.fromConnectionString(connectionString, pipelineOptions());
    } catch (error) {
      throw invalidArgument(
        `Azure Blob store: invalid connectionString (${reasonOf(error, connectionString)})`,
      );
    }
  }
  if (!nonEmpty(accountName) || !nonEmpty(accountKey)) {
    throw invalidArgument('Azure Blob store: accountName and accountKey go together; both are required');
  }
  const url = endpoint ?? `https://${accountName}.blob.core.windows.net`;
  if (!isHttpUrl(url)) throw invalidArgument(`Azure Blob store: invalid endpoint ${JSON.stringify(url)}`);
  return new BlobServiceClient(
    url,
    new StorageSharedKeyCredential(accountName, accountKey),
    pipelineOptions(),
  );
}

function nonEmpty(value: string | undefined): value is string {
  return typeof value === 'string' && value !== '';
}

function isHttpUrl(value: string): boolean {
  try {
    const { protocol } = new URL(value);
    return protocol === 'http:' || protocol === 'https:';
  } catch {
    return false;
  }
}

/** The SDK's reason, unless it quotes the string (whose key is a secret). */
function reasonOf(error: unknown, connectionString: string): string {
  const message = error instanceof Error ? error.message.split('\n')[0] : '';
  return message === '' || message.includes(connectionString) ? 'not understood' : message;
}
