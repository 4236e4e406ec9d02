// The Redis adapter is not here (it loads ioredis): './redis-leader-hint', as for the lease's Redis provider.
export type { LeaderClaim, LeaderHint, LeaderHintValue, PublishOutcome } from './leader-hint';
export { LocalLeaderHint, type LocalLeaderHintOptions } from './local-leader-hint';
export { LeaderHintKeeper, type LeaderHintKeeperOptions } from './leader-hint-keeper';
export { LeaderHintWatcher, type LeaderHintWatcherOptions } from './leader-hint-watcher';
