// The Redis lease is not here (it loads ioredis): './redis-lease-provider', or the package's 'tidemark/redis'.
export type { LeaseGrant, LeaseHolder, LeaseProvider } from './lease-provider';
export { LocalLeaseProvider, type LocalLeaseProviderOptions } from './local-lease-provider';
export { LeaseKeeper } from './lease-keeper';
export type { LeaseKeeperOptions, LeaseLossReason } from './lease-keeper-options';
