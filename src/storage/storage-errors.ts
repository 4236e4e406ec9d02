import { TidemarkError } from '../lib/errors';

/** The errors every ObjectStore adapter raises, built in one place so their codes and messages agree. */

export function objectNotFound(key: string): TidemarkError {
  return new TidemarkError('NOT_FOUND', `object not found: ${key}`, { details: { key } });
}

export function objectExists(key: string): TidemarkError {
  return new TidemarkError('PRECONDITION_FAILED', `object already exists: ${key}`, { details: { key } });
}

export function storageUnavailable(
  message: string,
  cause: unknown,
  details: Record<string, unknown>,
): TidemarkError {
  return new TidemarkError('STORAGE_UNAVAILABLE', message, { cause, details });
}

export function lengthMismatch(key: string, expected: number, actual: number): TidemarkError {
  return new TidemarkError(
    'INVALID_ARGUMENT',
    `body of ${key} is ${actual} bytes, contentLength said ${expected}`,
    {
      details: { key, expected, actual },
    },
  );
}

/** Transient: worth another attempt after a pause. Only errors of kind `unavailable` are. */
export function isRetryable(error: unknown): boolean {
  return error instanceof TidemarkError && error.kind === 'unavailable';
}
