/** The checkpoint merger's public face (re-exported by the library entry point). */
export {
  CheckpointMerger,
  DEFAULT_INLINE_THRESHOLD,
  type CheckpointMergerOptions,
  type MergeStats,
} from './checkpoint-merger';
export {
  DEFAULT_MERGER_CONFIG,
  resolveMergerConfig,
  type ConflictResolution,
  type MergeStrategy,
  type MergerConfig,
} from './merger-config';
export type { IncrementalComponentSummary, IncrementalPlan, WalRange } from './incremental-plan';
export { mergeComponent } from './merge-component';
