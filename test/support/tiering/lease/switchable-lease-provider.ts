import { TidemarkError } from '../../../../src/lib/errors';
import type { LeaseGrant, LeaseHolder, LeaseProvider } from '../../../../src/tiering/lease';

/** An outage of the local backend: while `state.down`, every call fails as an unreachable Redis's would. */
export class SwitchableLeaseProvider implements LeaseProvider {
  constructor(
    private readonly inner: LeaseProvider,
    private readonly state: { down: boolean },
  ) {}

  acquire(name: string, holderId: string, ttlMs: number, minToken?: number): Promise<LeaseGrant | undefined> {
    return this.whenUp(() => this.inner.acquire(name, holderId, ttlMs, minToken));
  }

  renew(grant: LeaseGrant, ttlMs: number): Promise<boolean> {
    return this.whenUp(() => this.inner.renew(grant, ttlMs));
  }

  release(grant: LeaseGrant): Promise<void> {
    return this.whenUp(() => this.inner.release(grant));
  }

  holder(name: string): Promise<LeaseHolder | undefined> {
    return this.whenUp(() => this.inner.holder(name));
  }

  async close(): Promise<void> {}

  private async whenUp<T>(call: () => Promise<T>): Promise<T> {
    if (this.state.down) throw new TidemarkError('COORDINATION_UNAVAILABLE', 'simulated coordination outage');
    return call();
  }
}
