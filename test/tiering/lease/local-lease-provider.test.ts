import { LocalLeaseProvider } from '../../../src/tiering/lease';
import type { KeeperBackend, LeaseBackend } from './lease-backend';
import { runLeaseKeeperContract } from './lease-keeper.contract';
import { runLeaseProviderContract } from './lease-provider.contract';
import { SwitchableLeaseProvider } from './switchable-lease-provider';

/** The provider alone: a clock moved by hand, no timers at all. */
async function manualClockBackend(): Promise<LeaseBackend> {
  let now = 1_700_000_000_000;
  const provider = new LocalLeaseProvider({ now: () => now });
  return {
    connect: () => provider, // one process: every "node" shares the one provider
    sleep: async (ms) => {
      now += ms;
    },
    teardown: () => provider.close(),
  };
}

/**
 * Keepers run on timers, so their time is Jest's fake one: advancing it moves Date.now (the provider's clock),
 * performance.now (the keeper's) and fires the timers due, together.
 */
async function fakeTimeBackend(): Promise<KeeperBackend> {
  jest.useFakeTimers();
  const provider = new LocalLeaseProvider({ now: () => Date.now() });
  const state = { down: false };
  return {
    connect: () => new SwitchableLeaseProvider(provider, state),
    sleep: async (ms) => {
      await jest.advanceTimersByTimeAsync(ms);
    },
    outage: {
      begin: async () => {
        state.down = true;
      },
      end: async () => {
        state.down = false;
      },
    },
    teardown: async () => {
      await provider.close();
      jest.useRealTimers();
    },
  };
}

runLeaseProviderContract('local, manual clock', manualClockBackend);
runLeaseKeeperContract('local, fake time', fakeTimeBackend);
