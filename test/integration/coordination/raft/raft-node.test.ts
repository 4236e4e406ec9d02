import { encodeMetadataCommand, MetadataRecord } from '../../../../src/coordination/cluster/metadata-record';
import type { RaftLogStore, RaftLogUpdate } from '../../../../src/coordination/raft/log-store/raft-log-store';
import { MemoryRaftLogStore } from '../../../../src/coordination/raft/log-store/memory-raft-log-store';
import { RaftNode } from '../../../../src/coordination/raft/raft-node';
import { TidemarkError } from '../../../../src/lib/errors';
import { eventually } from '../../../support/eventually';
import { RaftNodeCluster } from '../../../support/raft/raft-node-cluster';

let cluster: RaftNodeCluster;

afterEach(() => cluster?.dispose());

const valueOn = (id: string, key: string) => cluster.members.get(id)?.record.get(key)?.value;

describe('RaftNode: the driver over real HTTP and real log stores', () => {
  it('elects one leader; a proposal commits and is applied on every node', async () => {
    cluster = await RaftNodeCluster.start(3);
    const index = await cluster.set('colour', 'blue');
    expect(index).toBeGreaterThan(0);
    await eventually('every node applied it', () =>
      ['n1', 'n2', 'n3'].every((id) => valueOn(id, 'colour') === 'blue'),
    );
    const leader = await cluster.leader();
    const status = (leader.node as RaftNode).status();
    expect(status.members.map((m) => m.id).sort()).toEqual(['n1', 'n2', 'n3']);
    expect(status.commitIndex).toBeGreaterThanOrEqual(index);
  });

  it('a follower refuses a proposal with NOT_LEADER naming the leader and its address', async () => {
    cluster = await RaftNodeCluster.start(3);
    const leader = await cluster.leader();
    await cluster.set('k', 'v');
    const follower = [...cluster.members.values()].find((m) => m.id !== leader.id);
    const refusal = await (follower?.node as RaftNode)
      .propose(encodeMetadataCommand({ op: 'set', key: 'x', value: 'y' }))
      .catch((error: unknown) => error);
    expect(TidemarkError.is(refusal, 'NOT_LEADER')).toBe(true);
    expect((refusal as TidemarkError).details).toEqual({ leader: leader.id, leaderAddress: leader.address });
  });

  it('the leader stops: another is elected, nothing committed is lost; the old one rejoins as follower', async () => {
    cluster = await RaftNodeCluster.start(3);
    for (let i = 0; i < 20; i++) await cluster.set(`k${i}`, `v${i}`);
    const first = await cluster.leader();
    await cluster.stop(first.id);
    const second = await cluster.leader();
    expect(second.id).not.toBe(first.id);
    await cluster.set('after', 'failover');
    await cluster.open(first.id, cluster.initialMap());
    await eventually('the old leader caught up', () => valueOn(first.id, 'after') === 'failover');
    for (let i = 0; i < 20; i++) expect(valueOn(first.id, `k${i}`)).toBe(`v${i}`);
    expect((cluster.members.get(first.id)?.node as RaftNode).status().role).toBe('follower');
  });

  it('every node restarts at once: the committed state comes back from the log stores and snapshots', async () => {
    cluster = await RaftNodeCluster.start(3);
    for (let i = 0; i < 120; i++) await cluster.set(`k${i}`, `v${i}`);
    const ids = [...cluster.members.keys()];
    await Promise.all(ids.map((id) => cluster.stop(id)));
    await Promise.all(ids.map((id) => cluster.open(id, cluster.initialMap())));
    await cluster.set('again', 'yes');
    await eventually('all applied', () => ids.every((id) => valueOn(id, 'again') === 'yes'));
    for (const id of ids) for (let i = 0; i < 120; i++) expect(valueOn(id, `k${i}`)).toBe(`v${i}`);
    const snapshots = ids.map((id) => (cluster.members.get(id)?.node as RaftNode).status().snapshotIndex);
    expect(Math.min(...snapshots)).toBeGreaterThan(0);
  });

  it('a linearizable read on the leader sees every write before it; a follower refuses it', async () => {
    cluster = await RaftNodeCluster.start(3);
    await cluster.set('a', '1');
    const leader = await cluster.leader();
    await (leader.node as RaftNode).readBarrier();
    expect(leader.record.get('a')?.value).toBe('1');
    const follower = [...cluster.members.values()].find((m) => m.id !== leader.id);
    await expect((follower?.node as RaftNode).readBarrier()).rejects.toMatchObject({ code: 'NOT_LEADER' });
  });

  it('adds a node as a learner, catches it up by snapshot, promotes it, removes another', async () => {
    cluster = await RaftNodeCluster.start(3);
    for (let i = 0; i < 120; i++) await cluster.set(`k${i}`, `v${i}`);
    const leader = await cluster.leader();
    const newcomer = await cluster.addMember('n4');
    await (leader.node as RaftNode).addLearner('n4', newcomer.address);
    await cluster.open('n4', cluster.initialMap(), true);
    await eventually('n4 caught up', () => valueOn('n4', 'k119') === 'v119');
    expect((newcomer.node as RaftNode).status().snapshotIndex).toBeGreaterThan(0);
    await eventually('n4 promoted', async () => {
      try {
        await (leader.node as RaftNode).promote('n4');
        return true;
      } catch (error) {
        if (TidemarkError.is(error, 'PRECONDITION_FAILED')) return false; // not caught up yet
        throw error;
      }
    });
    const victim = [...cluster.members.values()].find((m) => m.id !== leader.id && m.id !== 'n4') as {
      id: string;
    };
    await (leader.node as RaftNode).removeMember(victim.id);
    const voters = (leader.node as RaftNode)
      .status()
      .members.filter((m) => m.voter)
      .map((m) => m.id);
    expect(voters.sort()).toEqual(
      [leader.id, 'n4']
        .concat(['n1', 'n2', 'n3'].filter((id) => id !== leader.id && id !== victim.id))
        .sort(),
    );
    await cluster.set('with-n4', 'yes');
    await eventually('n4 applies as a voter', () => valueOn('n4', 'with-n4') === 'yes');
  });

  it('leadership transfer hands over to the named voter', async () => {
    cluster = await RaftNodeCluster.start(3);
    await cluster.set('k', 'v');
    const leader = await cluster.leader();
    const target = [...cluster.members.values()].find((m) => m.id !== leader.id) as { id: string };
    (leader.node as RaftNode).transferLeadership(target.id);
    await eventually(
      'the target leads',
      () => cluster.members.get(target.id)?.node?.status().role === 'leader',
    );
  });

  it('without a majority a proposal fails COORDINATION_UNAVAILABLE in time, and the leader steps down', async () => {
    cluster = await RaftNodeCluster.start(3);
    await cluster.set('k', 'v');
    const leader = await cluster.leader();
    for (const id of cluster.members.keys()) if (id !== leader.id) await cluster.stop(id);
    const outcome = await (leader.node as RaftNode)
      .propose(encodeMetadataCommand({ op: 'set', key: 'lonely', value: 'x' }))
      .then(
        () => 'committed',
        (error: unknown) => (error as TidemarkError).code,
      );
    expect(outcome).toBe('COORDINATION_UNAVAILABLE');
    expect((leader.node as RaftNode).status().role).not.toBe('leader');
    expect(leader.record.get('lonely')).toBeUndefined();
  });

  it('after close a proposal and a membership change fail CLOSED at once; close waits for the one close', async () => {
    cluster = await RaftNodeCluster.start(3);
    const leader = await cluster.leader();
    const node = leader.node as RaftNode;
    await Promise.all([node.close(), node.close()]);
    await expect(
      node.propose(encodeMetadataCommand({ op: 'set', key: 'k', value: 'v' })),
    ).rejects.toMatchObject({
      code: 'CLOSED',
    });
    await expect(node.addLearner('n9', '127.0.0.1:1')).rejects.toMatchObject({ code: 'CLOSED' });
    expect(() => node.transferLeadership('n2')).toThrow(expect.objectContaining({ code: 'CLOSED' }));
    leader.node = undefined;
  });

  it('a one-member cluster elects itself and commits alone (embedded mode)', async () => {
    cluster = await RaftNodeCluster.start(1);
    await cluster.set('solo', 'yes');
    expect(valueOn('n1', 'solo')).toBe('yes');
  });
});

