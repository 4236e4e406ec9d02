import { TidemarkError, invalidArgument } from '../../lib/errors';
import { storageUnavailable } from '../storage-errors';

/** How the local store turns file-system errors into the port's errors, in one place. */

export function errnoOf(error: unknown): string | undefined {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** The path, or a directory on it, does not exist (or is a file where a directory was expected). */
export function isMissing(error: unknown): boolean {
  const code = errnoOf(error);
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/**
 * Any other file-system failure is STORAGE_UNAVAILABLE: from a caller's view the store failed (disk full, I/O
 * error, a lost mount, permissions); retrying is bounded and cheap. TidemarkErrors pass through unchanged.
 */
export function fsError(error: unknown, op: string, key: string): TidemarkError {
  if (error instanceof TidemarkError) return error;
  const errno = errnoOf(error);
  const reason = errno ?? (error instanceof Error ? error.message : String(error));
  return storageUnavailable(`local object store: ${op} of ${key} failed: ${reason}`, error, {
    key,
    op,
    errno,
  });
}

/** Runs one file-system step, translating its failure with {@link fsError}. */
export async function fsStep<T>(op: string, key: string, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (error) {
    throw fsError(error, op, key);
  }
}

/** A file system holds a name as a file or as a directory, never both: `a/b` and `a/b/c` cannot coexist. */
export function keyShadowed(key: string): TidemarkError {
  return invalidArgument(
    `object key ${key} collides with a key used as its directory ` +
      '(a local store cannot hold both "a/b" and "a/b/c")',
    { key },
  );
}
