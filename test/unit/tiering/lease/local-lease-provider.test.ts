import { LocalLeaseProvider } from '../../../../src/tiering/lease';
import { ManualClock } from '../../../support/manual-clock';
import type { KeeperBackend, LeaseBackend } from '../../../support/tiering/lease/lease-backend';
import { runLeaseKeeperContract } from '../../../support/tiering/lease/lease-keeper.contract';
import { runLeaseProviderContract } from '../../../support/tiering/lease/lease-provider.contract';
import { SwitchableLeaseProvider } from '../../../support/tiering/lease/switchable-lease-provider';

/** The provider alone: a clock moved by hand, no timers at all. */
async function manualClockBackend(): Promise<LeaseBackend> {
  const clock = new ManualClock(1_700_000_000_000);
  const provider = new LocalLeaseProvider({ clock });
  return {
    connect: () => provider, // one process: every "node" shares the one provider
    sleep: async (ms) => clock.advance(ms),
    teardown: () => provider.close(),
  };
}

/**
 * Keepers run on timers, so their time is Jest's fake one, through the system clock: advancing it moves
 * Date.now (the provider's now()), performance.now (the keeper's monotonic()) and fires the timers due, together.
 */
async function fakeTimeBackend(): Promise<KeeperBackend> {
  jest.useFakeTimers();
  const provider = new LocalLeaseProvider();
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
