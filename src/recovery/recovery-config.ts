import { invalidArgument } from '../lib/errors';
import type { RecoveryConfig } from './recovery-types';

const PREFETCH = ['none', 'sequential', 'adaptive'];
const LEVELS = ['basic', 'standard', 'full'];

/** Refuses impossible settings (INVALID_ARGUMENT) before anything runs. */
export function resolveRecoveryConfig(config: RecoveryConfig): RecoveryConfig {
  const positive = (key: 'maxParallelThreads' | 'fetchConcurrency') => {
    if (!Number.isSafeInteger(config[key]) || config[key] < 1 || config[key] > 256) {
      throw invalidArgument(`recovery ${key} must be an integer from 1 to 256`);
    }
  };
  positive('maxParallelThreads');
  positive('fetchConcurrency');
  if (!Number.isSafeInteger(config.recoveryTimeout) || config.recoveryTimeout < 0) {
    throw invalidArgument('recovery recoveryTimeout must be a non-negative integer (ms; 0: none)');
  }
  if (!PREFETCH.includes(config.prefetchStrategy)) {
    throw invalidArgument(`recovery prefetchStrategy must be one of ${PREFETCH.join(', ')}`);
  }
  if (!LEVELS.includes(config.verificationLevel)) {
    throw invalidArgument(`recovery verificationLevel must be one of ${LEVELS.join(', ')}`);
  }
  if (typeof config.optimisticRecovery !== 'boolean') {
    throw invalidArgument('recovery optimisticRecovery must be a boolean');
  }
  return { ...config };
}
