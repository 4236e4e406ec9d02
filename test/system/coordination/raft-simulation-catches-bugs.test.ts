import { Raft } from '../../../src/coordination/raft/core';
import { Violation } from '../../support/raft/sim-checker';
import { Simulation, type SimulationOptions } from '../../support/raft/simulation';

/**
 * The checker can fail: each test breaks one rule of Raft on purpose (by replacing one method of the core
 * for its duration) and expects a seed of the simulation to catch it, with the property it broke.
 */
type Method = (this: Internals, ...args: never[]) => unknown;
interface Internals {
  id: string;
  vote: string;
  log: { membership(): { voters: string[] }; committed: number; commitTo(index: number): void };
  progress: Map<string, { match: number }>;
  send(message: object): void;
  afterCommit(): void;
}
const prototype = Raft.prototype as unknown as Record<string, Method>;

function withBrokenRule<T>(method: string, replacement: Method, run: () => T): T {
  const original = prototype[method] as Method;
  prototype[method] = replacement;
  try {
    return run();
  } finally {
    prototype[method] = original;
  }
}

/** The first seed (of `seeds`) whose run breaks a property, and the property's message. */
function firstViolation(seeds: number, options: Omit<SimulationOptions, 'seed'>): string | undefined {
  for (let seed = 1; seed <= seeds; seed++) {
    try {
      new Simulation({ seed, ...options }).run();
    } catch (error) {
      if (error instanceof Violation) return error.message.split('\n')[0];
      throw error;
    }
  }
  return undefined;
}

describe('raft simulation: a broken rule is caught', () => {
  it('a node that grants every vote request (two votes in a term)', () => {
    const caught = withBrokenRule(
      'handleVoteRequest',
      function (this: Internals, m: { type: string; from: string; term: number }) {
        const pre = m.type === 'preVote';
        if (!pre) this.vote = m.from;
        this.send({
          ...m,
          type: pre ? 'preVoteResponse' : 'voteResponse',
          from: this.id,
          to: m.from,
          reject: false,
        });
      } as Method,
      () => firstViolation(200, { nodes: 3, steps: 600, faults: true }),
    );
    expect(caught).toMatch(/voted twice|two leaders/);
  });

  it("a leader that commits an earlier term's entry by counting replicas (Figure 8)", () => {
    const caught = withBrokenRule(
      'maybeCommit',
      function (this: Internals) {
        const matches = this.log
          .membership()
          .voters.map((id) => this.progress.get(id)?.match ?? 0)
          .sort((a, b) => b - a);
        const index = matches[Math.floor(matches.length / 2)] as number;
        if (index <= this.log.committed) return false;
        this.log.commitTo(index); // the term check that Figure 8 needs is missing
        this.afterCommit();
        return true;
      },
      () => firstViolation(2000, { nodes: 3, steps: 600, faults: true, intensity: 5 }),
    );
    expect(caught).toMatch(/leader completeness|committed|applied/);
  });
});
