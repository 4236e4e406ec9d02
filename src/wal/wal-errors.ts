import { TidemarkError, invalidArgument } from '../lib/errors';
import type { WalOptions } from './wal-options';

const DISK_FULL = new Set(['ENOSPC', 'EDQUOT', 'EFBIG']);

/** Turns a file-system failure during a flush into the port's error: DISK_FULL or IO_ERROR. */
export function ioFailure(cause: unknown, doing: string): TidemarkError {
  if (cause instanceof TidemarkError) return cause;
  const code = (cause as NodeJS.ErrnoException | undefined)?.code;
  if (code && DISK_FULL.has(code)) {
    return new TidemarkError(
      'DISK_FULL',
      `disk full while ${doing}: nothing of these appends was acknowledged; appends work again once space is freed`,
      { cause, details: { errno: code } },
    );
  }
  return new TidemarkError(
    'IO_ERROR',
    `I/O error while ${doing}: ${(cause as Error)?.message ?? String(cause)}`,
    {
      cause,
      details: { errno: code },
    },
  );
}

const POSITIVE_INTEGERS = ['segmentSize', 'bufferSize', 'maxBatchSize', 'maxEntryBytes'] as const;

/** Refuses options that cannot work, naming the option. */
export function checkWalOptions(options: WalOptions): void {
  for (const key of POSITIVE_INTEGERS) {
    const value = options[key];
    if (!Number.isSafeInteger(value) || value <= 0)
      throw invalidArgument(`WAL option ${key} must be a positive integer`);
  }
  if (options.segmentSize < 512) throw invalidArgument('WAL option segmentSize must be at least 512 bytes');
  for (const key of ['retentionSegments', 'compressionThreshold'] as const) {
    const value = options[key];
    if (!Number.isSafeInteger(value) || value < 0)
      throw invalidArgument(`WAL option ${key} must be a non-negative integer`);
  }
  if (typeof options.canDelete !== 'function')
    throw invalidArgument('WAL option canDelete must be a function');
}
