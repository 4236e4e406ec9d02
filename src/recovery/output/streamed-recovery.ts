import type { ComponentOutcome, RecoveryResult, RecoveryTarget } from '../recovery-types';

/** What a client reads back from a streamed recovery (NDJSON or binary). */
export interface StreamedRecovery {
  header: { target: RecoveryTarget; lsn: number; components: string[] };
  /** The records of each recovered component, in key order. */
  state: Map<string, { key: Buffer; value: Buffer }[]>;
  outcomes: ComponentOutcome[];
  stats?: RecoveryResult['stats'];
  /** Present when the stream ended with an error instead of its trailer. */
  error?: { code: string; message: string };
  /** The trailer was read: nothing is missing. */
  complete: boolean;
}

/** The component ids a stream announces in its header: those recovered, then those that failed. */
export function announcedComponents(result: RecoveryResult): string[] {
  return result.components.map((c) => c.componentId);
}

/** Recovered components in id order. */
export function sortedComponents(result: RecoveryResult) {
  return [...result.state.components.values()].sort((a, b) =>
    a.componentId < b.componentId ? -1 : a.componentId > b.componentId ? 1 : 0,
  );
}
