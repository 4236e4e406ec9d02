import type { NestExpressApplication } from '@nestjs/platform-express';
import { Command, CommanderError } from 'commander';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import request from 'supertest';
import { registerRecover } from '../../../../src/cli/recover.command';
import { loadConfig } from '../../../../src/config';
import { readStateDirectory } from '../../../../src/recovery/output/directory-writer';
import { createApp } from '../../../../src/server/create-app';
import { freePort } from '../../../support/child-server';
import { eventually } from '../../../support/eventually';

/**
 * The whole service, twice in one process: two nodes (each its own data directory and key prefix in one
 * shared local store) form a Raft cluster; a cluster checkpoint triggered over REST commits with both nodes'
 * cuts, each node writes its marker, the node checkpoints it names are pinned, and the restore point
 * restores each node's components — over REST on each node, and with `tidemark recover --cluster-checkpoint`
 * for both at once — to exactly what each node had appended before the barrier.
 */
const b64 = (text: string) => Buffer.from(text).toString('base64');
let root: string;
const apps = new Map<string, NestExpressApplication>();
const envs = new Map<string, Record<string, string>>();

beforeAll(async () => {
  root = mkdtempSync(path.join(tmpdir(), 'tidemark-restore-point-'));
  const endpoints = `n1=127.0.0.1:${await freePort()},n2=127.0.0.1:${await freePort()}`;
  for (const id of ['n1', 'n2']) {
    const env = {
      DATA_DIR: path.join(root, id),
      TIDEMARK_NODE_ID: id,
      TIDEMARK_STORAGE_PATH: path.join(root, 'shared-store'),
      TIDEMARK_STORAGE_PREFIX: `cluster/${id}`,
      TIDEMARK_CLUSTER_ENDPOINTS: endpoints,
      TIDEMARK_CLUSTER_SECRET: 'a-cluster-secret-of-test',
      TIDEMARK_ELECTION_TIMEOUT_MS: '300',
      TIDEMARK_HEARTBEAT_INTERVAL_MS: '50',
      TIDEMARK_CLUSTER_CHECKPOINT_INTERVAL_MS: '0',
      TIDEMARK_CHECKPOINT_INTERVAL_MS: '0',
      LOG_LEVEL: 'silent',
    };
    envs.set(id, env);
  }
  await Promise.all(
    ['n1', 'n2'].map(async (id) => {
      const app = await createApp(loadConfig({ env: envs.get(id)! }));
      await app.init();
      apps.set(id, app);
    }),
  );
});

afterAll(async () => {
  for (const app of apps.values()) await app.close();
  rmSync(root, { recursive: true, force: true });
});

const server = (id: string) => apps.get(id)!.getHttpServer();

async function append(id: string, values: Record<string, string>): Promise<void> {
  const entries = Object.entries(values).map(([key, value], i) => ({
    componentId: `window_${id}`,
    sequence: Date.now() * 10 + i,
    changes: [{ op: 'put', key: b64(key), value: b64(value) }],
  }));
  await request(server(id)).post('/v1/wal/entries').send({ entries }).expect(201);
}

async function leader(): Promise<string> {
  let found = '';
  await eventually('a leader both nodes know', async () => {
    const views = await Promise.all(['n1', 'n2'].map((id) => request(server(id)).get('/v1/cluster')));
    const leaders = new Set(views.map((v) => v.body.leader as string));
    found = [...leaders][0] ?? '';
    return leaders.size === 1 && found !== '' && views.every((v) => v.body.partitioned === false);
  });
  return found;
}

async function cli(args: string[]): Promise<{ code: number | undefined; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  let code: number | undefined;
  const program = new Command('tidemark').exitOverride();
  program.configureOutput({ writeOut: (t) => out.push(t), writeErr: (t) => err.push(t) });
  registerRecover(program, {
    stdout: (t) => out.push(t),
    stderr: (t) => err.push(t),
    progressStream: Object.assign(new PassThrough(), { isTTY: false }),
    exit: (c) => {
      code ??= c;
    },
    env: envs.get('n1')!,
  });
  try {
    await program.parseAsync(['recover', ...args], { from: 'user' });
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
  }
  return { code, stdout: out.join(''), stderr: err.join('') };
}

