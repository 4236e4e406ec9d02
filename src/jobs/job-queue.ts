/**
 * The job-queue port: background work that must happen, survive restarts of whatever runs it, and may run
 * twice. Two adapters: BullMQ on Redis (bullmq/), and in process for the embedded mode
 * (in-process-job-queue.ts). Handlers are the same core functions either way (job-handlers.ts).
 *
 * Semantics both adapters keep (BullMQ's):
 * - `enqueue` with a `jobId` that the queue still holds, in any state, adds nothing and returns that job:
 *   ids make enqueuing idempotent. Callers pick ids that name the work (`segment-upload:…`).
 * - A handler that throws is retried with exponential backoff up to `attempts`, unless the error is
 *   unrecoverable (job-errors.ts): invalid or corrupt input fails the job at once, for good.
 * - Every job may run more than once (a worker dies after finishing, before acknowledging), so handlers
 *   are idempotent: running one twice leaves one result.
 */

export const JOB_NAMES = [
  'segment-upload',
  'checkpoint-compaction',
  'retention',
  'garbage-collection',
] as const;
export type JobName = (typeof JOB_NAMES)[number];

export type JobState = 'waiting' | 'delayed' | 'active' | 'completed' | 'failed';

/** Plain JSON: job data crosses Redis. */
export type JobData = Record<string, string | number | boolean | null>;

export interface EnqueueOptions {
  jobId: string;
  /** Tries in all (default 8). */
  attempts?: number;
  /** First retry delay, doubled each attempt (default 1,000 ms). */
  backoffMs?: number;
}

export interface JobRecord {
  id: string;
  name: JobName;
  state: JobState;
  data: JobData;
  attemptsMade: number;
  /** What the handler returned, for completed jobs (JSON). */
  result?: unknown;
  /** The last failure's message, and its code when it was a TidemarkError. */
  error?: { message: string; code?: string };
  /** ms since epoch. */
  createdAt: number;
  finishedAt?: number;
}

export interface JobContext {
  jobId: string;
  /** 1 for the first try. */
  attempt: number;
  /** Aborted when the queue shuts down. */
  signal: AbortSignal;
}

export type JobHandler = (data: JobData, context: JobContext) => Promise<unknown>;

export interface JobQueue {
  /** Adds a job unless one with `options.jobId` is still held; resolves with the job either way. */
  enqueue(name: JobName, data: JobData, options: EnqueueOptions): Promise<JobRecord>;
  get(id: string): Promise<JobRecord | undefined>;
  /** Newest first; at most `limit` (default 100). */
  list(filter?: { state?: JobState; name?: JobName; limit?: number }): Promise<JobRecord[]>;
  /** Resolves when no job is waiting, delayed or active (tests, shutdown, benchmarks). */
  drain(timeoutMs?: number): Promise<void>;
  /** Stops taking jobs and waits for the ones running. */
  close(): Promise<void>;
}

export const DEFAULT_ATTEMPTS = 8;
export const DEFAULT_BACKOFF_MS = 1_000;
