import type { ConnectionOptions } from 'bullmq';

/**
 * Redis connection settings for BullMQ from a `redis://` URL. Workers need `maxRetriesPerRequest: null`
 * (they block on Redis and must wait out an outage); producers get `enableOfflineQueue: false` instead, so
 * an enqueue while Redis is down fails at once — its caller logs it and the reconciler re-enqueues later —
 * rather than piling up in memory.
 */
export function bullConnection(redisUrl: string, role: 'worker' | 'producer'): ConnectionOptions {
  const url = new URL(redisUrl);
  const base = {
    host: url.hostname,
    port: url.port === '' ? 6379 : Number(url.port),
    username: url.username === '' ? undefined : decodeURIComponent(url.username),
    password: url.password === '' ? undefined : decodeURIComponent(url.password),
    db: url.pathname.length > 1 ? Number(url.pathname.slice(1)) : undefined,
    tls: url.protocol === 'rediss:' ? {} : undefined,
  };
  return role === 'worker'
    ? { ...base, maxRetriesPerRequest: null }
    : { ...base, maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 2_000 };
}
