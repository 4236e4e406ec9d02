import { rmSync } from 'node:fs';
import { ensureBuilt } from '../../support/ensure-built';
import { eventually } from '../../support/eventually';
import { ServeCluster, type ServedNode } from '../../support/raft/serve-cluster';

/**
 * Raft across real `tidemark serve` processes on loopback: killed with -9, frozen with SIGSTOP, restarted
 * together, one wiped and rejoined, ten at once. What was acknowledged must survive all of it.
 */
jest.setTimeout(240_000);

let cluster: ServeCluster | undefined;

beforeAll(() => ensureBuilt());

afterEach(async () => {
  await cluster?.dispose();
  cluster = undefined;
});

async function valueOn(c: ServeCluster, id: string, key: string, consistency = 'local'): Promise<unknown> {
  const { status, body } = await c.call(id, 'GET', `/v1/cluster/metadata/${key}?consistency=${consistency}`);
  return status === 200 ? (body as { value: string }).value : status;
}

/** Every acknowledged key, read on `id` once it has caught up. */
async function expectAll(c: ServeCluster, id: string, acked: Map<string, string>): Promise<void> {
  for (const [key, value] of acked) {
    await eventually(`${key} on ${id}`, async () => (await valueOn(c, id, key)) === value, 30_000);
  }
}

describe.each([3, 5])('%i tidemark serve processes', (size) => {
  it('kill -9 of the leader while proposals flow: a new leader, nothing acknowledged lost', async () => {
    const c = (cluster = await ServeCluster.start(size));
    const acked = new Map<string, string>();
    let i = 0;
    const writeSome = async (count: number) => {
      for (const end = i + count; i < end; i++) {
        await c.set(`k${i}`, `v${i}`);
        acked.set(`k${i}`, `v${i}`);
      }
    };
    await writeSome(20);
    const first = await c.leader();
    const firstTerm = (await c.view(first.id))?.term as number;
    // Proposals keep coming while the leader dies: the writer retries through the failover.
    const writing = writeSome(40);
    await first.server.stop('SIGKILL');
    await writing;
    const second = await c.leader();
    expect(second.id).not.toBe(first.id);
    expect((await c.view(second.id))?.term).toBeGreaterThan(firstTerm);
    for (const node of c.running()) await expectAll(c, node.id, acked);
    // The old leader comes back as a follower and catches up.
    await c.startNode(first.id);
    await expectAll(c, first.id, acked);
    expect((await c.view(first.id))?.role).toBe('follower');
  });
});

