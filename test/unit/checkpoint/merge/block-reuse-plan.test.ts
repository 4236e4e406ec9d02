import { planBlockReuse } from '../../../../src/checkpoint/merge/block-reuse-plan';
import { runFromRecords } from '../../../../src/checkpoint/run/sorted-run';

const key = (text: string) => Buffer.from(text);
const blocks = [
  { firstKey: key('b'), lastKey: key('d') },
  { firstKey: key('f'), lastKey: key('h') },
  { firstKey: key('j'), lastKey: key('l') },
  { firstKey: key('n'), lastKey: key('p') },
];
const delta = (...changes: [string, 'put' | 'delete'][]) =>
  runFromRecords(
    changes.map(([k, op]) =>
      op === 'put'
        ? { op, key: key(k), value: key('v'), lsn: 1, timestamp: 1 }
        : { op, key: key(k), lsn: 1, timestamp: 1 },
    ),
  );
const touched = (...deltas: ReturnType<typeof delta>[]) =>
  planBlockReuse(blocks, deltas).map((s) => [s.firstBlock, s.endBlock]);

describe('planBlockReuse', () => {
  it('touches the block whose range holds a changed key, put or delete', () => {
    expect(touched(delta(['g', 'put']))).toEqual([[1, 2]]);
    expect(touched(delta(['k', 'delete']))).toEqual([[2, 3]]);
  });

  it('a put between blocks goes to the block before it; below the first, to the first', () => {
    expect(touched(delta(['e', 'put']))).toEqual([[0, 1]]);
    expect(touched(delta(['a', 'put']))).toEqual([[0, 1]]);
    expect(touched(delta(['z', 'put']))).toEqual([[3, 4]]);
  });

  it('a delete between blocks touches nothing: the base does not hold the key', () => {
    expect(touched(delta(['a', 'delete'], ['e', 'delete'], ['m', 'delete'], ['z', 'delete']))).toEqual([]);
  });

  it('joins neighbouring touched blocks into one stretch and hands it each delta territory', () => {
    const first = delta(['c', 'put'], ['i', 'delete'], ['o', 'put']);
    const second = delta(['a', 'delete'], ['g', 'put'], ['m', 'put']);
    const plan = planBlockReuse(blocks, [first, second]);
    expect(plan.map((s) => [s.firstBlock, s.endBlock])).toEqual([[0, 4]]);
    expect(plan[0]).toMatchObject({ deltaStarts: [0, 0], deltaEnds: [3, 3] });
    const split = planBlockReuse(blocks, [delta(['c', 'put']), delta(['o', 'put'])]);
    expect(split).toEqual([
      { firstBlock: 0, endBlock: 1, deltaStarts: [0, 0], deltaEnds: [1, 0] },
      { firstBlock: 3, endBlock: 4, deltaStarts: [1, 0], deltaEnds: [1, 1] },
    ]);
  });

  it('with no base blocks, one stretch holds every change (none when there is none)', () => {
    expect(planBlockReuse([], [delta(['a', 'put'])])).toEqual([
      { firstBlock: 0, endBlock: 0, deltaStarts: [0], deltaEnds: [1] },
    ]);
    expect(planBlockReuse([], [delta()])).toEqual([]);
  });
});
