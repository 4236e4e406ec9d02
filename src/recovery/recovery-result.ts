import type { Snapshot } from '../checkpoint/state/state-types';
import type {
  ComponentOutcome,
  RecoveryPlan,
  RecoveryProgress,
  RecoveryResult,
  VerificationLevel,
} from './recovery-types';

export interface ResultParts {
  plan: RecoveryPlan;
  /** The LSN the state is at. */
  cut: number;
  /** The components kept (none when they were streamed). */
  state: Snapshot;
  outcomes: Map<string, ComponentOutcome>;
  wanted: ReadonlySet<string> | undefined;
  progress: RecoveryProgress;
  logicalBytes: number;
  walEntries: number;
  verificationLevel: VerificationLevel;
  report: () => void;
}

/**
 * A recovery's result, its progress reported done. A wanted component nothing knows (no checkpoint, no
 * entry) is recovered empty.
 */
export function completeResult(parts: ResultParts): RecoveryResult {
  const { outcomes, progress, cut } = parts;
  for (const id of parts.wanted ?? []) {
    if (!outcomes.has(id)) outcomes.set(id, { componentId: id, keyCount: 0, bytes: 0, walEntriesApplied: 0 });
  }
  progress.phase = 'done';
  parts.report();
  return {
    target: parts.plan.target,
    lsn: cut,
    state: { lsn: cut, components: parts.state.components },
    components: [...outcomes.values()].sort((a, b) => (a.componentId < b.componentId ? -1 : 1)),
    stats: {
      durationMs: 0,
      blocksRead: progress.blocksDone,
      bytesRead: progress.bytesDone,
      logicalBytes: parts.logicalBytes,
      walEntries: parts.walEntries,
      verificationLevel: parts.verificationLevel,
    },
  };
}
