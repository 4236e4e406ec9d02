import type { ComponentOutcome } from './recovery-types';
import type { ResolvedPlan } from './recovery-planner';
import { WalOverlay } from './wal-overlay';
import { replayWal, type WalSources } from './wal-source';

/** The log after the checkpoint, up to the target: laid over the checkpoint's state per component. */
export interface ReplayedLog {
  /** The last LSN applied (the checkpoint's when none was). */
  cut: number;
  overlay: WalOverlay;
  /** Entries applied per component. */
  perComponent: Map<string, number>;
  total: number;
}

/**
 * Replays the log after the plan's checkpoint up to its target (an LSN, or the last entry at or before a
 * time), for the wanted components that have not failed.
 */
export async function replayToTarget(
  sources: WalSources,
  resolved: ResolvedPlan,
  wanted: ReadonlySet<string> | undefined,
  outcomes: ReadonlyMap<string, ComponentOutcome>,
  signal: AbortSignal,
): Promise<ReplayedLog> {
  const overlay = new WalOverlay();
  const perComponent = new Map<string, number>();
  let cut = resolved.manifests.at(-1)?.lsn ?? 0;
  let total = 0;
  if (resolved.wal) {
    for await (const record of replayWal(sources, resolved.wal, signal)) {
      if (resolved.stopAfterTime !== undefined && record.entry.timestamp > resolved.stopAfterTime) break;
      cut = record.lsn;
      const id = record.entry.componentId;
      if ((wanted && !wanted.has(id)) || outcomes.get(id)?.error) continue;
      overlay.apply(record);
      total++;
      perComponent.set(id, (perComponent.get(id) ?? 0) + 1);
    }
  }
  return { cut, overlay, perComponent, total };
}

/** The components a recovery covers: those of the checkpoint (`ids`), then those the log created, sorted. */
export function componentsCovered(
  ids: readonly string[],
  replayed: ReplayedLog,
  wanted: ReadonlySet<string> | undefined,
): string[] {
  const known = new Set(ids);
  const fromLog = [...replayed.overlay.componentIds()].filter(
    (id) => !known.has(id) && (wanted === undefined || wanted.has(id)),
  );
  return [...ids, ...fromLog.sort()];
}
