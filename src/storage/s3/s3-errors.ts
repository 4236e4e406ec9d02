import { TidemarkError } from '../../lib/errors';
import { objectNotFound, storageUnavailable } from '../storage-errors';

/** What was being done when S3 failed, for the translated error's message and details. */
export interface S3Call {
  op: string;
  bucket: string;
  /** Where the store is (`endpoint` or the AWS region), so a message says which S3 it means. */
  where: string;
  key?: string;
}

/** The facts of an SDK error that decide its translation (S3ServiceException, a Node system error, …). */
export interface S3Failure {
  name: string;
  message: string;
  status?: number;
  /** A Node system error code: ECONNREFUSED, ECONNRESET, … */
  code?: string;
  retryable?: boolean;
}

// Errors of the network or the client's own timers: the store could not be reached.
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'ERR_STREAM_PREMATURE_CLOSE',
]);
// S3's (and S3 compatibles') names for "busy or failing, try again later".
const TRANSIENT_NAMES = new Set([
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
  'SlowDown',
  'Throttling',
  'ThrottlingException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'BandwidthLimitExceeded',
  'ServiceUnavailable',
  'InternalError',
  'OperationAborted',
]);
// Wrong or missing credentials, or a policy that says no: retrying cannot help.
const ACCESS_NAMES = new Set([
  'AccessDenied',
  'Forbidden',
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'ExpiredToken',
  'InvalidToken',
  'TokenRefreshRequired',
  'AllAccessDisabled',
  'AccountProblem',
  'RequestTimeTooSkewed',
  'CredentialsProviderError',
]);
// The bucket lives in another region than the client was told.
const REGION_NAMES = new Set([
  'PermanentRedirect',
  'AuthorizationHeaderMalformed',
  'IllegalLocationConstraintException',
]);

/**
 * Turns whatever the S3 SDK (or lib-storage, or the HTTP layer under them) threw into a TidemarkError, so no
 * raw SDK error leaves the adapter (the original stays as `cause`). A TidemarkError passes through as is.
 */
export function translateS3Error(error: unknown, call: S3Call): TidemarkError {
  if (error instanceof TidemarkError) return error;
  return classify(describeFailure(error), call, error);
}

/** Reads the fields that matter from an error of any shape. */
export function describeFailure(error: unknown): S3Failure {
  if (typeof error !== 'object' || error === null) return { name: 'Error', message: String(error) };
  const fields = error as {
    name?: unknown;
    message?: unknown;
    code?: unknown;
    $metadata?: { httpStatusCode?: unknown };
    $retryable?: unknown;
  };
  const status = fields.$metadata?.httpStatusCode;
  const message = typeof fields.message === 'string' ? fields.message : '';
  return {
    name: typeof fields.name === 'string' ? fields.name : 'Error',
    message,
    status: typeof status === 'number' ? status : undefined,
    code: typeof fields.code === 'string' ? fields.code : networkCodeIn(message),
    retryable: fields.$retryable !== undefined && fields.$retryable !== null ? true : undefined,
  };
}

/**
 * The SDK's retry layer re-wraps what is not `instanceof Error` — e.g. a socket error from another realm (a
 * VM context, as under Jest) — as "AWS SDK error wrapper for Error: connect ECONNREFUSED …", keeping only the
 * message. Only the known network codes are read from a message, never any capitalised word.
 */
function networkCodeIn(message: string): string | undefined {
  if (/\bsocket hang up\b/.test(message)) return 'ECONNRESET';
  return [...message.matchAll(/\b(E[A-Z_]+)\b/g)]
    .map((match) => match[1])
    .find((code) => NETWORK_CODES.has(code));
}

/** The translation proper, also used for the per-key failures a DeleteObjects answer lists. */
export function classify(failure: S3Failure, call: S3Call, cause: unknown): TidemarkError {
  const { name, status } = failure;
  const details = {
    op: call.op,
    bucket: call.bucket,
    store: call.where,
    ...(call.key === undefined ? {} : { key: call.key }),
    s3Error: name,
    ...(status === undefined ? {} : { status }),
  };
  const what = `S3 ${call.op}${call.key === undefined ? '' : ` of ${call.key}`} in bucket "${call.bucket}" at ${call.where}`;
  const said = `${name}${failure.message !== '' && failure.message !== name ? `: ${failure.message}` : ''}`;

  if (name === 'NoSuchBucket' || (status === 404 && call.key === undefined)) {
    return new TidemarkError(
      'CONFIG_INVALID',
      `S3 bucket "${call.bucket}" does not exist at ${call.where}; Tidemark does not create buckets — create it (or fix storage.bucket)`,
      { cause, details },
    );
  }
  if (name === 'NoSuchKey' || name === 'NotFound' || status === 404) {
    return objectNotFound(call.key ?? '');
  }
  if (name === 'PreconditionFailed' || status === 412 || name === 'ConditionalRequestConflict') {
    // Only create-if-absent sends a condition; 409 ConditionalRequestConflict means another conditional
    // write of the key is in flight — one of them wins, so for this caller the key is taken.
    return new TidemarkError('PRECONDITION_FAILED', `object already exists: ${call.key ?? ''} (${said})`, {
      cause,
      details,
    });
  }
  if (ACCESS_NAMES.has(name) || status === 401 || status === 403) {
    return new TidemarkError(
      'CONFIG_INVALID',
      `${what} was refused (${said}): check the credentials, the clock and the bucket policy`,
      { cause, details },
    );
  }
  if (REGION_NAMES.has(name) || status === 301) {
    return new TidemarkError(
      'CONFIG_INVALID',
      `${what} was refused (${said}): the bucket is in another region`,
      {
        cause,
        details,
      },
    );
  }
  if (isTransient(failure)) {
    return storageUnavailable(`${what} failed: ${said}`, cause, details);
  }
  if (status === 405 || status === 501 || name === 'NotImplemented' || name === 'MethodNotAllowed') {
    return new TidemarkError(
      'CONFIG_INVALID',
      `${what}: this S3 endpoint does not support the call (${said})`,
      {
        cause,
        details,
      },
    );
  }
  if (status !== undefined) {
    return new TidemarkError('INVALID_ARGUMENT', `${what} was refused: ${said}`, { cause, details });
  }
  return new TidemarkError('INTERNAL', `${what}: unexpected error from the S3 client: ${said}`, {
    cause,
    details,
  });
}

function isTransient({ name, status, code, retryable }: S3Failure): boolean {
  if (TRANSIENT_NAMES.has(name) || retryable === true) return true;
  if (status !== undefined) return status >= 500 || status === 429 || status === 408;
  // No HTTP answer at all: a system error (the network) is transient, anything else is a bug.
  return code !== undefined && (NETWORK_CODES.has(code) || /^E[A-Z]+$/.test(code));
}

/** S3's answer to a range that starts at or past the end of the object (416 InvalidRange). */
export function isUnsatisfiableRange(error: unknown): boolean {
  const { name, status } = describeFailure(error);
  return status === 416 || name === 'InvalidRange';
}

/** A missing object as HeadObject reports it: 404 without a body, so no error code beyond the status. */
export function isMissingObject(error: unknown): boolean {
  const { name, status } = describeFailure(error);
  return name === 'NoSuchKey' || name === 'NotFound' || (status === 404 && name !== 'NoSuchBucket');
}
