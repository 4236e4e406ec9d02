/**
 * The LeaseProvider contract, run by each adapter's test file against a fresh backend per test.
 * Leases are named per test, so a shared Redis needs no cleaning between tests.
 */
import fc from 'fast-check';
import type { LeaseGrant, LeaseProvider } from '../../../../src/tiering/lease';
import { defined, eventually, expectCode, type LeaseBackend } from './lease-backend';

/** Short enough to wait out, long enough that a renewal in the same test is never late. */
const SHORT_TTL = 300;
const LONG_TTL = 60_000;

export function runLeaseProviderContract(adapter: string, setup: () => Promise<LeaseBackend>): void {
  describe(`LeaseProvider contract: ${adapter}`, () => {
    let backend: LeaseBackend;
    let provider: LeaseProvider;
    let leaseCount = 0;
    const newName = () => `lease-${++leaseCount}`;

    beforeEach(async () => {
      backend = await setup();
      provider = backend.connect();
    });

    afterEach(async () => {
      await backend.teardown();
    });

    it('grants a free lease once, reports its holder, and refuses it to everyone while held', async () => {
      const name = newName();
      const grant = defined(await provider.acquire(name, 'node-a', LONG_TTL), 'a grant');
      expect(grant).toEqual({ name, holderId: 'node-a', token: 1, expiresAt: expect.any(Number) });
      expect(await provider.holder(name)).toEqual({ holderId: 'node-a', token: 1 });
      expect(await provider.acquire(name, 'node-b', LONG_TTL)).toBeUndefined();
      expect(await provider.acquire(name, 'node-a', LONG_TTL)).toBeUndefined(); // held, even by itself
      expect(await backend.connect().acquire(name, 'node-c', LONG_TTL)).toBeUndefined();
      expect(await provider.holder(name)).toEqual({ holderId: 'node-a', token: 1 });
    });

    it('release frees the lease, and the next grant has a higher token', async () => {
      const name = newName();
      const first = defined(await provider.acquire(name, 'node-a', LONG_TTL), 'a grant');
      await provider.release(first);
      expect(await provider.holder(name)).toBeUndefined();
      const second = defined(await provider.acquire(name, 'node-b', LONG_TTL), 'a second grant');
      expect(second.token).toBeGreaterThan(first.token);
      expect(await provider.holder(name)).toEqual({ holderId: 'node-b', token: second.token });
    });

    it('renew keeps the lease past its first TTL', async () => {
      const name = newName();
      // Not SHORT_TTL: a stall between acquire and renew must not fail the test.
      const grant = defined(await provider.acquire(name, 'node-a', 1_000), 'a grant');
      expect(await provider.renew(grant, LONG_TTL)).toBe(true);
      await backend.sleep(1_500);
      expect(await provider.holder(name)).toEqual({ holderId: 'node-a', token: grant.token });
      expect(await provider.acquire(name, 'node-b', LONG_TTL)).toBeUndefined();
      expect(await provider.renew(grant, LONG_TTL)).toBe(true);
    });

    it('lets the lease go when its TTL runs out: the next holder gets a higher token, the old grant is dead', async () => {
      const name = newName();
      const old = defined(await provider.acquire(name, 'node-a', SHORT_TTL), 'a grant');
      await backend.sleep(SHORT_TTL);
      let next: LeaseGrant | undefined;
      await eventually(
        backend,
        async () => (next = await provider.acquire(name, 'node-b', LONG_TTL)) !== undefined,
        'node-b to take the expired lease',
      );
      const taken = defined(next, 'a grant for node-b');
      expect(taken.token).toBeGreaterThan(old.token);
      expect(await provider.renew(old, LONG_TTL)).toBe(false);
      await provider.release(old);
      expect(await provider.holder(name)).toEqual({ holderId: 'node-b', token: taken.token });
    });

    it('renewing an expired grant nobody took fails, and does not bring it back', async () => {
      const name = newName();
      const old = defined(await provider.acquire(name, 'node-a', SHORT_TTL), 'a grant');
      await backend.sleep(SHORT_TTL);
      await eventually(
        backend,
        async () => (await provider.holder(name)) === undefined,
        'the lease to expire',
      );
      expect(await provider.renew(old, LONG_TTL)).toBe(false);
      expect(await provider.holder(name)).toBeUndefined();
    });

    it('refuses renew and ignores release of a grant with the wrong token or holder', async () => {
      const name = newName();
      const grant = defined(await provider.acquire(name, 'node-a', LONG_TTL), 'a grant');
      const stale = [
        { ...grant, token: grant.token + 1 },
        { ...grant, holderId: 'node-b' },
        { ...grant, name: `${name}-other` },
      ];
      for (const forged of stale) {
        expect(await provider.renew(forged, LONG_TTL)).toBe(false);
        await provider.release(forged);
      }
      expect(await provider.holder(name)).toEqual({ holderId: 'node-a', token: grant.token });
      await provider.release(grant);
      const next = defined(await provider.acquire(name, 'node-b', LONG_TTL), 'a new grant');
      await provider.release(grant); // the old grant cannot release the new holder's lease
      expect(await provider.renew(grant, LONG_TTL)).toBe(false);
      expect(await provider.holder(name)).toEqual({ holderId: 'node-b', token: next.token });
    });

    it('honours minToken, and never goes below the highest token granted', async () => {
      const name = newName();
      const tokens: number[] = [];
      for (const minToken of [100, 50, 0, undefined, 103]) {
        const grant = defined(await provider.acquire(name, 'node-a', LONG_TTL, minToken), 'a grant');
        tokens.push(grant.token);
        await provider.release(grant);
      }
      expect(tokens).toEqual([100, 101, 102, 103, 104]);
    });

    it('keeps tokens of different leases apart', async () => {
      const [a, b] = [newName(), newName()];
      const first = defined(await provider.acquire(a, 'node-a', LONG_TTL, 40), 'a grant of a');
      const other = defined(await provider.acquire(b, 'node-a', LONG_TTL), 'a grant of b');
      expect([first.token, other.token]).toEqual([40, 1]);
      expect(await provider.holder(b)).toEqual({ holderId: 'node-a', token: 1 });
    });

    it('grants the lease to exactly one of 20 concurrent acquirers, round after round', async () => {
      const name = newName();
      const providers = [provider, backend.connect(), backend.connect(), backend.connect()];
      let previous = 0;
      for (let round = 0; round < 3; round++) {
        const results = await Promise.all(
          Array.from({ length: 20 }, (_, i) =>
            providers[i % providers.length].acquire(name, `node-${i}`, LONG_TTL),
          ),
        );
        const grants = results.filter((grant): grant is LeaseGrant => grant !== undefined);
        expect(grants).toHaveLength(1);
        const [winner] = grants;
        expect(winner.token).toBeGreaterThan(previous);
        expect(await provider.holder(name)).toEqual({ holderId: winner.holderId, token: winner.token });
        previous = winner.token;
        await providers[round % providers.length].release(winner);
      }
    });

    it('agrees with a model of the lease over random sequences of calls', async () => {
      type Op =
        | { kind: 'acquire'; node: number; minToken: number | undefined }
        | { kind: 'renew' | 'release'; node: number; skew: number };
      const node = fc.integer({ min: 0, max: 2 });
      const op: fc.Arbitrary<Op> = fc.oneof(
        fc.record({
          kind: fc.constant('acquire' as const),
          node,
          minToken: fc.option(fc.nat(40), { nil: undefined }),
        }),
        fc.record({
          kind: fc.constantFrom('renew' as const, 'release' as const),
          node,
          skew: fc.constantFrom(0, 0, -1, 1),
        }),
      );
      await fc.assert(
        fc.asyncProperty(fc.array(op, { maxLength: 25 }), async (ops) => {
          const name = newName();
          let highest = 0;
          let held: { holderId: string; token: number } | undefined;
          const lastGrant = new Map<number, LeaseGrant>();
          for (const step of ops) {
            const holderId = `node-${step.node}`;
            if (step.kind === 'acquire') {
              const grant = await provider.acquire(name, holderId, LONG_TTL, step.minToken);
              if (held) {
                expect(grant).toBeUndefined();
              } else {
                highest = Math.max(highest + 1, step.minToken ?? 0);
                expect(grant).toMatchObject({ name, holderId, token: highest });
                held = { holderId, token: highest };
                lastGrant.set(step.node, defined(grant, 'a grant'));
              }
            } else {
              const known = lastGrant.get(step.node);
              if (!known) continue;
              const grant = { ...known, token: Math.max(1, known.token + step.skew) };
              const ours = held?.holderId === grant.holderId && held.token === grant.token;
              if (step.kind === 'renew') {
                expect(await provider.renew(grant, LONG_TTL)).toBe(ours);
              } else {
                await provider.release(grant);
                if (ours) held = undefined;
              }
            }
            expect(await provider.holder(name)).toEqual(held);
          }
        }),
        { numRuns: 30 },
      );
    });

    it('keeps large tokens exact up to the largest safe integer, then refuses to grant', async () => {
      const name = newName();
      const max = Number.MAX_SAFE_INTEGER;
      const first = defined(await provider.acquire(name, 'node-a', LONG_TTL, max - 1), 'a grant');
      expect(first.token).toBe(max - 1);
      expect(await provider.holder(name)).toEqual({ holderId: 'node-a', token: max - 1 });
      expect(await provider.renew(first, LONG_TTL)).toBe(true);
      await provider.release(first);
      const last = defined(await provider.acquire(name, 'node-a', LONG_TTL), 'the last grant');
      expect(last.token).toBe(max);
      await provider.release(last);
      await expectCode(provider.acquire(name, 'node-a', LONG_TTL), 'INTERNAL');
      expect(await provider.holder(name)).toBeUndefined();
    });

    it("accepts holder ids with ':' (host:port)", async () => {
      const name = newName();
      const grant = defined(await provider.acquire(name, '10.0.0.7:4100', LONG_TTL), 'a grant');
      expect(await provider.holder(name)).toEqual({ holderId: '10.0.0.7:4100', token: grant.token });
      expect(await provider.renew(grant, LONG_TTL)).toBe(true);
      await provider.release(grant);
      expect(await provider.holder(name)).toBeUndefined();
    });

    it('refuses bad arguments with INVALID_ARGUMENT and changes nothing', async () => {
      const name = newName();
      const grant = defined(await provider.acquire(name, 'node-a', LONG_TTL), 'a grant');
      for (const badName of ['', 'a:b', 'has space', 'x'.repeat(201)]) {
        await expectCode(provider.acquire(badName, 'node-b', LONG_TTL), 'INVALID_ARGUMENT');
        await expectCode(provider.holder(badName), 'INVALID_ARGUMENT');
      }
      for (const badHolder of ['', 'line\nbreak', 'x'.repeat(257)]) {
        await expectCode(provider.acquire(newName(), badHolder, LONG_TTL), 'INVALID_ARGUMENT');
      }
      for (const badTtl of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
        await expectCode(provider.acquire(newName(), 'node-b', badTtl), 'INVALID_ARGUMENT');
        await expectCode(provider.renew(grant, badTtl), 'INVALID_ARGUMENT');
      }
      for (const badMin of [-1, 0.5, Number.NaN, Number.MAX_SAFE_INTEGER + 1]) {
        await expectCode(provider.acquire(newName(), 'node-b', LONG_TTL, badMin), 'INVALID_ARGUMENT');
      }
      for (const badToken of [0, -3, 1.5]) {
        await expectCode(provider.renew({ ...grant, token: badToken }, LONG_TTL), 'INVALID_ARGUMENT');
        await expectCode(provider.release({ ...grant, token: badToken }), 'INVALID_ARGUMENT');
      }
      expect(await provider.holder(name)).toEqual({ holderId: 'node-a', token: grant.token });
    });

    it('refuses calls once closed', async () => {
      const own = backend.connect();
      await own.close();
      await own.close(); // idempotent
      await expectCode(own.acquire(newName(), 'node-a', LONG_TTL), 'CLOSED');
      await expectCode(own.holder(newName()), 'CLOSED');
    });
  });
}
