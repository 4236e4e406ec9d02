export { TieringNode, type TieringNodeDeps, type TieringNodeSettings } from './tiering-node';
export { DEFAULT_TIERING_CONFIG, type TieringConfig } from './tiering-config';
export {
  JOB_NAMES,
  type EnqueueOptions,
  type JobContext,
  type JobData,
  type JobHandler,
  type JobName,
  type JobQueue,
  type JobRecord,
  type JobState,
} from '../jobs/job-queue';
export { JobRunner, JobFailure } from '../jobs/job-runner';
export { InProcessJobQueue, type InProcessJobQueueOptions } from '../jobs/in-process-job-queue';
export type { LeaseGrant, LeaseHolder, LeaseProvider } from './lease/lease-provider';
export { LocalLeaseProvider, type LocalLeaseProviderOptions } from './lease/local-lease-provider';
export { LeaseKeeper } from './lease/lease-keeper';
export type { LeaseKeeperOptions, LeaseLossReason } from './lease/lease-keeper-options';
export { SegmentShipper, type SegmentShipperOptions, type ShipResult } from './segment-shipper';
export {
  UploadedSegments,
  type UploadedPack,
  type PackedSegment,
  splitPack,
  type SplitSegment,
  planPacks,
  type PackPlanOptions,
} from '../wal/archive';
export { planRetention, type RetentionPlan, type RetentionPolicy } from './maintenance/retention-policy';
export { runRetention, type RetentionResult } from './maintenance/retention-run';
export { GarbageCollector, type GcResult } from './maintenance/garbage-collector';
