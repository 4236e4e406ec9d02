import { Redis } from 'ioredis';
import { systemClock, type Clock } from '../../lib/clock';
import { invalidArgument } from '../../lib/errors';
import { silentLogger, type Logger } from '../../lib/logger';

export interface FailFastRedisOptions {
  /** `redis://…`: a client of our own, configured to fail fast, closed by close(). */
  url?: string;
  /** A client of the caller's instead, left open by close(). */
  client?: Redis;
  /** How long a call waits for a connection being opened (default 1,000 ms). */
  connectTimeoutMs?: number;
  /** How long a call waits for Redis's answer (default 2,000 ms), so a hung Redis cannot stall a caller. */
  commandTimeoutMs?: number;
  logger?: Logger;
  clock?: Clock;
  /** Who uses it, for the logs and refusals ("leases", "the leader hint"). */
  purpose: string;
}

/**
 * A Redis connection for coordination calls that must fail fast (the lease, the leader hint): no offline
 * queue, no per-request retries, no resending of commands lost with a connection; it reconnects in the
 * background and warns once per outage. `whenReady` waits briefly while a connection is being opened and
 * fails at once while the client is between reconnect attempts.
 */
export class FailFastRedis {
  readonly client: Redis;
  private readonly ownsClient: boolean;
  private readonly connectTimeoutMs: number;
  private readonly log: Logger;
  private readonly clock: Clock;
  private pendingReady?: Promise<void>;
  private unreachable = false;

  constructor(private readonly options: FailFastRedisOptions) {
    if ((options.url === undefined) === (options.client === undefined)) {
      throw invalidArgument(`Redis for ${options.purpose} needs exactly one of url and client`);
    }
    this.connectTimeoutMs = options.connectTimeoutMs ?? 1_000;
    this.log = options.logger ?? silentLogger;
    this.clock = options.clock ?? systemClock;
    this.ownsClient = options.client === undefined;
    this.client = options.client ?? this.createClient(options.url ?? '', options.commandTimeoutMs ?? 2_000);
  }

  /** Resolves when the client can send; rejects (a plain Error saying why) when it cannot now. */
  whenReady(): Promise<void> {
    const status = this.client.status;
    if (status === 'ready') return Promise.resolve();
    if (status === 'reconnecting' || status === 'close' || status === 'end') {
      return Promise.reject(new Error(`connection is ${status}`));
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
    return this.pendingReady;
  }

  /** Closes the client if it is ours. */
  async close(): Promise<void> {
    if (!this.ownsClient) return;
    try {
      await this.client.quit();
    } catch {
      this.client.disconnect(); // not connected: nothing to say goodbye to
    }
  }

  private createClient(url: string, commandTimeoutMs: number): Redis {
    const client = new Redis(url, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      // A command lost with a dropped connection fails rather than being sent again later, when it may no
      // longer be wanted (a renewal after the lease was given up, a publish after leadership moved on).
      autoResendUnfulfilledCommands: false,
      connectTimeout: this.connectTimeoutMs,
      commandTimeout: commandTimeoutMs,
      retryStrategy: (attempt) => Math.min(50 * attempt, 1_000),
    });
    const { purpose } = this.options;
    // One warning per outage, not one per reconnect attempt.
    client.on('error', (error: Error) => {
      if (this.unreachable) return;
      this.unreachable = true;
      this.log.warn({ err: error }, `Redis for ${purpose} unreachable; reconnecting in the background`);
    });
    client.on('ready', () => {
      if (!this.unreachable) return;
      this.unreachable = false;
      this.log.info({}, `Redis for ${purpose} reachable again`);
    });
    return client;
  }
}