describe('RaftNode: what it writes', () => {
  it('a commit index alone is not written (no wait on the disk); it goes with the next save, and at close', async () => {
    const disk = new MemoryRaftLogStore();
    const saves: RaftLogUpdate[] = [];
    const store: RaftLogStore = {
      load: () => disk.load(),
      save: (update) => {
        saves.push(update);
        return disk.save(update);
      },
      compact: (snapshot) => disk.compact(snapshot),
      close: () => disk.close(),
    };
    const node = await RaftNode.open({
      id: 'n1',
      initialMembers: new Map([['n1', '127.0.0.1:1']]),
      electionTimeoutMs: 200,
      heartbeatIntervalMs: 50,
      partitionToleranceMs: 1_000,
      store,
      stateMachine: new MetadataRecord(),
    });
    await node.start();
    for (let i = 0; i < 5; i++)
      await node.propose(encodeMetadataCommand({ op: 'set', key: `k${i}`, value: 'v' }));
    // Every save holds entries, or a term or vote: none is there for a commit index alone.
    const commitOnly = saves.filter((s, i) => {
      const before = saves
        .slice(0, i)
        .reverse()
        .find((p) => p.hardState !== undefined)?.hardState;
      return (
        s.entries.length === 0 && s.hardState?.term === before?.term && s.hardState?.vote === before?.vote
      );
    });
    expect(commitOnly).toEqual([]);
    const { commitIndex, lastIndex } = node.status();
    expect(commitIndex).toBe(lastIndex);
    const held = () => saves.filter((s) => s.hardState !== undefined).at(-1)?.hardState?.commit;
    expect(held()).toBeLessThan(commitIndex);
    await node.close();
    // A clean stop writes the commit index it knew, so a restart applies that far at once.
    expect(held()).toBe(commitIndex);
    expect((await disk.crash().load()).hardState.commit).toBe(commitIndex);
  });
});
