import { RULE_LAST_WRITE_WINS } from '../checkpoint/merge/conflict-resolution';
import { mergeRunComponent } from '../checkpoint/merge/run-merge';
import type { RunSlice } from '../checkpoint/run/run-slice';
import { SlicedComponent, slicesOf } from '../checkpoint/run/sliced-component';
import { runFromRecords } from '../checkpoint/run/sorted-run';
import type { ComponentDelta, ComponentSnapshot, DeltaRecord } from '../checkpoint/state/state-types';
import type { LogRecord } from '../wal';

interface ComponentChanges {
  /** Each key's last change after the last clear, by the key's latin1 string. */
  readonly changes: Map<string, DeltaRecord>;
  clearedAt?: { lsn: number; timestamp: number };
}

/**
 * The log replayed after a checkpoint, folded into one delta per component: the last clear, then each
 * key's last put or delete after it. Laid over the checkpoint's state under last-write-wins (every
 * change here is newer than the checkpoint), it gives exactly what replaying the log onto that state
 * gives — at the cost of the changes replayed, where loading the state into a materialiser first would
 * cost an index entry per key of the checkpoint.
 */
export class WalOverlay {
  private readonly components = new Map<string, ComponentChanges>();

  /** Records must come in LSN order (the WAL source checks that they are dense). */
  apply(record: LogRecord): void {
    const { componentId, timestamp, changes } = record.entry;
    const lsn = record.lsn;
    let component = this.components.get(componentId);
    if (!component) {
      component = { changes: new Map() };
      this.components.set(componentId, component);
    }
    for (let c = 0; c < changes.length; c++) {
      const change = changes[c]!;
      if (change.op === 'clear') {
        component.changes.clear();
        component.clearedAt = { lsn, timestamp };
        continue;
      }
      // Copies: the WAL hands out views into its read chunks.
      const id = change.key.toString('latin1');
      const key = component.changes.get(id)?.key ?? Buffer.from(change.key);
      component.changes.set(
        id,
        change.op === 'put'
          ? { op: 'put', key, value: Buffer.from(change.value), lsn, timestamp }
          : { op: 'delete', key, lsn, timestamp },
      );
    }
  }

  componentIds(): IterableIterator<string> {
    return this.components.keys();
  }

  /** `base` (the checkpoint's state of the component, if any) with the log's changes laid over it. */
  applyTo(componentId: string, base: ComponentSnapshot | undefined): ComponentSnapshot {
    if (!this.components.has(componentId)) return base ?? { componentId, records: [] };
    return new SlicedComponent(componentId, this.applyToSlices(componentId, slicesOf(base)));
  }

  /** The same over the component's state as run slices (what recovery holds): a merge over runs. */
  applyToSlices(componentId: string, base: readonly RunSlice[]): readonly RunSlice[] {
    const delta = this.delta(componentId);
    if (!delta) return base;
    const run = runFromRecords(delta.records);
    const changes = delta.clearedAt ? { run, clearedAt: delta.clearedAt } : { run };
    return mergeRunComponent(componentId, base, [changes], RULE_LAST_WRITE_WINS);
  }

  private delta(componentId: string): ComponentDelta | undefined {
    const component = this.components.get(componentId);
    if (!component) return undefined;
    const records = [...component.changes.values()].sort((a, b) => Buffer.compare(a.key, b.key));
    return component.clearedAt
      ? { componentId, records, clearedAt: component.clearedAt }
      : { componentId, records };
  }
}
