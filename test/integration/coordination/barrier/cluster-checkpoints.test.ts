import { failing } from '../../../../src/coordination/barrier/checkpoint-policy';
import { TidemarkError } from '../../../../src/lib/errors';
import { eventually } from '../../../support/eventually';
import { BarrierCluster } from '../../../support/raft/barrier-cluster';

/**
 * Cluster checkpoints on three Raft nodes over real HTTP, after Flink's CheckpointCoordinator tests: every
 * member cuts and acknowledges through the leader, the last ack commits; a decline, a timeout or a lost
 * member aborts; late acks change nothing; max concurrent, the minimum pause and tolerable failures hold;
 * a leader lost between begin and commit does not lose the checkpoint.
 */
let cluster: BarrierCluster | undefined;

afterEach(async () => {
  await cluster?.dispose();
  cluster = undefined;
});

const refusal = async (work: Promise<unknown>): Promise<TidemarkError> => {
  try {
    await work;
  } catch (error) {
    if (TidemarkError.is(error)) return error;
    throw error;
  }
  throw new Error('expected a refusal');
};

describe('cluster checkpoints on three nodes', () => {
  it('every member cuts and acknowledges through the leader; then it commits, and every member records it', async () => {
    cluster = await BarrierCluster.start(3);
    for (const m of cluster.members.values()) m.local.lsn = Number(m.id.slice(1)) * 10;
    const begun = await cluster.trigger();
    expect(begun).toMatchObject({ id: 1, state: 'pending', members: ['n1', 'n2', 'n3'] });
    const ended = await cluster.ended(1);
    expect(ended.state).toBe('committed');
    expect(ended.endedInTerm).toBeGreaterThanOrEqual(ended.beganInTerm);
    for (const node of ['n1', 'n2', 'n3']) {
      expect(ended.acks[node]).toMatchObject({
        checkpointId: 1,
        barrierLsn: Number(node.slice(1)) * 10,
        manifestKey: `${node}/checkpoints/1/manifest.json`,
      });
    }
    await eventually('every member recorded it', () =>
      [...cluster!.members.values()].every((m) => m.local.recorded.some((c) => c.id === 1)),
    );
    // The leader took the cluster's jobs for its term.
    const leader = await cluster.leader();
    expect(leader.state.checkpoints.jobs).toEqual({ node: leader.id, term: leader.node!.status().term });
  });

  it('a decline aborts it, with the reason; the failure is counted; the next one commits and resets the count', async () => {
    cluster = await BarrierCluster.start(3, { tolerableFailures: 0 });
    cluster.member('n2').local.behaviour = { kind: 'fail', reason: 'disk full' };
    const { id } = await cluster.trigger();
    const aborted = await cluster.ended(id);
    expect(aborted).toMatchObject({ state: 'aborted', reason: 'declined by n2: disk full' });
    const leader = await cluster.leader();
    expect(leader.state.checkpoints.consecutiveFailures).toBe(1);
    expect(failing(leader.state.checkpoints, cluster.settings)).toBe(true);
    cluster.member('n2').local.behaviour = { kind: 'cut' };
    const next = await cluster.trigger();
    expect(next.id).toBe(id + 1);
    expect((await cluster.ended(next.id)).state).toBe('committed');
    expect((await cluster.leader()).state.checkpoints.consecutiveFailures).toBe(0);
  });

  it('a timeout aborts it; the late ack that follows is ignored, and says why', async () => {
    cluster = await BarrierCluster.start(3, { timeoutMs: 400 });
    const slow = cluster.member('n3');
    slow.local.behaviour = { kind: 'hang' };
    const { id } = await cluster.trigger();
    const aborted = await cluster.ended(id);
    expect(aborted.state).toBe('aborted');
    expect(aborted.reason).toMatch(/^timed out after 400 ms waiting for n3/);
    slow.local.behaviour = { kind: 'cut' };
    slow.local.release();
    // The cut finishes after the end: the participant sees N ended and sends nothing; an ack proposed
    // anyway (a race with the abort) is refused by the record.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(slow.local.cuts).toHaveLength(1);
    expect(aborted.acks.n3).toBeUndefined();
    const leader = await cluster.leader();
    const late = await leader.node!.propose(
      Buffer.concat([
        Buffer.from('C'),
        Buffer.from(
          JSON.stringify({
            type: 'ack',
            id,
            node: 'n3',
            checkpointId: 1,
            barrierLsn: 0,
            manifestKey: 'n3/checkpoints/1/manifest.json',
            ackedAt: Date.now(),
          }),
        ),
      ]),
    );
    expect(late.result).toEqual({ applied: false, why: `${id} is aborted: a late ack` });
    expect(leader.state.checkpoints.get(id)?.acks.n3).toBeUndefined();
  });

  it('max concurrent and the minimum pause refuse a trigger, saying why', async () => {
    cluster = await BarrierCluster.start(3, { maxConcurrent: 1, minPauseMs: 60_000 });
    cluster.member('n3').local.behaviour = { kind: 'hang' };
    const first = await cluster.trigger();
    const busy = await refusal(cluster.trigger());
    expect(busy.code).toBe('PRECONDITION_FAILED');
    expect(busy.message).toMatch(/1 cluster checkpoint\(s\) in flight, at most 1 \(maxConcurrent\)/);
    cluster.member('n3').local.behaviour = { kind: 'cut' };
    cluster.member('n3').local.release();
    expect((await cluster.ended(first.id)).state).toBe('committed');
    const paused = await refusal(cluster.trigger());
    expect(paused.code).toBe('PRECONDITION_FAILED');
    expect(paused.message).toMatch(/minimum pause of 60000 ms/);
  });

  it('a follower refuses to trigger, naming the leader', async () => {
    cluster = await BarrierCluster.start(3);
    const leader = await cluster.leader();
    const follower = cluster.running().find((m) => m.id !== leader.id)!;
    await eventually('the follower knows its leader', () => follower.node!.status().leader === leader.id);
    const error = await refusal(follower.coordinator!.trigger());
    expect(error.code).toBe('NOT_LEADER');
    expect(error.details).toMatchObject({ leader: leader.id, leaderAddress: leader.address });
  });

  it('a member stopped mid-checkpoint aborts it (lost member); the cluster begins none while it is out of reach', async () => {
    cluster = await BarrierCluster.start(3);
    const leader = await cluster.leader();
    const victim = cluster.running().find((m) => m.id !== leader.id)!;
    victim.local.behaviour = { kind: 'hang' };
    const { id } = await cluster.trigger();
    await cluster.stop(victim.id);
    const aborted = await cluster.ended(id);
    expect(aborted.state).toBe('aborted');
    expect(aborted.reason).toBe(`lost ${victim.id}`);
    const refused = await refusal(cluster.trigger());
    expect(refused.message).toMatch(new RegExp(`unreachable: ${victim.id}`));
  });

  it('the leader lost between begin and commit: the new leader commits it once the acks reach it, and ids keep rising', async () => {
    cluster = await BarrierCluster.start(3);
    const first = await cluster.leader();
    for (const m of cluster.members.values()) if (m.id !== first.id) m.local.behaviour = { kind: 'hang' };
    const { id } = await cluster.trigger();
    await eventually('every member applied the begin', () =>
      cluster!.running().every((m) => m.state.checkpoints.get(id) !== undefined),
    );
    await cluster.stop(first.id);
    for (const m of cluster.running()) {
      m.local.behaviour = { kind: 'cut' };
      m.local.release();
    }
    await cluster.open(first.id);
    const ended = await cluster.ended(id);
    expect(ended.state).toBe('committed');
    expect(ended.endedInTerm).toBeGreaterThan(ended.beganInTerm);
    const next = await cluster.trigger();
    expect(next.id).toBeGreaterThan(id);
    expect((await cluster.ended(next.id)).state).toBe('committed');
  });

  it('with an interval, checkpoints begin on their own and commit one after another', async () => {
    cluster = await BarrierCluster.start(3, { intervalMs: 100 });
    await eventually('three committed', async () => {
      const leader = await cluster!.leader();
      return leader.state.checkpoints.lastCommittedId >= 3;
    });
    const leader = await cluster.leader();
    // Begun by the policy alone, one after another, never closer than the interval (on the leader's clock).
    const begun = leader.state.checkpoints.list().reverse();
    expect(begun.slice(0, 3).map((c) => c.state)).toEqual(['committed', 'committed', 'committed']);
    for (let i = 1; i < begun.length; i++) {
      if (begun[i]!.beganInTerm !== begun[i - 1]!.beganInTerm) continue; // a new leader starts its own count
      expect(begun[i]!.beganAt - begun[i - 1]!.beganAt).toBeGreaterThanOrEqual(100);
    }
  });
});
