import { z } from 'zod';
import { DEFAULT_RECOVERY_CONFIG as D } from '../recovery/recovery-types';
import { bool, nonNegativeInt, oneOf } from './schema-primitives';

const UP_TO_256 = 'expected an integer from 1 to 256';

const upTo256 = (fallback: number) =>
  z
    .number({ invalid_type_error: UP_TO_256, required_error: UP_TO_256 })
    .int(UP_TO_256)
    .min(1, UP_TO_256)
    .max(256, UP_TO_256)
    .default(fallback);

/**
 * The recovery engine (src/recovery/recovery-types.ts, the reference's names): what `POST /v1/recovery`
 * and `tidemark recover` run with. Durations in ms.
 */
export const recoverySchema = z
  .object({
    /** Worker threads that check, decompress and decode blocks (1: on the calling thread). */
    maxParallelThreads: upTo256(D.maxParallelThreads),
    /** A recovery running longer is aborted cleanly (TIMEOUT), ms; 0: no limit. */
    recoveryTimeout: nonNegativeInt(D.recoveryTimeout),
    /** A failing component does not stop the others; the result reports its error. */
    optimisticRecovery: bool(D.optimisticRecovery),
    prefetchStrategy: oneOf(['none', 'sequential', 'adaptive']).default(D.prefetchStrategy),
    /** Blocks fetched at once (and the sequential prefetch depth). */
    fetchConcurrency: upTo256(D.fetchConcurrency),
    verificationLevel: oneOf(['basic', 'standard', 'full']).default(D.verificationLevel),
  })
  .strict();

export type RecoverySettings = z.output<typeof recoverySchema>;
