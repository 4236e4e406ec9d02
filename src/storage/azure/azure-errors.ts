import { TidemarkError } from '../../lib/errors';
import { objectExists, objectNotFound, storageUnavailable } from '../storage-errors';

/** How the Azure adapter turns the SDK's errors (RestError and network errors) into the port's errors. */

export interface AzureErrorContext {
  /** The port operation: put, get, head, list, delete, init. */
  op: string;
  container: string;
  key?: string;
}

/** The HTTP status and Azure's error code (x-ms-error-code) of an SDK error, read structurally. */
export interface AzureFailure {
  status?: number;
  code?: string;
}

export function failureOf(error: unknown): AzureFailure {
  if (typeof error !== 'object' || error === null) return {};
  const { statusCode, code, details } = error as { statusCode?: unknown; code?: unknown; details?: unknown };
  // HEAD answers carry no body, so the code is only in the header the SDK copies into details.errorCode.
  const detailCode =
    typeof details === 'object' && details !== null
      ? (details as { errorCode?: unknown }).errorCode
      : undefined;
  return {
    status: typeof statusCode === 'number' ? statusCode : undefined,
    code: typeof detailCode === 'string' ? detailCode : typeof code === 'string' ? code : undefined,
  };
}

/** The blob (not its container) does not exist. */
export function isBlobMissing(error: unknown): boolean {
  const { status, code } = failureOf(error);
  return status === 404 && (code === undefined || code === 'BlobNotFound');
}

/**
 * A create-if-absent found the key taken: 409 BlobAlreadyExists, or 412 ConditionNotMet (other 412s speak of
 * leases, which Tidemark does not take).
 */
export function isConditionFailed(error: unknown): boolean {
  const { status, code } = failureOf(error);
  return (
    code === 'BlobAlreadyExists' || (status === 412 && (code === undefined || code === 'ConditionNotMet'))
  );
}

/** The Range header asked for bytes at or past the end of the blob. */
export function isRangeUnsatisfiable(error: unknown): boolean {
  return failureOf(error).status === 416;
}

const AUTH_STATUSES = new Set([401, 403]);
const TRANSIENT_4XX = new Set([408, 409, 429]);

/**
 * One failed SDK call as a TidemarkError. TidemarkErrors pass through unchanged.
 * - 404 BlobNotFound → NOT_FOUND; 409 BlobAlreadyExists and 412 ConditionNotMet → PRECONDITION_FAILED;
 * - a missing container or refused credentials → CONFIG_INVALID: no retry can fix them, an operator must;
 * - 400 InvalidBlockList → STORAGE_UNAVAILABLE: a concurrent upload of the same key committed first, which
 *   discards every other upload's staged blocks — this one can simply be tried again;
 * - any other 4xx but 408, 409 and 429 → INVALID_ARGUMENT (Azure refused this request as such);
 * - network errors, timeouts, 408, 409 (a lease, a copy or a deletion in progress), 429, 5xx and anything
 *   unrecognised → STORAGE_UNAVAILABLE (retryable).
 */
export function azureError(error: unknown, context: AzureErrorContext): TidemarkError {
  if (error instanceof TidemarkError) return error;
  const { status, code } = failureOf(error);
  const { op, container, key } = context;
  const target = key === undefined ? `container ${container}` : `${key} in container ${container}`;
  const details = { op, container, key, status, azureCode: code };
  if (code === 'ContainerNotFound') return containerMissing(container, error);
  if (status !== undefined && AUTH_STATUSES.has(status)) {
    return new TidemarkError(
      'CONFIG_INVALID',
      `Azure Blob refused the credentials for container ${container} (${status} ${code ?? ''}): ` +
        'check the account name, key or connection string',
      { cause: error, details },
    );
  }
  if (key !== undefined && isBlobMissing(error)) return objectNotFound(key);
  if (key !== undefined && isConditionFailed(error)) return objectExists(key);
  if (code === 'InvalidBlockList') {
    return storageUnavailable(
      `Azure Blob ${op} of ${target} lost its staged blocks to a concurrent upload of the same key`,
      error,
      details,
    );
  }
  if (status !== undefined && status >= 400 && status < 500 && !TRANSIENT_4XX.has(status)) {
    return new TidemarkError(
      'INVALID_ARGUMENT',
      `Azure Blob refused ${op} of ${target}: ${status} ${code ?? ''}`.trim(),
      { cause: error, details },
    );
  }
  const reason = status === undefined ? (code ?? messageOf(error)) : `${status} ${code ?? ''}`.trim();
  return storageUnavailable(`Azure Blob ${op} of ${target} failed: ${reason}`, error, details);
}

export function containerMissing(container: string, cause?: unknown): TidemarkError {
  return new TidemarkError(
    'CONFIG_INVALID',
    `Azure Blob container ${JSON.stringify(container)} does not exist: create it first (Tidemark never creates it)`,
    { cause, details: { container } },
  );
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message.split('\n')[0] : String(error);
}
