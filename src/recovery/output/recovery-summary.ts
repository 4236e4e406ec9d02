import { TidemarkError } from '../../lib/errors';
import type { ComponentOutcome, RecoveryResult, RecoveryTarget } from '../recovery-types';

/** A recovery without its state: what `recovery.json`, the NDJSON header/trailer and the CLI's --json show. */
export interface RecoverySummary {
  target: RecoveryTarget;
  lsn: number;
  components: ComponentOutcome[];
  stats: RecoveryResult['stats'];
}

export function summarizeRecovery(result: RecoveryResult): RecoverySummary {
  return { target: result.target, lsn: result.lsn, components: result.components, stats: result.stats };
}

/** How an error ends a stream that has already started: a TidemarkError's code and message; else INTERNAL, no details. */
export function describeError(error: unknown): { code: string; message: string } {
  if (error instanceof TidemarkError) return { code: error.code, message: error.message };
  return { code: 'INTERNAL', message: 'internal error' };
}
