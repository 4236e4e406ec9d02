import { z } from 'zod';
import { DEFAULT_TIERING_CONFIG as D } from '../tiering/tiering-config';
import { nonEmptyString, nonNegativeInt, positiveInt } from './schema-primitives';

const REDIS_URL = 'expected a redis:// or rediss:// URL';

const redisUrl = z
  .string({ invalid_type_error: REDIS_URL })
  .trim()
  .refine((value) => {
    try {
      const url = new URL(value);
      return (url.protocol === 'redis:' || url.protocol === 'rediss:') && url.hostname !== '';
    } catch {
      return false;
    }
  }, REDIS_URL);

/** Segment shipping, background jobs, retention and leases (src/tiering/tiering-config.ts). */
export const tieringSchema = z
  .object({
    /** Set (or REDIS_URL): BullMQ queues and the Redis lease. Unset: jobs in process, a local lease. */
    redisUrl: redisUrl.optional(),
    redisKeyPrefix: nonEmptyString('a key prefix').default(D.redisKeyPrefix),
    upload: z
      .object({
        packTargetBytes: positiveInt(D.upload.packTargetBytes),
        maxPackDelayMs: nonNegativeInt(D.upload.maxPackDelayMs),
        concurrency: positiveInt(D.upload.concurrency),
        reconcileIntervalMs: nonNegativeInt(D.upload.reconcileIntervalMs),
      })
      .strict()
      .default({}),
    retention: z
      .object({
        keepFullCheckpoints: positiveInt(D.retention.keepFullCheckpoints),
        pitrWindowMs: nonNegativeInt(D.retention.pitrWindowMs),
        intervalMs: nonNegativeInt(D.retention.intervalMs),
      })
      .strict()
      .default({}),
    gc: z
      .object({
        graceMs: nonNegativeInt(D.gc.graceMs),
        intervalMs: nonNegativeInt(D.gc.intervalMs),
        fullSweepIntervalMs: nonNegativeInt(D.gc.fullSweepIntervalMs),
      })
      .strict()
      .default({}),
    lease: z
      .object({ ttlMs: positiveInt(D.lease.ttlMs), renewIntervalMs: positiveInt(D.lease.renewIntervalMs) })
      .strict()
      .refine((lease) => lease.renewIntervalMs < lease.ttlMs * 0.9, {
        message: 'renewIntervalMs must be well below ttlMs (under 90% of it)',
      })
      .default({}),
  })
  .strict();
