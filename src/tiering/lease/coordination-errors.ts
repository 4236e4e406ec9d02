import { TidemarkError } from '../../lib/errors';

/**
 * Redis failures as Tidemark errors. Anything that says "Redis cannot answer now" (no connection, a timeout,
 * Redis loading its data or being a read-only replica) is COORDINATION_UNAVAILABLE, which callers retry;
 * any other error reply means a bug (a broken script, a wrong key type) and is INTERNAL.
 */
const TRANSIENT_REPLIES = ['LOADING', 'READONLY', 'MASTERDOWN', 'BUSY', 'TRYAGAIN', 'CLUSTERDOWN', 'OOM'];

export function coordinationUnavailable(operation: string, name: string, cause?: unknown): TidemarkError {
  const reason = cause instanceof Error ? `: ${cause.message}` : '';
  return new TidemarkError(
    'COORDINATION_UNAVAILABLE',
    `Redis unavailable for lease ${operation} of ${name}${reason}`,
    {
      cause,
      details: { operation, lease: name },
    },
  );
}

export function toLeaseError(error: unknown, operation: string, name: string): TidemarkError {
  if (error instanceof TidemarkError) return error;
  if (error instanceof Error && error.name === 'ReplyError') {
    const transient = TRANSIENT_REPLIES.some((prefix) => error.message.startsWith(prefix));
    if (!transient) {
      return new TidemarkError('INTERNAL', `Redis refused lease ${operation} of ${name}: ${error.message}`, {
        cause: error,
        details: { operation, lease: name },
      });
    }
  }
  return coordinationUnavailable(operation, name, error);
}
