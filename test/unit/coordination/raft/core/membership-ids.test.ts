import { applyChange } from '../../../../../src/coordination/raft/core';

/** A node id the wire cannot carry (over 255 bytes) never enters the membership: snapshots carry it. */
it('refuses a node id over 255 bytes of UTF-8, counting bytes, not characters', () => {
  const current = { voters: ['n1'], learners: [] };
  expect(() => applyChange(current, { type: 'addLearner', node: 'é'.repeat(128), address: 'h:1' })).toThrow(
    /at most 255 bytes/,
  );
  expect(
    applyChange(current, { type: 'addLearner', node: 'é'.repeat(127), address: 'h:1' }).learners,
  ).toHaveLength(1);
});