describe('3 tidemark serve processes', () => {
  it('SIGSTOP of the leader past the election timeout: it steps down on SIGCONT, its late proposal is refused', async () => {
    const c = (cluster = await ServeCluster.start(3));
    await c.set('before', 'stop');
    const old = await c.leader();
    const oldTerm = (await c.view(old.id))?.term as number;
    old.server.pause();
    const others = c.running().filter((n) => n.id !== old.id);
    const fresh = await c.leader(others);
    expect(fresh.id).not.toBe(old.id);
    await c.set('during', 'stop');
    // A proposal to the frozen leader waits in its socket; it is handled when the process runs again.
    const late = c.call(old.id, 'PUT', '/v1/cluster/metadata/late', { value: 'from the old leader' });
    old.server.resume();
    const answer = await late;
    expect(answer.status).toBeGreaterThanOrEqual(400);
    expect((answer.body as { code: string }).code).toMatch(/NOT_LEADER|COORDINATION_UNAVAILABLE/);
    await eventually('the old leader follows', async () => {
      const view = await c.view(old.id);
      return view?.role === 'follower' && view.leader === fresh.id && view.term > oldTerm;
    });
    expect(await valueOn(c, fresh.id, 'late', 'linearizable')).toBe(404);
    await eventually(
      'the old leader applies what was committed without it',
      async () => (await valueOn(c, old.id, 'during')) === 'stop',
    );
  });

  it('every node killed and restarted at once: the cluster comes back with everything acknowledged', async () => {
    const c = (cluster = await ServeCluster.start(3));
    const acked = new Map<string, string>();
    for (let i = 0; i < 80; i++) {
      await c.set(`k${i}`, `v${i}`);
      acked.set(`k${i}`, `v${i}`);
    }
    const ids = [...c.nodes.keys()];
    await Promise.all(ids.map((id) => c.node(id).server.stop('SIGKILL')));
    await Promise.all(ids.map((id) => c.startNode(id)));
    const leader = await c.leader();
    await c.set('after', 'restart');
    for (const id of ids) await expectAll(c, id, acked);
    expect(await valueOn(c, leader.id, 'after', 'linearizable')).toBe('restart');
  });

  it("a node's disk is wiped: removed, added back as a learner, it rejoins by snapshot and is promoted", async () => {
    const c = (cluster = await ServeCluster.start(3));
    const acked = new Map<string, string>();
    for (let i = 0; i < 120; i++) {
      await c.set(`k${i}`, `v${i}`);
      acked.set(`k${i}`, `v${i}`);
    }
    const leader = await c.leader();
    const victim = [...c.nodes.values()].find((n) => n.id !== leader.id) as ServedNode;
    await victim.server.stop('SIGKILL');
    rmSync(victim.dataDir, { recursive: true, force: true });
    expect((await c.call(leader.id, 'DELETE', `/v1/cluster/members/${victim.id}`)).status).toBe(200);
    const added = await c.call(leader.id, 'POST', '/v1/cluster/members', {
      id: victim.id,
      address: victim.raftAddress,
    });
    expect(added.status).toBe(201);
    await c.startNode(victim.id, { TIDEMARK_CLUSTER_JOIN: 'true' });
    await expectAll(c, victim.id, acked);
    expect((await c.view(victim.id))?.snapshotIndex).toBeGreaterThan(0);
    await eventually('promoted', async () => {
      const { status } = await c.call(leader.id, 'POST', `/v1/cluster/members/${victim.id}/promote`);
      return status === 200;
    });
    const view = await c.view(leader.id);
    expect(view?.members.find((m) => m.id === victim.id)?.voter).toBe(true);
    await c.set('rejoined', 'yes');
    await eventually(
      'the rejoined voter applies new entries',
      async () => (await valueOn(c, victim.id, 'rejoined')) === 'yes',
    );
  });

  it('bad input: a follower answers a proposal with NOT_LEADER naming the leader; membership requests that conflict are refused', async () => {
    const c = (cluster = await ServeCluster.start(3));
    await c.set('k', 'v');
    const leader = await c.leader();
    const follower = c.running().find((n) => n.id !== leader.id) as ServedNode;
    const refused = await c.call(follower.id, 'PUT', '/v1/cluster/metadata/x', { value: 'y' });
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({
      code: 'NOT_LEADER',
      details: { leader: leader.id, leaderAddress: leader.raftAddress },
    });
    const duplicate = await c.call(leader.id, 'POST', '/v1/cluster/members', {
      id: follower.id,
      address: '127.0.0.1:1',
    });
    expect(duplicate.status).toBe(400);
    expect((duplicate.body as { detail?: string; message?: string; title?: string }).title ?? '').not.toBe(
      '',
    );
    const unknown = await c.call(leader.id, 'DELETE', '/v1/cluster/members/n9');
    expect(unknown.status).toBe(400);
    const view = await c.view(leader.id);
    expect(view?.members.map((m) => m.id).sort()).toEqual(['n1', 'n2', 'n3']);
    expect(await valueOn(c, leader.id, 'x', 'linearizable')).toBe(404);
  });
});

describe('10 tidemark serve processes', () => {
  it('form one cluster: one leader, every member reachable, a proposal applied everywhere', async () => {
    const c = (cluster = await ServeCluster.start(10));
    const leader = await c.leader();
    await c.set('ten', 'nodes');
    await eventually('every member reachable from the leader', async () => {
      const view = await c.view(leader.id);
      return view?.members.length === 10 && view.members.every((m) => m.voter && m.reachable);
    });
    for (const node of c.nodes.values()) {
      await eventually(`applied on ${node.id}`, async () => (await valueOn(c, node.id, 'ten')) === 'nodes');
    }
  });
});
