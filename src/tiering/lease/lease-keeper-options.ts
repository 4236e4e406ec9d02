import { systemClock, type Clock } from '../../lib/clock';
import { invalidArgument } from '../../lib/errors';
import { silentLogger, type Logger } from '../../lib/logger';
import { checkHolderId, checkLeaseName, checkTtl } from './lease-arguments';
import type { LeaseGrant } from './lease-provider';

/**
 * Why a tenure ended other than by stop():
 * - `refused`: a renewal found the lease no longer ours (it expired and someone else took it, or Redis lost it);
 * - `expired`: no renewal succeeded before the local deadline (Redis unreachable, or this process was paused),
 *   so the lease may have run out in the provider and someone else may hold it already.
 */
export type LeaseLossReason = 'refused' | 'expired';

export interface LeaseKeeperOptions {
  name: string;
  holderId: string;
  ttlMs: number;
  /** Default ttl / 3: two renewals can fail before the lease runs out. */
  renewEveryMs?: number;
  /** Pause between attempts to acquire while someone else holds it or the provider fails (default renewEveryMs). */
  retryAcquireEveryMs?: number;
  /**
   * The lease counts as lost locally this long before its TTL runs out (default ttl / 10), so that this
   * process stops believing it leads before the provider lets someone else take over.
   */
  safetyMarginMs?: number;
  /** The lowest token to accept, asked before every acquire (the catalog's highest token + 1). */
  minToken?: () => number;
  logger?: Logger;
  /** Deadlines (monotonic), grant expiry times (wall) and the keeper's timers (default: the system clock). */
  clock?: Clock;
  /** Called with every new tenure; not awaited by the keeper (renewals go on meanwhile); a rejection is logged. */
  onAcquired?: (grant: LeaseGrant) => void | Promise<void>;
  /** Called when a tenure ends other than by stop(); the tenure's signal is aborted already. */
  onLost?: (grant: LeaseGrant, reason: LeaseLossReason) => void;
}

export type ResolvedLeaseKeeperOptions = Required<
  Pick<
    LeaseKeeperOptions,
    | 'name'
    | 'holderId'
    | 'ttlMs'
    | 'renewEveryMs'
    | 'retryAcquireEveryMs'
    | 'safetyMarginMs'
    | 'logger'
    | 'clock'
  >
> &
  Pick<LeaseKeeperOptions, 'minToken' | 'onAcquired' | 'onLost'>;

export function resolveLeaseKeeperOptions(options: LeaseKeeperOptions): ResolvedLeaseKeeperOptions {
  checkLeaseName(options.name);
  checkHolderId(options.holderId);
  checkTtl(options.ttlMs);
  const ttlMs = options.ttlMs;
  const safetyMarginMs = options.safetyMarginMs ?? Math.floor(ttlMs / 10);
  const renewEveryMs = options.renewEveryMs ?? Math.max(1, Math.floor(ttlMs / 3));
  const retryAcquireEveryMs = options.retryAcquireEveryMs ?? renewEveryMs;
  if (!Number.isSafeInteger(safetyMarginMs) || safetyMarginMs < 0 || safetyMarginMs >= ttlMs) {
    throw invalidArgument(`safetyMarginMs must be an integer in [0, ttlMs) (got ${safetyMarginMs})`);
  }
  // Renewing less often than the lease lasts locally would lose it between two renewals.
  if (!Number.isSafeInteger(renewEveryMs) || renewEveryMs <= 0 || renewEveryMs >= ttlMs - safetyMarginMs) {
    throw invalidArgument(
      `renewEveryMs must be a positive integer below ttlMs - safetyMarginMs = ${ttlMs - safetyMarginMs} (got ${renewEveryMs})`,
    );
  }
  if (!Number.isSafeInteger(retryAcquireEveryMs) || retryAcquireEveryMs <= 0) {
    throw invalidArgument(`retryAcquireEveryMs must be a positive integer (got ${retryAcquireEveryMs})`);
  }
  return {
    name: options.name,
    holderId: options.holderId,
    ttlMs,
    renewEveryMs,
    retryAcquireEveryMs,
    safetyMarginMs,
    logger: options.logger ?? silentLogger,
    clock: options.clock ?? systemClock,
    minToken: options.minToken,
    onAcquired: options.onAcquired,
    onLost: options.onLost,
  };
}
