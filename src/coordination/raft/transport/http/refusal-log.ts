import type { Clock } from '../../../../lib/clock';
import type { Logger } from '../../../../lib/logger';
import type { RefusalReason } from './transport-stats';

/** At most one warning a second per reason, each saying how many were left out since the last. */
const QUIET_MS = 1_000;

/**
 * Warns about refused inbound requests without letting a misconfigured peer (a wrong secret retried every
 * heartbeat) or a flood fill the log. Never given the secret or a signature.
 */
export class RefusalLog {
  private readonly last = new Map<RefusalReason, { at: number; suppressed: number }>();

  constructor(
    private readonly logger: Logger,
    private readonly clock: Clock,
  ) {}

  warn(reason: RefusalReason, status: number, detail: string, facts: Record<string, unknown>): void {
    const now = this.clock.monotonic();
    const last = this.last.get(reason);
    if (last !== undefined && now - last.at < QUIET_MS) {
      last.suppressed++;
      return;
    }
    const suppressed = last?.suppressed ?? 0;
    this.last.set(reason, { at: now, suppressed: 0 });
    this.logger.warn(
      { reason, status, ...facts, ...(suppressed > 0 ? { suppressed } : {}) },
      `refused a raft request: ${detail}`,
    );
  }
}
