import { TidemarkError } from '../lib/errors';

/**
 * A job failing with one of these will fail again however often it is retried: its input is invalid or
 * corrupt, or a newer writer fenced it. Everything else (store, disk or Redis unavailable, a crash) is
 * worth another attempt.
 */
export function isUnrecoverable(error: unknown): boolean {
  if (!(error instanceof TidemarkError)) return false;
  return error.kind === 'invalid' || error.kind === 'data' || error.kind === 'fenced';
}

export function describeError(error: unknown): { message: string; code?: string } {
  if (error instanceof TidemarkError) return { message: error.message, code: error.code };
  return { message: error instanceof Error ? error.message : String(error) };
}

/** Job ids are non-empty and free of `:` (BullMQ builds its Redis keys with it), in either adapter. */
export function jobIdProblem(jobId: unknown): string | undefined {
  if (typeof jobId !== 'string' || jobId === '') return 'a job needs a non-empty jobId';
  if (jobId.includes(':')) return `job id ${JSON.stringify(jobId)} must not contain ':'`;
  return undefined;
}
