import { TidemarkError } from '../../lib/errors';
import { checkSliceOrder, type SlicedComponent } from '../run/sliced-component';
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

/**
 * INVALID_STATE_DATA unless the component's slices rise strictly in key order (checked record by record
 * unless the component says it was checked already) and hold puts only.
 */
export function checkStateSlices(component: SlicedComponent): void {
  const { componentId, slices } = component;
  checkSliceOrder(componentId, slices, !component.ordered);
  for (const { run, start, end } of slices) {
    const deletes = run.deletes;
    if (deletes !== undefined && deletes.subarray(start, end).indexOf(1) !== -1) {
      throw new TidemarkError('INVALID_STATE_DATA', `component ${componentId}: a state holds a delete`, {
        details: { componentId },
      });
    }
  }
}
