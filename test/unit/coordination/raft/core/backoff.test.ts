import { Network } from '../../../../support/raft/paper-harness';

/**
 * §5.3's optimisation (and etcd's fast back-off): a follower's rejection says where its log could match
 * (the last entry at or below the probe with a term no higher), the leader skips to its own last entry of
 * that term, and one round trip passes a whole conflicting term, not one entry. The logs are Figure 7's.
 */
const leaderLog = [1, 1, 1, 4, 4, 5, 5, 6, 6, 6];
const figure7: Record<string, number[]> = {
  a: [1, 1, 1, 4, 4, 5, 5, 6, 6],
  b: [1, 1, 1, 4],
  c: [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6],
  d: [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7],
  e: [1, 1, 1, 4, 4, 4, 4],
  f: [1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3],
};

/** The leader of term 8 (n1, elected with n2's vote) brings n3 (a Figure 7 log) in line; rejections counted. */
function rejectionsToMatch(followerLog: number[]): { rejections: number; log: string; leaderLog: string } {
  const net = new Network(
    ['n1', 'n2', 'n3'],
    {},
    {
      n1: { terms: leaderLog, term: 7 },
      n2: { terms: leaderLog, term: 7 },
      n3: { terms: followerLog, term: 7 },
    },
  );
  net.tick('n1', 10);
  net.stabilize((m) => m.from !== 'n3' && m.to !== 'n3');
  expect(net.status('n1')).toMatchObject({ role: 'leader', term: 8 });
  net.drop({ to: 'n3', type: ['preVote', 'vote'] });
  let rejections = 0;
  for (let trip = 0; net.pending.some((m) => m.to === 'n3' && m.type === 'append'); trip++) {
    if (trip > 20) throw new Error('n3 never matched');
    net.deliver({ from: 'n1', to: 'n3' });
    const answers = net.take({ from: 'n3', to: 'n1' });
    rejections += answers.filter((m) => m.reject).length;
    for (const m of answers) net.step(m);
  }
  return { rejections, log: net.log('n3'), leaderLog: net.log('n1') };
}

describe('raft core, §5.3 fast back-off (Figure 7)', () => {
  it('§5.3: a rejected append costs one round trip per conflicting term at most, and then the follower matches the leader', () => {
    const results = Object.fromEntries(
      Object.entries(figure7).map(([name, log]) => [name, rejectionsToMatch(log)]),
    );
    for (const [name, { log, leaderLog: expected }] of Object.entries(results)) {
      expect({ name, log }).toEqual({ name, log: expected });
    }
    // One entry at a time, (f) would take 7 rejections (and the paper's follower-side hint 2: terms 3 and 2).
    expect(Object.fromEntries(Object.entries(results).map(([name, r]) => [name, r.rejections]))).toEqual({
      a: 1,
      b: 1,
      c: 0,
      d: 0,
      e: 1,
      f: 1,
    });
  });
});
