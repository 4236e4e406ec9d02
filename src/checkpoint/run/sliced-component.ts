import { TidemarkError } from '../../lib/errors';
import type { ComponentSnapshot, StateRecord } from '../state/state-types';
import { firstUnsortedSlice, sliceLogicalBytes, sliceRecordCount, type RunSlice } from './run-slice';
import { runFromRecords, runKey, runValue, type SortedRun } from './sorted-run';

/**
 * A component's state held as run slices (what a merge over runs returns), readable as a
 * ComponentSnapshot: `records` builds the objects on first read — code that knows runs reads `slices`
 * and never pays for them.
 */
export class SlicedComponent implements ComponentSnapshot {
  private built: StateRecord[] | undefined;

  /**
   * @param ordered the slices' concatenation is known to rise strictly (checked when read from blocks, or
   *   built in order): a reader need not check it again record by record.
   */
  constructor(
    readonly componentId: string,
    readonly slices: readonly RunSlice[],
    readonly ordered = false,
  ) {}

  get keyCount(): number {
    return sliceRecordCount(this.slices);
  }

  /** Key and value bytes. */
  get bytes(): number {
    return sliceLogicalBytes(this.slices);
  }

  get records(): StateRecord[] {
    this.built ??= sliceRecords(this.slices);
    return this.built;
  }
}

/** The records of `slices` as objects over views of the runs' bytes. */
function sliceRecords(slices: readonly RunSlice[]): StateRecord[] {
  const out = new Array<StateRecord>(sliceRecordCount(slices));
  let n = 0;
  for (const { run, start, end } of slices) {
    for (let i = start; i < end; i++) {
      out[n++] = {
        key: runKey(run, i),
        value: runValue(run, i),
        lsn: run.lsns[i]!,
        timestamp: run.timestamps[i]!,
      };
    }
  }
  return out;
}

/** A component's state as slices: its own when it holds them, else its records copied into one run. */
export function slicesOf(component: ComponentSnapshot | undefined): readonly RunSlice[] {
  if (component === undefined) return [];
  if (component instanceof SlicedComponent) return component.slices;
  const records = component.records;
  return records.length === 0 ? [] : [{ run: runFromRecords(records), start: 0, end: records.length }];
}

/**
 * A component read from blocks, held as slices. Every run's keys rise (its decoder checked them) and a merge
 * keeps them in order: what is left to check is that each block starts above where the one before ended
 * — one comparison per slice, not per record.
 */
export function orderedComponent(id: string, slices: readonly RunSlice[]): SlicedComponent {
  checkSliceOrder(id, slices, false);
  return new SlicedComponent(id, slices, true);
}

/**
 * INVALID_STATE_DATA unless the concatenation of `slices` rises strictly: across slice boundaries, and
 * within each run when `checkRuns` (a run no decoder or merge checked).
 */
export function checkSliceOrder(componentId: string, slices: readonly RunSlice[], checkRuns: boolean): void {
  const bad = firstUnsortedSlice(slices, checkRuns);
  if (bad !== -1) {
    throw new TidemarkError(
      'INVALID_STATE_DATA',
      `component ${componentId}: slice ${bad} is not in key order`,
      {
        details: { componentId, slice: bad },
      },
    );
  }
}

/** A full checkpoint's block holds puts only: INVALID_STATE_DATA for a delete. Empty runs are left out. */
export function fullStateRun(componentId: string, run: SortedRun): boolean {
  const deletes = run.deletes;
  if (deletes !== undefined && deletes.indexOf(1) !== -1) {
    throw new TidemarkError(
      'INVALID_STATE_DATA',
      `a full-state block of component ${componentId} holds a delete`,
      {
        details: { componentId, index: deletes.indexOf(1) },
      },
    );
  }
  return run.count > 0;
}
