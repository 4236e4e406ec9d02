import { Redis } from 'ioredis';
import { systemClock, type Clock } from '../../lib/clock';
import { TidemarkError, invalidArgument } from '../../lib/errors';
import { silentLogger, type Logger } from '../../lib/logger';
import { coordinationUnavailable, toLeaseError } from './coordination-errors';
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
  private readonly client: Redis;
  private readonly ownsClient: boolean;
  private readonly keyPrefix: string;
  private readonly connectTimeoutMs: number;
  private readonly log: Logger;
  private readonly clock: Clock;
  private pendingReady?: Promise<void>;
  private unreachable = false;
  private closed = false;

  constructor(options: RedisLeaseProviderOptions) {
    if ((options.url === undefined) === (options.client === undefined)) {
      throw invalidArgument('RedisLeaseProvider needs exactly one of url and client');
    }
    this.keyPrefix = options.keyPrefix ?? 'tidemark:';
    this.connectTimeoutMs = options.connectTimeoutMs ?? 1_000;
    this.log = options.logger ?? silentLogger;
    this.clock = options.clock ?? systemClock;
    this.ownsClient = options.client === undefined;
    this.client = options.client ?? this.createClient(options.url ?? '', options.commandTimeoutMs ?? 2_000);
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
    if (!this.ownsClient) return;
    try {
      await this.client.quit();
    } catch {
      this.client.disconnect(); // not connected: nothing to say goodbye to
    }
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

  /**
   * Resolves when the client can send. While a connection is being opened (just constructed, or Redis just
   * came back) it waits for it, briefly; while the client is between reconnect attempts it fails at once.
   */
  private whenReady(operation: string, name: string): Promise<void> {
    const status = this.client.status;
    if (status === 'ready') return Promise.resolve();
    if (status === 'reconnecting' || status === 'close' || status === 'end') {
      return Promise.reject(coordinationUnavailable(operation, name, new Error(`connection is ${status}`)));
    }
    if (status === 'wait') this.client.connect().catch(() => undefined); // lazyConnect client of the caller's
    this.pendingReady ??= new Promise<void>((resolve, reject) => {
      const settle = (error?: Error) => {
        timer.cancel();
        this.client.off('ready', onReady).off('close', onClose).off('end', onClose);
        this.pendingReady = undefined;
        if (error) reject(error);
        else resolve();
      };
      const onReady = () => settle();
      const onClose = () => settle(new Error('connection closed before it was ready'));
      const timer = this.clock
        .setTimeout(
          () => settle(new Error(`not connected within ${this.connectTimeoutMs} ms`)),
          this.connectTimeoutMs,
        )
        .unref();
      this.client.on('ready', onReady).on('close', onClose).on('end', onClose);
    });
    return this.pendingReady.catch((error: unknown) => {
      throw coordinationUnavailable(operation, name, error);
    });
  }

  private createClient(url: string, commandTimeoutMs: number): Redis {
    const client = new Redis(url, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      // A command lost with a dropped connection fails rather than being sent again later, when it may no
      // longer be wanted (a renewal after the lease was given up).
      autoResendUnfulfilledCommands: false,
      connectTimeout: this.connectTimeoutMs,
      commandTimeout: commandTimeoutMs,
      retryStrategy: (attempt) => Math.min(50 * attempt, 1_000),
    });
    // One warning per outage, not one per reconnect attempt.
    client.on('error', (error: Error) => {
      if (this.unreachable) return;
      this.unreachable = true;
      this.log.warn({ err: error }, 'Redis for leases unreachable; reconnecting in the background');
    });
    client.on('ready', () => {
      if (!this.unreachable) return;
      this.unreachable = false;
      this.log.info({}, 'Redis for leases reachable again');
    });
    return client;
  }
}
