import { TidemarkError } from '../../../lib/errors';

/** The refusal of a call on a store that is closed, not yet loaded, or (the memory store) crashed. */
export function storeClosed(why: string): TidemarkError {
  return new TidemarkError('CLOSED', `the Raft log store ${why}`);
}
