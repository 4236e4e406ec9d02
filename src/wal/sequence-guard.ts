import { invalidArgument } from '../lib/errors';
import type { LogEntry } from './entry';

/**
 * What an accepted request changed, as pairs `[componentId, previousSequence, …]` in the order they
 * were first touched, so a failed flush can put the previous values back.
 */
export type SequenceUndo = (string | number | undefined)[];

/**
 * Remembers the last sequence per component and refuses one that does not rise. Values move
 * forward when a request is accepted (before it is durable); a flush that fails undoes them,
 * newest request first, so the guard again matches what the log holds.
 */
export class SequenceGuard {
  private readonly last = new Map<string, number>();

  constructor(private readonly enforce: boolean) {}

  /** Checks a batch and records it; throws INVALID_ARGUMENT (recording nothing) if a sequence does not rise. */
  accept(entries: readonly LogEntry[]): SequenceUndo {
    const undo: SequenceUndo = [];
    const touched = entries.length > 1 ? new Set<string>() : undefined;
    for (let i = 0; i < entries.length; i++) {
      const { componentId, sequence } = entries[i] as LogEntry;
      const previous = this.last.get(componentId);
      if (this.enforce && previous !== undefined && sequence <= previous) {
        this.rollback(undo);
        throw invalidArgument(
          `entry ${i}: sequence ${sequence} of component ${componentId} does not rise (last is ${previous})`,
          { index: i, componentId, sequence, last: previous },
        );
      }
      if (touched === undefined || !touched.has(componentId)) {
        touched?.add(componentId);
        undo.push(componentId, previous);
      }
      if (previous === undefined || sequence > previous) this.last.set(componentId, sequence);
    }
    return undo;
  }

  /** Whether an entry of the component was accepted (and not rolled back). */
  has(componentId: string): boolean {
    return this.last.has(componentId);
  }

  rollback(undo: SequenceUndo): void {
    undoInto(this.last, undo);
  }

  /** The table as it would be without the given (not yet durable) requests, oldest first. */
  snapshotWithout(pending: readonly SequenceUndo[]): Map<string, number> {
    const table = new Map(this.last);
    for (let i = pending.length - 1; i >= 0; i--) undoInto(table, pending[i] as SequenceUndo);
    return table;
  }

  merge(table: ReadonlyMap<string, number>): void {
    for (const [componentId, sequence] of table) {
      const previous = this.last.get(componentId);
      if (previous === undefined || sequence > previous) this.last.set(componentId, sequence);
    }
  }
}

function undoInto(table: Map<string, number>, undo: SequenceUndo): void {
  for (let i = undo.length - 2; i >= 0; i -= 2) {
    const componentId = undo[i] as string;
    const previous = undo[i + 1] as number | undefined;
    if (previous === undefined) table.delete(componentId);
    else table.set(componentId, previous);
  }
}
