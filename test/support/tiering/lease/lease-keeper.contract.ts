/**
 * LeaseKeeper's behaviour over a LeaseProvider, run against each backend. Keepers here renew every 100 ms a
 * lease of 1 s, so a test process would have to stall for most of a second to lose one by accident.
 */
import {
  LeaseKeeper,
  type LeaseGrant,
  type LeaseKeeperOptions,
  type LeaseLossReason,
} from '../../../../src/tiering/lease';
import { TidemarkError } from '../../../../src/lib/errors';
import { defined, eventually, expectCode, type KeeperBackend } from './lease-backend';

const TTL = 1_000;

export function runLeaseKeeperContract(adapter: string, setup: () => Promise<KeeperBackend>): void {
  describe(`LeaseKeeper: ${adapter}`, () => {
    let backend: KeeperBackend;
    let keepers: LeaseKeeper[];
    let leaseCount = 0;
    let name: string;

    beforeEach(async () => {
      backend = await setup();
      keepers = [];
      name = `keeper-${++leaseCount}`;
    });

    afterEach(async () => {
      for (const keeper of keepers) await keeper.stop();
      await backend.teardown();
    });

    /** A keeper on its own connection, as on its own node; its events are recorded. */
    function keeper(holderId: string, options: Partial<LeaseKeeperOptions> = {}) {
      const acquired: LeaseGrant[] = [];
      const lost: Array<{ grant: LeaseGrant; reason: LeaseLossReason }> = [];
      const made = new LeaseKeeper(backend.connect(), {
        name,
        holderId,
        ttlMs: TTL,
        renewEveryMs: 100,
        retryAcquireEveryMs: 50,
        onAcquired: (grant) => void acquired.push(grant),
        onLost: (grant, reason) => void lost.push({ grant, reason }),
        ...options,
      });
      keepers.push(made);
      return { keeper: made, acquired, lost };
    }

    const holds = (subject: LeaseKeeper) => () => subject.current() !== undefined;

    it('acquires at start and keeps the lease over several TTLs while another keeper waits', async () => {
      const a = keeper('node-a');
      await a.keeper.start();
      const grant = defined(a.keeper.current(), 'a grant at start');
      expect(grant).toMatchObject({ name, holderId: 'node-a' });
      await eventually(backend, () => a.acquired.length === 1, 'onAcquired');
      expect(a.acquired[0]).toEqual(grant);
      expect(a.keeper.signal.aborted).toBe(false);

      const b = keeper('node-b');
      await b.keeper.start();
      for (let waited = 0; waited < 4 * TTL; waited += TTL / 4) {
        await backend.sleep(TTL / 4);
        expect(a.keeper.current()?.token).toBe(grant.token);
        expect(b.keeper.current()).toBeUndefined();
      }
      await a.keeper.assertHeld(grant.token);
      expect(a.lost).toEqual([]);
      expect(b.keeper.signal.aborted).toBe(true); // b never held it

      await a.keeper.stop(); // releases: b need not wait out the TTL
      expect(a.keeper.current()).toBeUndefined();
      expect(a.keeper.signal.aborted).toBe(true);
      await eventually(backend, holds(b.keeper), 'node-b to take over');
      expect(defined(b.keeper.current(), 'b').token).toBeGreaterThan(grant.token);
      expect(a.lost).toEqual([]); // a stop is no loss
    });

    it('a frozen holder loses the lease locally after the TTL; the next holder is fenced above it', async () => {
      const a = keeper('node-a');
      await a.keeper.start();
      const old = defined(a.keeper.current(), 'a grant');
      const tenure = a.keeper.signal;
      await a.keeper.stop({ release: false }); // stops renewing, as a paused process would
      expect(tenure.aborted).toBe(true);

      const b = keeper('node-b');
      await b.keeper.start();
      await eventually(backend, () => a.keeper.current() === undefined, 'a to stop believing it leads');
      await eventually(backend, holds(b.keeper), 'node-b to take the expired lease');
      const next = defined(b.keeper.current(), 'b');
      expect(next.token).toBeGreaterThan(old.token);

      await expectCode(a.keeper.assertHeld(old.token), 'FENCED');
      await b.keeper.assertHeld(next.token);
      await expectCode(b.keeper.assertHeld(old.token), 'FENCED');
    });

    it('a renewal refused (someone removed the lease) ends the tenure and the keeper acquires anew', async () => {
      const a = keeper('node-a');
      await a.keeper.start();
      const old = defined(a.keeper.current(), 'a grant');
      const tenure = a.keeper.signal;
      await backend.connect().release(old); // as if Redis had dropped the key

      await eventually(backend, () => a.lost.length === 1, 'onLost');
      expect(a.lost[0]).toEqual({ grant: expect.objectContaining({ token: old.token }), reason: 'refused' });
      expect(tenure.aborted).toBe(true);
      expect(TidemarkError.is(tenure.reason, 'FENCED')).toBe(true);
      await eventually(backend, holds(a.keeper), 'a to acquire again');
      expect(defined(a.keeper.current(), 'a').token).toBeGreaterThan(old.token);
      expect(a.keeper.signal.aborted).toBe(false); // the new tenure's signal
      await eventually(backend, () => a.acquired.length === 2, 'onAcquired for the new tenure');
    });

    it('coordination down for longer than the TTL: reports the loss, then reacquires with a higher token', async () => {
      let catalogHighest = 0; // what a catalog remembers when Redis forgets
      const a = keeper('node-a', {
        minToken: () => catalogHighest + 1,
        onAcquired: (grant) => {
          catalogHighest = Math.max(catalogHighest, grant.token);
        },
      });
      await a.keeper.start();
      const old = defined(a.keeper.current(), 'a grant');
      const tenure = a.keeper.signal;

      await backend.outage.begin();
      try {
        await eventually(backend, () => a.lost.length === 1, 'the loss to be noticed');
        expect(a.lost[0].reason).toBe('expired');
        expect(a.keeper.current()).toBeUndefined();
        expect(tenure.aborted).toBe(true);
        await expectCode(a.keeper.assertHeld(old.token), 'FENCED');
      } finally {
        await backend.outage.end();
      }
      await eventually(backend, holds(a.keeper), 'a to acquire again once coordination is back');
      expect(defined(a.keeper.current(), 'a').token).toBeGreaterThan(old.token);
    });

    it('assertHeld refuses a token it does not hold, and anything before start', async () => {
      const a = keeper('node-a');
      await expectCode(a.keeper.assertHeld(1), 'FENCED');
      expect(TidemarkError.is(a.keeper.signal.reason, 'NOT_LEADER')).toBe(true);
      await a.keeper.start();
      const grant = defined(a.keeper.current(), 'a grant');
      await expectCode(a.keeper.assertHeld(grant.token + 1), 'FENCED');
      await a.keeper.assertHeld(grant.token);
    });

    it('starts again after a stop, with a new tenure and a higher token', async () => {
      const a = keeper('node-a');
      await a.keeper.start();
      const first = defined(a.keeper.current(), 'a grant');
      await a.keeper.stop({ release: false });
      await a.keeper.stop(); // idempotent; releases what the first stop left
      await a.keeper.start();
      const second = defined(a.keeper.current(), 'a second grant');
      expect(second.token).toBeGreaterThan(first.token);
      expect(a.keeper.signal.aborted).toBe(false);
    });

    it('refuses options that could not keep a lease', () => {
      const provider = backend.connect();
      const base = { name, holderId: 'node-a', ttlMs: TTL };
      const bad: Array<Partial<LeaseKeeperOptions>> = [
        { ttlMs: 0 },
        { renewEveryMs: TTL },
        { renewEveryMs: 0 },
        { safetyMarginMs: TTL },
        { retryAcquireEveryMs: -5 },
        { name: 'a:b' },
        { holderId: '' },
      ];
      for (const options of bad) {
        expect(() => new LeaseKeeper(provider, { ...base, ...options })).toThrow(
          expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
        );
      }
    });
  });
}
