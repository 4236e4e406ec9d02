/**
 * `tidemark/redis`: the parts that run on Redis — the BullMQ job queue (cluster mode's queues and workers)
 * and the Redis lease. Apart from the main face so that `require('tidemark')` loads neither BullMQ nor
 * ioredis (openNode loads them itself when `tiering.redisUrl` is set).
 */
export { BullMqJobQueue, type BullMqJobQueueOptions } from './jobs/bullmq/bullmq-job-queue';
export { RedisLeaseProvider, type RedisLeaseProviderOptions } from './tiering/lease/redis-lease-provider';
