import { Redis } from 'ioredis';
import { systemClock, type Clock } from '../../lib/clock';
import { TidemarkError } from '../../lib/errors';
import { silentLogger, type Logger } from '../../lib/logger';
import { toLeaseError } from '../../tiering/lease/coordination-errors';
import { FailFastRedis } from '../../tiering/lease/fail-fast-redis';
import { LuaScript } from '../../tiering/lease/lua-script';
import {
  checkClaim,
  checkHintTtl,
  checkNodeId,
  checkTerm,
  isLeaderClaim,
  type LeaderClaim,
  type LeaderHint,
  type LeaderHintValue,
  type PublishOutcome,
} from './leader-hint';

export interface RedisLeaderHintOptions {
  /** `redis://…`: the hint makes its own client, configured to fail fast, and closes it in close(). */
  url?: string;
  /**
   * A client of the caller's instead, left open by close(). Configure it like the hint's own
   * (`enableOfflineQueue: false`, `maxRetriesPerRequest: 0`), or calls may wait out a reconnect.
   */
  client?: Redis;
  /** Default `tidemark:`; keys are `{keyPrefix}leader` (the hint) and `{keyPrefix}leader:term` (the highest term). */
  keyPrefix?: string;
  /** How long a call waits for a connection being opened (default 1,000 ms). */
  connectTimeoutMs?: number;
  /** How long a call waits for Redis's answer (default 2,000 ms), so a hung Redis cannot stall the keeper. */
  commandTimeoutMs?: number;
  logger?: Logger;
  /** Read values' expiresAt and the connect timeout (default: the system clock). */
  clock?: Clock;
}

/*
 * The scripts. Each runs atomically in Redis, so compare-then-write needs no WATCH. Both keys hold small
 * JSON written by this adapter ({"term":7,"nodeId":"n1","address":"…"}): node ids may contain any
 * character, so a separator-joined value could not be split back safely; Redis's Lua has cjson built in.
 * A value that does not decode as a claim (hand-written, another program's) counts as absent and is
 * overwritten: a hint must be able to heal, and a damaged term key is no worse than Redis losing it.
 * Terms are compared as Lua numbers (doubles): exact up to 2^53, the largest term JavaScript can hold.
 */
const STORED_CLAIM = `
local function stored(key)
  local text = redis.pcall('GET', key)
  if type(text) ~= 'string' then return nil end
  local ok, value = pcall(cjson.decode, text)
  if ok and type(value) == 'table' and type(value.term) == 'number' and type(value.nodeId) == 'string' then
    return value
  end
  return nil
end
`;

/**
 * KEYS[1] hint key, KEYS[2] term key; ARGV[1] term, ARGV[2] node id, ARGV[3] the hint's JSON, ARGV[4] the
 * term key's JSON, ARGV[5] ttl ms. 1 if stored, 0 if refused. Both keys are checked, so a lost term key
 * still leaves a live higher hint protected.
 */
const PUBLISH = new LuaScript(
  'leader-hint-publish',
  `${STORED_CLAIM}
local term = tonumber(ARGV[1])
for _, key in ipairs(KEYS) do
  local claim = stored(key)
  if claim and (term < claim.term or (term == claim.term and ARGV[2] ~= claim.nodeId)) then
    return 0
  end
end
redis.call('SET', KEYS[2], ARGV[4])
redis.call('SET', KEYS[1], ARGV[3], 'PX', ARGV[5])
return 1
`,
);

/** KEYS[1] hint key. The value and its PTTL read together, or nil when there is no string there. */
const READ = new LuaScript(
  'leader-hint-read',
  `
local text = redis.pcall('GET', KEYS[1])
if type(text) ~= 'string' then return nil end
return {text, redis.call('PTTL', KEYS[1])}
`,
);

/** KEYS[1] hint key; ARGV[1] term, ARGV[2] node id. 1 if deleted, 0 if the hint is not that claim. */
const CLEAR = new LuaScript(
  'leader-hint-clear',
  `${STORED_CLAIM}
local claim = stored(KEYS[1])
if claim and claim.term == tonumber(ARGV[1]) and claim.nodeId == ARGV[2] then
  return redis.call('DEL', KEYS[1])
end
return 0
`,
);