describe('a committed cluster checkpoint is a restore point for the whole cluster', () => {
  let id = 0;

  it('commits over REST with both nodes cut, and each node records it under its own prefix', async () => {
    await append('n1', { a: 'n1-a1', b: 'n1-b1' });
    await append('n2', { a: 'n2-a1' });
    const lead = await leader();
    const follower = lead === 'n1' ? 'n2' : 'n1';
    const refused = await request(server(follower)).post('/v1/cluster/checkpoints').expect(409);
    expect(refused.body.code).toBe('NOT_LEADER');
    const begun = await request(server(lead)).post('/v1/cluster/checkpoints').expect(202);
    id = begun.body.id as number;
    expect(begun.body).toMatchObject({ state: 'pending', members: ['n1', 'n2'] });
    await eventually('committed on both', async () => {
      const views = await Promise.all(
        ['n1', 'n2'].map((n) => request(server(n)).get(`/v1/cluster/checkpoints/${id}`)),
      );
      return views.every((v) => v.body.state === 'committed');
    });
    const view = (await request(server(follower)).get(`/v1/cluster/checkpoints/${id}`).expect(200)).body;
    expect(Object.keys(view.acks).sort()).toEqual(['n1', 'n2']);
    expect(view.acks.n2.manifestKey).toMatch(/^cluster\/n2\/checkpoints\/\d{20}\/manifest\.json$/);
    const list = (await request(server(lead)).get('/v1/cluster/checkpoints').expect(200)).body;
    expect(list).toMatchObject({ lastCommittedId: id, consecutiveFailures: 0, failing: false });
    for (const node of ['n1', 'n2']) {
      const marker = path.join(
        root,
        'shared-store',
        'cluster',
        node,
        'cluster-checkpoints',
        `${String(id).padStart(20, '0')}.json`,
      );
      await eventually(`${node} wrote its marker`, () => existsSync(marker));
      expect(JSON.parse(readFileSync(marker, 'utf8'))).toMatchObject({
        format: 'tidemark.cluster-checkpoint.v1',
        id,
        committedInTerm: view.endedInTerm,
        members: ['n1', 'n2'],
      });
    }
    // After the barrier: not part of the restore point.
    await append('n1', { a: 'n1-a2', c: 'after' });
    await append('n2', { z: 'after' });
  });

  it("pins each node's checkpoint: deleting it is refused while the cluster checkpoint is retained", async () => {
    const view = (await request(server('n1')).get(`/v1/cluster/checkpoints/${id}`).expect(200)).body;
    // A newer checkpoint first: the newest restorable one is refused for another reason.
    await request(server('n1')).post('/v1/checkpoints').expect(201);
    const refused = await request(server('n1')).delete(`/v1/checkpoints/${view.acks.n1.checkpointId}`);
    expect(refused.status).toBe(409);
    expect(refused.body.detail ?? refused.body.message).toMatch(/pinned by cluster checkpoints/);
  });

  it('restores each node over REST ({target: {clusterCheckpointId}}) to its state at the barrier', async () => {
    for (const [node, expected] of [
      ['n1', { a: 'n1-a1', b: 'n1-b1' }],
      ['n2', { a: 'n2-a1' }],
    ] as const) {
      const res = await request(server(node))
        .post('/v1/recovery')
        .send({ target: { clusterCheckpointId: id } })
        .expect(200);
      const lines = (res.text as string)
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as Record<string, unknown>);
      const state = Object.fromEntries(
        lines
          .filter((l) => l.type === 'entry' || (l.key !== undefined && l.value !== undefined))
          .map((l) => [
            Buffer.from(l.key as string, 'base64').toString(),
            Buffer.from(l.value as string, 'base64').toString(),
          ]),
      );
      expect(state).toEqual(expected);
    }
    const unknown = await request(server('n1'))
      .post('/v1/recovery')
      .send({ target: { clusterCheckpointId: id + 50 } });
    expect(unknown.status).toBe(404);
  });

  it('`tidemark recover --cluster-checkpoint N` restores both nodes into <out>/<node>, each at its barrier LSN', async () => {
    const out = path.join(root, 'restored');
    const run = await cli(['--cluster-checkpoint', String(id), '--out', out, '--no-progress']);
    // n1's WAL is open by its running node: the CLI reads the store alone, and says so.
    expect(run.stderr).not.toMatch(/tidemark: [A-Z_]+:/);
    expect(run.code).toBe(0);
    for (const [node, expected] of [
      ['n1', { a: 'n1-a1', b: 'n1-b1' }],
      ['n2', { a: 'n2-a1' }],
    ] as const) {
      const { components } = await readStateDirectory(path.join(out, node));
      const state = components.get(`window_${node}`)!;
      const entries = Object.fromEntries(
        state.records.map((r) => [Buffer.from(r.key).toString(), Buffer.from(r.value).toString()]),
      );
      expect(entries).toEqual(expected);
    }
    const bad = await cli(['--cluster-checkpoint', 'x', '--out', path.join(root, 'x')]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--cluster-checkpoint must be a positive integer/);
  });
});
