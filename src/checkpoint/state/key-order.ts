import { TidemarkError } from '../../lib/errors';
import type { StateRecord } from './state-types';

/** INVALID_STATE_DATA unless `records` are in strictly rising key order (a component's state must be). */
export function checkKeyOrder(componentId: string, records: readonly StateRecord[]): void {
  for (let i = 1; i < records.length; i++) {
    if (Buffer.compare(records[i - 1]!.key, records[i]!.key) >= 0) {
      throw new TidemarkError(
        'INVALID_STATE_DATA',
        `component ${componentId}: record ${i} is not after record ${i - 1} in key order`,
        { details: { componentId, index: i } },
      );
    }
  }
}
