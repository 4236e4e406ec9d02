import { Redis } from 'ioredis';
import { systemClock, type Clock } from '../../lib/clock';
import { TidemarkError } from '../../lib/errors';
import type { Logger } from '../../lib/logger';
import { coordinationUnavailable, toLeaseError } from './coordination-errors';
import { FailFastRedis } from './fail-fast-redis';
import { checkGrant, checkHolderId, checkLeaseName, checkMinToken, checkTtl } from './lease-arguments';
import type { LeaseGrant, LeaseHolder, LeaseProvider } from './lease-provider';
import { ACQUIRE, RELEASE, RENEW } from './lease-scripts';
import { decodeLeaseValue, encodeLeaseValue } from './lease-value';

export interface RedisLeaseProviderOptions {
  /** `redis://…`: the provider makes its own client, configured to fail fast, and closes it in close(). */
  url?: string;
  /**
   * A client of the caller's instead, left open by close(). Configure it like the provider's own
   * (`enableOfflineQueue: false`, `maxRetriesPerRequest: 0`), or calls may wait out a reconnect.
   */
  client?: Redis;
  /** Default `tidemark:`; keys are `{keyPrefix}lease:{name}` and `{keyPrefix}lease:{name}:token`. */
  keyPrefix?: string;
  /** How long a call waits for a connection being opened (default 1,000 ms). */
  connectTimeoutMs?: number;
  /** How long a call waits for Redis's answer (default 2,000 ms), so a hung Redis cannot stall a renewal. */
  commandTimeoutMs?: number;
  logger?: Logger;
  /** Grants' expiresAt and the connect timeout (default: the system clock). */
  clock?: Clock;
}

/**
 * The lease in Redis. Acquire, renew and release are Lua scripts (lease-scripts.ts), so each check-and-write
 * is atomic; the highest token granted is kept in a key of its own without expiry.
 * Redis unreachable → every call rejects with COORDINATION_UNAVAILABLE at once (no offline queue, no
 * per-request retries) while the client reconnects in the background; calls succeed again once it is back.
 * A call that failed that way may still have happened in Redis (the reply was lost): an acquire the caller
 * never learnt of simply expires after its TTL.
 */
export class RedisLeaseProvider implements LeaseProvider {
  private readonly redis: FailFastRedis;
  private readonly client: Redis;
  private readonly keyPrefix: string;
  private readonly clock: Clock;
  private closed = false;

  constructor(options: RedisLeaseProviderOptions) {
    this.redis = new FailFastRedis({ ...options, purpose: 'leases' });
    this.client = this.redis.client;
    this.keyPrefix = options.keyPrefix ?? 'tidemark:';
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
    const requestedAt = this.clock.now();
    const reply = await this.call('acquire', name, () =>
      ACQUIRE.run(this.client, [this.leaseKey(name), this.tokenKey(name)], [holderId, ttlMs, minToken ?? 0]),
    );
    if (reply === null) return undefined;
    const token = Number(reply);
    if (typeof reply !== 'string' || !Number.isSafeInteger(token) || token <= 0) {
      throw new TidemarkError('INTERNAL', `lease acquire of ${name} answered ${String(reply)}, not a token`);
    }
    // The TTL started after the request left, so this is never later than Redis's own expiry.
    return { name, holderId, token, expiresAt: requestedAt + ttlMs };
  }

  async renew(grant: LeaseGrant, ttlMs: number): Promise<boolean> {
    checkGrant(grant);
    checkTtl(ttlMs);
    const reply = await this.call('renew', grant.name, () =>
      RENEW.run(this.client, [this.leaseKey(grant.name)], [encodeLeaseValue(grant), ttlMs]),
    );
    return reply === 1;
  }

  async release(grant: LeaseGrant): Promise<void> {
    checkGrant(grant);
    await this.call('release', grant.name, () =>
      RELEASE.run(this.client, [this.leaseKey(grant.name)], [encodeLeaseValue(grant)]),
    );
  }

  async holder(name: string): Promise<LeaseHolder | undefined> {
    checkLeaseName(name);
    const key = this.leaseKey(name);
    const value = await this.call('holder', name, () => this.client.get(key));
    return value === null ? undefined : decodeLeaseValue(key, value);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.redis.close();
  }

  private leaseKey(name: string): string {
    return `${this.keyPrefix}lease:${name}`;
  }

  private tokenKey(name: string): string {
    return `${this.keyPrefix}lease:${name}:token`;
  }

  private async call<T>(operation: string, name: string, run: () => Promise<T>): Promise<T> {
    if (this.closed)
      throw new TidemarkError('CLOSED', `lease provider is closed (lease ${operation} of ${name})`);
    try {
      await this.whenReady(operation, name);
      return await run();
    } catch (error) {
      throw toLeaseError(error, operation, name);
    }
  }

  /** While a connection opens it waits briefly; between reconnect attempts it fails at once. */
  private whenReady(operation: string, name: string): Promise<void> {
    return this.redis.whenReady().catch((error: unknown) => {
      throw coordinationUnavailable(operation, name, error);
    });
  }
}