/**
 * The leader hint in Redis: `{keyPrefix}leader` holds the hint with a TTL (PX), `{keyPrefix}leader:term`
 * the highest term published and its node, without expiry — so after the hint runs out, a stale leader
 * with a lower term still cannot publish. If Redis loses its data (a restart without persistence) that
 * guard is gone until the current leader publishes again; acceptable, as Redis is only a hint.
 * Redis unreachable → every call rejects with COORDINATION_UNAVAILABLE at once (no offline queue, no
 * per-request retries) while the client reconnects in the background.
 */
export class RedisLeaderHint implements LeaderHint {
  private readonly redis: FailFastRedis;
  private readonly client: Redis;
  private readonly hintKey: string;
  private readonly termKey: string;
  private readonly log: Logger;
  private readonly clock: Clock;
  private closed = false;

  constructor(options: RedisLeaderHintOptions) {
    this.redis = new FailFastRedis({ ...options, purpose: 'the leader hint' });
    this.client = this.redis.client;
    const keyPrefix = options.keyPrefix ?? 'tidemark:';
    this.hintKey = `${keyPrefix}leader`;
    this.termKey = `${keyPrefix}leader:term`;
    this.log = options.logger ?? silentLogger;
    this.clock = options.clock ?? systemClock;
  }

  async publish(claim: LeaderClaim, ttlMs: number): Promise<PublishOutcome> {
    checkClaim(claim);
    checkHintTtl(ttlMs);
    const { term, nodeId, address } = claim;
    const hint = JSON.stringify(address === undefined ? { term, nodeId } : { term, nodeId, address });
    const highest = JSON.stringify({ term, nodeId });
    const reply = await this.call('publish', () =>
      PUBLISH.run(this.client, [this.hintKey, this.termKey], [String(term), nodeId, hint, highest, ttlMs]),
    );
    return reply === 1 ? 'stored' : 'refused';
  }

  async read(): Promise<LeaderHintValue | undefined> {
    const sentAt = this.clock.now();
    const reply = await this.call('read', () => READ.run(this.client, [this.hintKey], []));
    if (reply === null) return undefined;
    const [text, pttl] = Array.isArray(reply) ? (reply as unknown[]) : [];
    const claim = typeof text === 'string' ? parseClaim(text) : undefined;
    if (claim === undefined || typeof pttl !== 'number') {
      this.log.debug({ key: this.hintKey, value: text }, 'the leader hint key holds no hint; read as none');
      return undefined;
    }
    // The TTL was read after the request left, so this is never later than Redis's own expiry.
    return pttl >= 0 ? { ...claim, expiresAt: sentAt + pttl } : claim;
  }

  async clear(claim: Pick<LeaderClaim, 'term' | 'nodeId'>): Promise<void> {
    checkTerm(claim?.term);
    checkNodeId(claim.nodeId);
    await this.call('clear', () =>
      CLEAR.run(this.client, [this.hintKey], [String(claim.term), claim.nodeId]),
    );
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.redis.close();
  }

  private async call<T>(operation: string, run: () => Promise<T>): Promise<T> {
    if (this.closed) throw new TidemarkError('CLOSED', `leader hint is closed (${operation})`);
    try {
      await this.redis.whenReady();
      return await run();
    } catch (error) {
      throw this.toHintError(error, operation);
    }
  }

  /**
   * COORDINATION_UNAVAILABLE for anything that says "Redis cannot answer now" (retried by the keeper and the
   * watcher), INTERNAL for an error reply that means a bug — the same split as the lease's.
   */
  private toHintError(error: unknown, operation: string): TidemarkError {
    if (error instanceof TidemarkError) return error;
    const code = toLeaseError(error, operation, this.hintKey).code;
    const reason = error instanceof Error ? error.message : String(error);
    const message =
      code === 'COORDINATION_UNAVAILABLE'
        ? `Redis unavailable for leader hint ${operation} (${this.hintKey}): ${reason}`
        : `Redis refused leader hint ${operation} (${this.hintKey}): ${reason}`;
    return new TidemarkError(code, message, { cause: error, details: { operation, key: this.hintKey } });
  }
}

/** A stored JSON claim, validated; undefined for anything else. Extra fields are dropped. */
function parseClaim(text: string): LeaderClaim | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isLeaderClaim(value)) return undefined;
  const { term, nodeId, address } = value;
  return address === undefined ? { term, nodeId } : { term, nodeId, address };
}
