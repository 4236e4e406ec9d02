import { decide } from '../../../src/coordination/barrier/checkpoint-policy';
import {
  ClusterCheckpointRecord,
  type ClusterCheckpoint,
  type ClusterCheckpointCommand,
  type CommandOutcome,
} from '../../../src/coordination/barrier/cluster-checkpoint-record';
import { BarrierSimulation, type BarrierSimulationOptions } from '../../support/raft/barrier-simulation';
import { Violation } from '../../support/raft/sim-checker';

/**
 * The barrier checker can fail: each test breaks one rule on purpose — in the leader's policy, the record
 * (one method replaced for the test's duration) or a node — and expects a seed of the simulation to catch
 * it, with the invariant it broke.
 */
type Method = (this: never, ...args: never[]) => unknown;
interface RecordInternals {
  get(id: number): ClusterCheckpoint | undefined;
  finish(
    checkpoint: ClusterCheckpoint,
    state: 'committed',
    term: number,
    at: number,
    reason: undefined,
  ): void;
  lastId: number;
}

function withReplaced<T>(prototype: object, method: string, replacement: Method, run: () => T): T {
  const methods = prototype as Record<string, Method>;
  const original = methods[method] as Method;
  methods[method] = replacement;
  try {
    return run();
  } finally {
    methods[method] = original;
  }
}

const faults: Omit<BarrierSimulationOptions, 'seed'> = { nodes: 3, steps: 800, faults: true };

/** The first violation's message in `seeds` seeds, undefined if none. */
function firstViolation(seeds: number, options: Omit<BarrierSimulationOptions, 'seed'>): string | undefined {
  for (let seed = 1; seed <= seeds; seed++) {
    try {
      new BarrierSimulation({ seed, ...options }).run();
    } catch (error) {
      if (error instanceof Violation) return error.message.split('\n')[0];
      throw error;
    }
  }
  return undefined;
}

describe('barrier simulation: a broken rule is caught', () => {
  it('a leader that commits with one ack missing, and a record that takes its word for it', () => {
    const commitEarly: typeof decide = (record, settings, view) => {
      const commands = decide(record, settings, view);
      for (const c of record.pendingCheckpoints()) {
        const missing = c.members.filter((node) => !Object.hasOwn(c.acks, node));
        if (missing.length === 1) commands.unshift({ type: 'commit', id: c.id, at: view.now });
      }
      return commands;
    };
    const apply = ClusterCheckpointRecord.prototype.apply;
    const caught = withReplaced(
      ClusterCheckpointRecord.prototype,
      'apply',
      function (this: RecordInternals, command: ClusterCheckpointCommand, term: number): CommandOutcome {
        const pending = 'id' in command ? this.get(command.id) : undefined;
        if (command.type !== 'commit' || pending?.state !== 'pending') {
          return apply.call(this as unknown as ClusterCheckpointRecord, command, term);
        }
        this.finish(pending, 'committed', term, command.at, undefined); // no look at the acks
        return { applied: true };
      } as Method,
      () => firstViolation(100, { ...faults, policy: commitEarly }),
    );
    expect(caught).toMatch(/invariant 1/);
  });

  it('a record that takes a late ack', () => {
    const caught = withReplaced(
      ClusterCheckpointRecord.prototype,
      'ack',
      function (
        this: RecordInternals,
        command: Extract<ClusterCheckpointCommand, { type: 'ack' }>,
        term: number,
      ): CommandOutcome {
        const checkpoint = this.get(command.id);
        if (checkpoint === undefined || !checkpoint.members.includes(command.node)) {
          return { applied: false, why: 'not a member' };
        }
        if (Object.hasOwn(checkpoint.acks, command.node)) return { applied: false, why: 'again' };
        const { checkpointId, barrierLsn, manifestKey, ackedAt } = command;
        checkpoint.acks[command.node] = { checkpointId, barrierLsn, manifestKey, ackedAt }; // ended or not
        const complete = checkpoint.members.every((node) => Object.hasOwn(checkpoint.acks, node));
        if (!complete || checkpoint.state !== 'pending') return { applied: true };
        this.finish(checkpoint, 'committed', term, ackedAt, undefined);
        return { applied: true, ended: 'committed' };
      } as Method,
      () => firstViolation(100, faults),
    );
    expect(caught).toMatch(/invariant 6/);
  });

  it('a leader that numbers from the last committed id (reusing aborted ones), and a record that lets it', () => {
    const reuseIds: typeof decide = (record, settings, view) =>
      decide(record, settings, view).map((c) =>
        c.type === 'begin' ? { ...c, id: record.lastCommittedId + 1 } : c,
      );
    const begin = (ClusterCheckpointRecord.prototype as unknown as Record<string, Method>)['begin'] as Method;
    const caught = withReplaced(
      ClusterCheckpointRecord.prototype,
      'begin',
      function (this: RecordInternals, command: { id: number }, term: number) {
        const lastId = this.lastId;
        this.lastId = Math.min(lastId, command.id - 1); // the guard against reused ids is gone
        const outcome = (begin as (this: unknown, c: unknown, t: number) => CommandOutcome).call(
          this,
          command,
          term,
        );
        if (!outcome.applied) this.lastId = lastId;
        return outcome;
      } as Method,
      () => firstViolation(100, { ...faults, policy: reuseIds }),
    );
    expect(caught).toMatch(/invariant 3/);
  });

  it('a node that acknowledges an LSN its checkpoint does not cover', () => {
    const take = (BarrierSimulation.prototype as unknown as Record<string, Method>)[
      'takeCheckpoint'
    ] as Method;
    const caught = withReplaced(
      BarrierSimulation.prototype,
      'takeCheckpoint',
      function (this: unknown, id: string, n: number) {
        const ack = (take as (this: unknown, id: string, n: number) => { barrierLsn: number }).call(
          this,
          id,
          n,
        );
        return id === 'n2' ? { ...ack, barrierLsn: ack.barrierLsn + 1 } : ack;
      } as Method,
      () => firstViolation(20, { nodes: 3, steps: 400 }),
    );
    expect(caught).toMatch(/invariant 5/);
  });
});
