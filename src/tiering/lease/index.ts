export type { LeaseGrant, LeaseHolder, LeaseProvider } from './lease-provider';
export { RedisLeaseProvider, type RedisLeaseProviderOptions } from './redis-lease-provider';
export { LocalLeaseProvider, type LocalLeaseProviderOptions } from './local-lease-provider';
export { LeaseKeeper } from './lease-keeper';
export type { LeaseKeeperOptions, LeaseLossReason } from './lease-keeper-options';
