import fc from 'fast-check';
import { ChangeLog } from '../../../src/checkpoint/state/change-log';

type Op = { kind: 'push'; count: number } | { kind: 'drop'; back: number } | { kind: 'retain'; mod: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({ kind: fc.constant('push' as const), count: fc.integer({ min: 1, max: 900 }) }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('drop' as const), back: fc.nat(1_500) }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('retain' as const), mod: fc.integer({ min: 2, max: 5 }) }),
  },
);

describe('ChangeLog', () => {
  it('holds what an array holds through pushes, drops from the front (which make room) and retains', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 60 }), fc.nat(2_000), (ops, probe) => {
        const log = new ChangeLog();
        let model: [slot: number, lsn: number][] = [];
        let lsn = 0;
        for (const op of ops) {
          if (op.kind === 'push') {
            for (let i = 0; i < op.count; i++) {
              lsn++;
              log.push(lsn % 97, lsn);
              model.push([lsn % 97, lsn]);
            }
          } else if (op.kind === 'drop') {
            const through = Math.max(0, lsn - op.back);
            log.dropThrough(through);
            model = model.filter(([, at]) => at > through);
          } else {
            log.retain((slot) => slot % op.mod !== 0);
            model = model.filter(([slot]) => slot % op.mod !== 0);
          }
          expect(log.length).toBe(model.length);
        }
        const after = Math.max(0, lsn - probe);
        const seen: [number, number][] = [];
        log.forEachAfter(after, (slot, at) => seen.push([slot, at]));
        expect(seen).toEqual(model.filter(([, at]) => at > after));
      }),
    );
  });
});
