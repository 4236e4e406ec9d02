import { TidemarkError } from '../../../lib/errors';

const DISK_FULL = new Set(['ENOSPC', 'EDQUOT', 'EFBIG']);

/** A file-system failure as the store reports it: DISK_FULL or IO_ERROR (a TidemarkError passes as it is). */
export function ioFailure(cause: unknown, doing: string, file: string): TidemarkError {
  if (cause instanceof TidemarkError) return cause;
  const errno = (cause as NodeJS.ErrnoException | undefined)?.code;
  return new TidemarkError(
    errno !== undefined && DISK_FULL.has(errno) ? 'DISK_FULL' : 'IO_ERROR',
    `cannot ${doing} ${file}: ${(cause as Error | undefined)?.message ?? String(cause)}`,
    { cause, details: { file, errno } },
  );
}
