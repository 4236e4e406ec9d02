import { TidemarkError } from '../../lib/errors';
import { objectExists, objectNotFound, storageUnavailable } from '../storage-errors';

/**
 * How the GCS adapter turns the SDK's failures into the port's errors, in one place. The SDK fails in several
 * shapes — `ApiError` (`code` = HTTP status, `errors[].reason`), gaxios errors (`response.status`), plain
 * `{code, message, errors}` objects from resumable uploads, node-fetch/gaxios network errors (`code` =
 * `ECONNREFUSED`, …), and its own `Error`s with string codes — so the facts are read from any of them first.
 */

export type GcsOperation = 'init' | 'put' | 'get' | 'head' | 'list' | 'delete';

export interface GcsErrorContext {
  op: GcsOperation;
  bucket: string;
  /** The object key, or the listing prefix; '' for the bucket itself. */
  key: string;
}

interface Failure {
  status?: number;
  reason?: string;
  /** A string code: a network errno (`ECONNRESET`) or the SDK's own (`FILE_NO_UPLOAD`). */
  code?: string;
  message: string;
}

function field(value: unknown, name: string): unknown {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[name] : undefined;
}

function asStatus(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) && value >= 100 && value < 600
    ? value
    : undefined;
}

function failureOf(error: unknown): Failure {
  const code = field(error, 'code');
  const response = field(error, 'response');
  const errors = field(error, 'errors');
  // GCS's own words are in the response body, which gaxios errors carry parsed; prefer them.
  const serverMessage = field(field(field(response, 'data'), 'error'), 'message');
  const message = typeof serverMessage === 'string' ? serverMessage : field(error, 'message');
  return {
    status:
      asStatus(code) ??
      asStatus(field(error, 'status')) ??
      asStatus(field(response, 'status')) ??
      asStatus(field(response, 'statusCode')),
    reason:
      Array.isArray(errors) && typeof field(errors[0], 'reason') === 'string'
        ? String(field(errors[0], 'reason'))
        : undefined,
    code: typeof code === 'string' ? code : undefined,
    message: typeof message === 'string' && message !== '' ? message : String(error),
  };
}

/** `HTTP 503 backendError`, or the string code of a failure without a status (`ECONNREFUSED`). */
function statusText({ status, reason, code }: Failure): string {
  if (status === undefined) return code ?? 'error';
  return reason === undefined ? `HTTP ${status}` : `HTTP ${status} ${reason}`;
}

/** GCS's words for a missing bucket; a missing object is also 404 `notFound`, with other words. */
function isBucketMissing(failure: Failure): boolean {
  return failure.status === 404 && /bucket does not exist/i.test(failure.message);
}

/** A 404 about the object (not the bucket): the object is not there. */
export function isObjectMissing(error: unknown): boolean {
  const failure = failureOf(error);
  return failure.status === 404 && !isBucketMissing(failure);
}

/** 416: a range that starts at or past the end of an object that exists. */
export function isRangeNotSatisfiable(error: unknown): boolean {
  return failureOf(error).status === 416;
}

export function bucketMissing(bucket: string, cause?: unknown): TidemarkError {
  return new TidemarkError(
    'CONFIG_INVALID',
    `GCS bucket "${bucket}" does not exist, or these credentials cannot see it: create it or fix the bucket name`,
    { cause, details: { bucket } },
  );
}

/** Translates any failure of an SDK call; TidemarkErrors pass through unchanged. */
export function gcsError(error: unknown, context: GcsErrorContext): TidemarkError {
  if (error instanceof TidemarkError) return error;
  const { op, bucket, key } = context;
  const failure = failureOf(error);
  const { status, reason, code } = failure;
  const details = { bucket, key, op, status, reason, code };
  const what = `GCS ${op} of ${JSON.stringify(key)} in bucket "${bucket}"`;
  const because = `${statusText(failure)}: ${failure.message}`;

  if (isBucketMissing(failure)) return bucketMissing(bucket, error);
  if (status === 404) {
    // Listing and init name only the bucket; an upload's 404 means its resumable session was lost (retry it).
    if (op === 'list' || op === 'init') return bucketMissing(bucket, error);
    if (op === 'put') return storageUnavailable(`${what} failed: ${because}`, error, details);
    return objectNotFound(key);
  }
  if (status === 412) {
    if (op === 'put') return objectExists(key); // the adapter's only write precondition is ifGenerationMatch=0
    return new TidemarkError('PRECONDITION_FAILED', `${what}: precondition failed`, {
      cause: error,
      details,
    });
  }
  if (status === 401 || status === 403) {
    return new TidemarkError(
      'CONFIG_INVALID',
      `GCS refused access to bucket "${bucket}" (${because}): check the credentials and their permissions`,
      { cause: error, details },
    );
  }
  if (status === 400) {
    // The request was malformed for GCS (e.g. a name it refuses): retrying cannot help.
    return new TidemarkError('INVALID_ARGUMENT', `${what} was refused: ${because}`, {
      cause: error,
      details,
    });
  }
  if (status !== undefined && status < 500 && status !== 408 && status !== 409 && status !== 429) {
    return new TidemarkError('INTERNAL', `${what} failed unexpectedly: ${because}`, {
      cause: error,
      details,
    });
  }
  if (code === 'CONTENT_DOWNLOAD_MISMATCH') {
    return new TidemarkError('CHECKSUM_MISMATCH', `${what}: downloaded bytes do not match their CRC32C`, {
      cause: error,
      details,
    });
  }
  // 408, 409 (a concurrent change), 429, 5xx, network failures, a checksum mismatch on upload (the SDK
  // deleted the bad object) and whatever else the SDK throws: transient from the caller's view, and bounded.
  return storageUnavailable(`${what} failed: ${because}`, error, details);
}
