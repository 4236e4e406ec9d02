import type { ComponentSnapshot, StateRecord } from '../state/state-types';
import { sliceLogicalBytes, sliceRecordCount, type RunSlice } from './run-slice';
import { runFromRecords, runKey, runValue } from './sorted-run';

/**
 * A component's state held as run slices (what a merge over runs returns), readable as a
 * ComponentSnapshot: `records` builds the objects on first read — code that knows runs reads `slices`
 * and never pays for them.
 */
export class SlicedComponent implements ComponentSnapshot {
  private built: StateRecord[] | undefined;

  constructor(
    readonly componentId: string,
    readonly slices: readonly RunSlice[],
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
