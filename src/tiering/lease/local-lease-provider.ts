import { systemClock, type Clock } from '../../lib/clock';
import { TidemarkError } from '../../lib/errors';
import { checkGrant, checkHolderId, checkLeaseName, checkMinToken, checkTtl } from './lease-arguments';
import type { LeaseGrant, LeaseHolder, LeaseProvider } from './lease-provider';

export interface LocalLeaseProviderOptions {
  /** The clock TTLs run on, wall time (default: the system clock). Tests pass a clock they move by hand. */
  clock?: Clock;
}

interface Held {
  holderId: string;
  token: number;
  expiresAt: number;
}

/**
 * The lease in memory, for the embedded mode (one process, so in-memory exclusion is all there is) and for
 * deterministic tests: the same semantics as RedisLeaseProvider, on an injectable clock.
 */
export class LocalLeaseProvider implements LeaseProvider {
  private readonly clock: Clock;
  private readonly held = new Map<string, Held>();
  /** The highest token granted per name; kept after the lease expires, as Redis keeps its token key. */
  private readonly highest = new Map<string, number>();
  private closed = false;

  constructor(options: LocalLeaseProviderOptions = {}) {
    this.clock = options.clock ?? systemClock;
  }

  async acquire(
    name: string,
    holderId: string,
    ttlMs: number,
    minToken?: number,
  ): Promise<LeaseGrant | undefined> {
    checkLeaseName(name);
    checkHolderId(holderId);
    checkTtl(ttlMs);
    checkMinToken(minToken);
    this.checkOpen();
    if (this.current(name)) return undefined;
    const token = Math.max((this.highest.get(name) ?? 0) + 1, minToken ?? 0);
    if (!Number.isSafeInteger(token))
      throw new TidemarkError('INTERNAL', `lease tokens of ${name} exhausted`);
    const expiresAt = this.clock.now() + ttlMs;
    this.highest.set(name, token);
    this.held.set(name, { holderId, token, expiresAt });
    return { name, holderId, token, expiresAt };
  }

  async renew(grant: LeaseGrant, ttlMs: number): Promise<boolean> {
    checkGrant(grant);
    checkTtl(ttlMs);
    this.checkOpen();
    const held = this.current(grant.name);
    if (!held || !sameHolder(held, grant)) return false;
    held.expiresAt = this.clock.now() + ttlMs;
    return true;
  }

  async release(grant: LeaseGrant): Promise<void> {
    checkGrant(grant);
    this.checkOpen();
    const held = this.current(grant.name);
    if (held && sameHolder(held, grant)) this.held.delete(grant.name);
  }

  async holder(name: string): Promise<LeaseHolder | undefined> {
    checkLeaseName(name);
    this.checkOpen();
    const held = this.current(name);
    return held && { holderId: held.holderId, token: held.token };
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  /** The unexpired holding of `name`; an expired one is dropped, as Redis drops a key whose PX ran out. */
  private current(name: string): Held | undefined {
    const held = this.held.get(name);
    if (held && held.expiresAt <= this.clock.now()) {
      this.held.delete(name);
      return undefined;
    }
    return held;
  }

  private checkOpen(): void {
    if (this.closed) throw new TidemarkError('CLOSED', 'lease provider is closed');
  }
}

function sameHolder(held: Held, grant: LeaseGrant): boolean {
  return held.holderId === grant.holderId && held.token === grant.token;
}
