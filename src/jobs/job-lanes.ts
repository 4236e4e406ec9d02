import type { JobName } from './job-queue';

/**
 * Jobs run in two lanes, each its own queue with its own concurrency: uploads (many at once, I/O bound) and
 * maintenance (compaction, retention, GC: one at a time, they rewrite the catalog).
 */
export const JOB_LANES = ['uploads', 'maintenance'] as const;
export type JobLane = (typeof JOB_LANES)[number];

export function laneOf(name: JobName): JobLane {
  return name === 'segment-upload' ? 'uploads' : 'maintenance';
}

export interface LaneConcurrency {
  uploads: number;
  maintenance: number;
}

export const DEFAULT_LANE_CONCURRENCY: Readonly<LaneConcurrency> = { uploads: 2, maintenance: 1 };
