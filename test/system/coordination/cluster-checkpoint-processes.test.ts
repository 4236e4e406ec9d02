import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Redis } from 'ioredis';
import { readStateDirectory } from '../../../src/recovery/output/directory-writer';
import { readNdjson } from '../../../src/recovery/output/ndjson';
import { CLI, ensureBuilt, ROOT } from '../../support/ensure-built';
import { eventually } from '../../support/eventually';
import { ServeCluster, type ServedNode } from '../../support/raft/serve-cluster';
import { startRedis, type TestRedis } from '../../support/redis-server';
import { S3rverServer, S3RVER_CREDENTIALS } from '../../support/s3rver-server';

/**
 * Cluster checkpoints across three real `tidemark serve` processes on loopback (issue 13, "Tests", second
 * bullet): each node with its own data directory and key prefix in one shared s3rver bucket, a Redis for
 * the leader hint, a cluster checkpoint every 300 ms while every node appends small batches to its WAL.
 * Through it: the leader killed with -9 while a checkpoint is pending, the leader frozen (SIGSTOP) past the
 * election timeout, Redis stopped and started, a follower partitioned (SIGUSR2, the test fault hook) —
 * and afterwards every committed cluster checkpoint restores, on every node, to exactly the replay of that
 * node's log to its barrier LSN (over REST, and once with `tidemark recover --cluster-checkpoint`).
 *
 * The model of each node's log (LSN → entry) holds what the node acknowledged. An append whose answer
 * never came (the node was killed, or the request failed) is a "maybe": it is in the WAL or not. LSNs are
 * dense and a node's appends go one at a time, so the first LSN of the node's next acknowledged append
 * says how many of the maybe entries the WAL kept (a prefix of them, in order; a check fails if that count
 * is impossible); the model takes exactly those. The restore checks then hold that decision to account.
 *
 * One cluster for the whole file; the steps run in order, each its own test. While a node is frozen the
 * test sends it nothing but what is already in flight. A failing step keeps the nodes' logs (the path is in
 * the error).
 */
jest.setTimeout(120_000);

const INTERVAL_MS = 300;
const PARTITION_TOLERANCE_MS = 1_000;
const HINT_KEY = 'tidemark:leader';

type Change = { op: 'put'; key: string; value: string } | { op: 'delete'; key: string } | { op: 'clear' };

interface Entry {
  componentId: string;
  sequence: number;
  changes: Change[];
}

interface ClusterView {
  id: string;
  role: string;
  leader: string;
  term: number;
  partitioned: boolean;
  members: { id: string; voter: boolean; reachable?: boolean }[];
  checkpoints: { lastId: number; lastCommittedId: number; pending: number[]; consecutiveFailures: number };
}

interface Ack {
  checkpointId: number;
  barrierLsn: number;
  manifestKey: string;
}

interface CheckpointView {
  id: number;
  state: 'pending' | 'committed' | 'aborted';
  members: string[];
  acks: Record<string, Ack>;
  beganInTerm: number;
  endedInTerm?: number;
  reason?: string;
}

const b64 = (text: string) => Buffer.from(text).toString('base64');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const pick = (n: number) => Math.floor(Math.random() * n);

/** One node's log as the test knows it. */
class NodeLog {
  /** Entries known to be in the WAL, by LSN. */
  readonly byLsn = new Map<number, Entry>();
  /** The highest LSN known. */
  lastLsn = 0;
  /** Sent, answer lost: in the WAL or not (decided by the next acknowledged append). */
  maybe: Entry[] = [];
  /** How each maybe batch was decided: entries the WAL kept, of how many. */
  readonly decided: { kept: number; of: number }[] = [];
  sequence = 0;
  acknowledged = 0;

  constructor(readonly id: string) {}

  batch(): Entry[] {
    return Array.from({ length: 1 + pick(3) }, () => {
      const sequence = ++this.sequence;
      const changes: Change[] = Array.from({ length: 1 + pick(2) }, (_, j): Change => {
        const dice = pick(1000);
        if (dice < 4) return { op: 'clear' };
        const key = b64(`k${pick(24)}`);
        if (dice < 90) return { op: 'delete', key };
        return { op: 'put', key, value: b64(`${this.id}:${sequence}:${j}`) };
      });
      return { componentId: pick(2) === 0 ? 'orders' : 'sessions', sequence, changes };
    });
  }

  /** The node acknowledged `entries` at firstLsn..lastLsn: decide the maybe entries by the gap before. */
  ack(entries: Entry[], firstLsn: number, lastLsn: number): void {
    const gap = firstLsn - this.lastLsn - 1;
    if (gap < 0 || gap > this.maybe.length) {
      throw new Error(
        `${this.id}: acknowledged at LSN ${firstLsn} after ${this.lastLsn}: ${gap} entries in between, ` +
          `but only ${this.maybe.length} were sent without an answer`,
      );
    }
    if (lastLsn - firstLsn + 1 !== entries.length) {
      throw new Error(`${this.id}: ${entries.length} entries acknowledged as LSNs ${firstLsn}..${lastLsn}`);
    }
    if (this.maybe.length > 0) this.decided.push({ kept: gap, of: this.maybe.length });
    this.maybe.slice(0, gap).forEach((entry, i) => this.byLsn.set(this.lastLsn + 1 + i, entry));
    this.maybe = [];
    entries.forEach((entry, i) => this.byLsn.set(firstLsn + i, entry));
    this.lastLsn = lastLsn;
    this.acknowledged += entries.length;
  }
}

/** A node's state replayed from the model, moved forward LSN by LSN. */
class Replay {
  private readonly state = new Map<string, Map<string, string>>();
  private lsn = 0;

  constructor(private readonly log: NodeLog) {}

  to(lsn: number): Record<string, Record<string, string>> {
    if (lsn < this.lsn) throw new Error(`${this.log.id}: replay asked back from ${this.lsn} to ${lsn}`);
    for (; this.lsn < lsn;) {
      const entry = this.log.byLsn.get(++this.lsn);
      if (entry === undefined) throw new Error(`${this.log.id}: LSN ${this.lsn} is not in the model`);
      const component = this.state.get(entry.componentId) ?? new Map<string, string>();
      this.state.set(entry.componentId, component);
      for (const change of entry.changes) {
        if (change.op === 'clear') component.clear();
        else if (change.op === 'delete') component.delete(change.key);
        else component.set(change.key, change.value);
      }
    }
    return normalized([...this.state].map(([id, records]) => [id, [...records]]));
  }
}

/** Components with no live key are left out (a cleared component and one never written look the same). */
function normalized(components: [string, [string, string][]][]): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  for (const [id, records] of [...components].sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (records.length === 0) continue;
    out[id] = Object.fromEntries([...records].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }
  return out;
}

function difference(
  got: Record<string, Record<string, string>>,
  want: Record<string, Record<string, string>>,
): string[] {
  const lines: string[] = [];
  for (const id of new Set([...Object.keys(got), ...Object.keys(want)])) {
    const g = got[id] ?? {};
    const w = want[id] ?? {};
    for (const key of new Set([...Object.keys(g), ...Object.keys(w)])) {
      if (g[key] !== w[key]) {
        const text = (v: string | undefined) =>
          v === undefined ? '(none)' : Buffer.from(v, 'base64').toString();
        lines.push(
          `${id}/${Buffer.from(key, 'base64').toString()}: got ${text(g[key])}, want ${text(w[key])}`,
        );
      }
    }
  }
  return lines;
}

async function http(
  node: ServedNode,
  method: string,
  route: string,
  options: { body?: unknown; timeoutMs?: number } = {},
): Promise<{ status: number; body: unknown; text: string }> {
  try {
    const response = await fetch(`http://127.0.0.1:${node.apiPort}${route}`, {
      method,
      headers: options.body === undefined ? {} : { 'content-type': 'application/json' },
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
    });
    const text = await response.text();
    let body: unknown;
    try {
      body = text === '' ? undefined : (JSON.parse(text) as unknown);
    } catch {
      body = undefined;
    }
    return { status: response.status, body, text };
  } catch {
    return { status: 0, body: undefined, text: '' };
  }
}

/** Appends batch after batch on one node, one request at a time, into its model. */
class Appender {
  private stopping = false;
  /** A request is out, unanswered. */
  inFlight = false;
  readonly done: Promise<void>;

  constructor(
    private readonly cluster: ServeCluster,
    private readonly log: NodeLog,
    private readonly problems: string[],
    private readonly down: ReadonlySet<string>,
  ) {
    this.done = this.run();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.done;
  }

  private async run(): Promise<void> {
    const node = this.cluster.node(this.log.id);
    // Stopping waits until nothing sent is left undecided (while the node runs).
    while (!this.stopping || (this.log.maybe.length > 0 && node.server?.running)) {
      if (!node.server?.running || this.down.has(node.id)) {
        await sleep(50);
        continue;
      }
      const batch = this.log.batch();
      this.inFlight = true;
      const answer = await http(node, 'POST', '/v1/wal/entries', {
        body: { entries: batch },
        // A frozen node answers once it runs again.
        timeoutMs: 120_000,
      });
      this.inFlight = false;
      if (answer.status === 201) {
        const { firstLsn, lastLsn } = answer.body as { firstLsn: number; lastLsn: number };
        try {
          this.log.ack(batch, firstLsn, lastLsn);
        } catch (error) {
          this.problems.push((error as Error).message);
          return;
        }
      } else {
        this.log.maybe.push(...batch);
        if (answer.status !== 0) {
          this.problems.push(`${this.log.id}: an append answered ${answer.status}: ${answer.text}`);
        }
      }
      await sleep(40);
    }
  }
}

/**
 * Watches every node's record of cluster checkpoints: an ended checkpoint never changes; none is committed
 * on one node and aborted on another; a committed one has every member's ack.
 */
class Monitor {
  /** id → node → state last seen. */
  readonly seen = new Map<number, Map<string, CheckpointView>>();
  readonly violations: string[] = [];
  private stopping = false;
  private readonly done: Promise<void>;

  constructor(
    private readonly cluster: ServeCluster,
    private readonly frozen: ReadonlySet<string>,
  ) {
    this.done = this.run();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.done;
  }

  /** Reads every listed node's whole record once. */
  async sweep(ids: readonly string[] = [...this.cluster.nodes.keys()], limit = 30): Promise<void> {
    await Promise.all(
      ids.map(async (id) => {
        const node = this.cluster.node(id);
        if (!node.server?.running || this.frozen.has(id)) return;
        const { status, body } = await http(node, 'GET', `/v1/cluster/checkpoints?limit=${limit}`, {
          timeoutMs: 3_000,
        });
        if (status !== 200 || this.frozen.has(id)) return;
        for (const c of (body as { checkpoints: CheckpointView[] }).checkpoints) this.observe(id, c);
      }),
    );
  }

  private observe(node: string, c: CheckpointView): void {
    const byNode = this.seen.get(c.id) ?? new Map<string, CheckpointView>();
    this.seen.set(c.id, byNode);
    const before = byNode.get(node);
    if (before !== undefined && before.state !== 'pending' && before.state !== c.state) {
      this.violations.push(`${c.id} on ${node}: ${before.state}, later ${c.state}`);
    }
    byNode.set(node, c);
    const states = new Set([...byNode.values()].map((v) => v.state));
    if (states.has('committed') && states.has('aborted')) {
      const each = [...byNode].map(([n, v]) => `${n} ${v.state}`).join(', ');
      this.violations.push(`${c.id} is committed and aborted: ${each}`);
    }
    if (c.state === 'committed' && [...c.members].sort().join() !== Object.keys(c.acks).sort().join()) {
      this.violations.push(`${c.id} committed on ${node} with acks of ${Object.keys(c.acks).join(', ')}`);
    }
  }

  /** The state every node that ended `id` agrees on (undefined while it has not ended on every `nodes`). */
  ended(id: number, nodes: readonly string[]): string | undefined {
    const byNode = this.seen.get(id);
    const states = nodes.map((n) => byNode?.get(n)?.state);
    if (states.some((s) => s === undefined || s === 'pending')) return undefined;
    return new Set(states).size === 1 ? states[0] : `disagree: ${states.join(', ')}`;
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      await this.sweep();
      await sleep(200);
    }
  }
}

let s3: S3rverServer;
let redis: TestRedis;
let cluster: ServeCluster;
let root: string;
let configFile: string;
const logs = new Map<string, NodeLog>();
const appenders: Appender[] = [];
const problems: string[] = [];
const frozen = new Set<string>();
let monitor: Monitor;
const timings: string[] = [];
/** lastId on the leader at the end of each step: ids rise across failovers. */
const lastIds: number[] = [];
/** Nodes killed and not yet back up (not ready): their appenders wait. */
const down = new Set<string>();
let redisDown = false;
let redisBefore: { leader: string; term: number } | undefined;

const nodeEnv = (node: ServedNode): Record<string, string> => ({
  TIDEMARK_CONFIG: configFile,
  TIDEMARK_STORAGE_PREFIX: `tidemark/${node.id}`,
  REDIS_URL: redis.url,
  TIDEMARK_TEST_FAULTS: 'true',
  TIDEMARK_CLUSTER_CHECKPOINT_INTERVAL_MS: String(INTERVAL_MS),
  TIDEMARK_CLUSTER_CHECKPOINT_TIMEOUT_MS: '10000',
  TIDEMARK_PARTITION_TOLERANCE_MS: String(PARTITION_TOLERANCE_MS),
  TIDEMARK_LEADER_HINT_TTL_MS: '3000',
  TIDEMARK_CLUSTER_API_URL: `http://127.0.0.1:${node.apiPort}`,
  // Every committed cluster checkpoint stays restorable, for the checks at the end.
  TIDEMARK_CLUSTER_CHECKPOINTS_RETAINED: '1000',
  TIDEMARK_CHECKPOINT_INTERVAL_MS: '0',
});

beforeAll(async () => {
  ensureBuilt();
  root = mkdtempSync(path.join(tmpdir(), 'tidemark-cluster-checkpoints-'));
  s3 = new S3rverServer();
  await s3.start();
  const bucket = await s3.createBucket();
  redis = await startRedis();
  configFile = path.join(root, 'tidemark.yaml');
  writeFileSync(
    configFile,
    JSON.stringify({
      storage: {
        backend: 'S3',
        bucket,
        endpoint: s3.endpoint,
        forcePathStyle: true,
        accessKeyId: S3RVER_CREDENTIALS.accessKeyId,
        secretAccessKey: S3RVER_CREDENTIALS.secretAccessKey,
        checksumMode: 'WHEN_REQUIRED',
        createIfAbsent: 'check-then-put',
      },
    }),
  );
  cluster = await ServeCluster.start(3, { env: nodeEnv });
  for (const id of cluster.nodes.keys()) {
    const log = new NodeLog(id);
    logs.set(id, log);
    appenders.push(new Appender(cluster, log, problems, down));
  }
  monitor = new Monitor(cluster, frozen);
}, 180_000);

afterAll(async () => {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    Promise.all(appenders.map((a) => a.stop())),
    new Promise((resolve) => (timer = setTimeout(resolve, 5_000))),
  ]);
  clearTimeout(timer);
  await monitor?.stop();
  for (const id of frozen) cluster.node(id).server.resume();
  await cluster?.dispose();
  await redis?.dispose();
  await s3?.dispose();
  if (root) rmSync(root, { recursive: true, force: true });
  console.log(`step timings:\n${timings.join('\n')}`);
});

/** Runs a step; on failure keeps every node's output and names where. */
async function step(name: string, body: () => Promise<void>): Promise<void> {
  const started = Date.now();
  try {
    await body();
    expect(problems).toEqual([]);
  } catch (error) {
    const dir = mkdtempSync(path.join(tmpdir(), 'tidemark-cluster-checkpoint-logs-'));
    for (const id of cluster.nodes.keys()) writeFileSync(path.join(dir, `${id}.log`), cluster.logs(id));
    if (error instanceof Error) error.message += `\n(the nodes' output is kept in ${dir})`;
    throw error;
  } finally {
    timings.push(`${name}: ${Date.now() - started} ms`);
  }
}

const live = () => cluster.running().filter((n) => !frozen.has(n.id));

async function view(node: ServedNode): Promise<ClusterView | undefined> {
  const { status, body } = await http(node, 'GET', '/v1/cluster', { timeoutMs: 3_000 });
  return status === 200 ? (body as ClusterView) : undefined;
}

async function checkpoint(node: ServedNode, id: number): Promise<CheckpointView | undefined> {
  const { status, body } = await http(node, 'GET', `/v1/cluster/checkpoints/${id}`, { timeoutMs: 3_000 });
  return status === 200 ? (body as CheckpointView) : undefined;
}

/** A checkpoint above `after` committed with every node's ack (read on the leader); its id. */
async function committedWithAll(
  after: number,
  among: readonly ServedNode[] = live(),
  timeoutMs = 60_000,
): Promise<number> {
  let found = 0;
  await eventually(
    `a cluster checkpoint above ${after} commits with all three`,
    async () => {
      const leader = await cluster.leader(among);
      const { status, body } = await http(leader, 'GET', '/v1/cluster/checkpoints?state=committed&limit=5');
      if (status !== 200) return false;
      const committed = (body as { checkpoints: CheckpointView[] }).checkpoints.find(
        (c) => c.id > after && Object.keys(c.acks).sort().join() === 'n1,n2,n3',
      );
      found = committed?.id ?? 0;
      return committed !== undefined;
    },
    timeoutMs,
  );
  return found;
}

/** `count` cluster checkpoints above `after` commit with all three, one after another; the last one's id. */
async function commitsWithAll(after: number, count = 3): Promise<number> {
  let id = after;
  for (let i = 0; i < count; i++) id = await committedWithAll(id);
  return id;
}

/** `POST /v1/cluster/checkpoints` on the leader is refused naming `who` (out of reach). */
async function beginRefusedNaming(leader: ServedNode, who: string): Promise<unknown> {
  let refusal: unknown;
  await eventually(`the leader refuses to begin a checkpoint while ${who} is out`, async () => {
    const { status, body, text } = await http(leader, 'POST', '/v1/cluster/checkpoints');
    refusal = body;
    return (
      status === 409 &&
      (body as { code?: string }).code === 'PRECONDITION_FAILED' &&
      text.includes(`unreachable: ${who}`)
    );
  });
  return refusal;
}

async function leaderView(
  among: readonly ServedNode[] = live(),
): Promise<{ leader: ServedNode; view: ClusterView }> {
  const leader = await cluster.leader(among);
  const found = await view(leader);
  if (found === undefined) throw new Error(`${leader.id} did not answer`);
  return { leader, view: found };
}

async function readHint(): Promise<{ term: number; nodeId: string; address?: string } | undefined> {
  const client = new Redis(redis.url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    const text = await client.get(HINT_KEY);
    return text === null
      ? undefined
      : (JSON.parse(text) as { term: number; nodeId: string; address?: string });
  } catch {
    return undefined;
  } finally {
    client.disconnect();
  }
}

const acknowledgedCounts = () => [...logs.values()].map((l) => l.acknowledged);

/**
 * Commits resume with `node` among the acks (after a failover, a thaw, a heal), and ids kept rising across
 * it: the newest id is recorded for the next step's check.
 */
async function committingWith(node: ServedNode, after: number, what: string): Promise<void> {
  const resumed = await commitsWithAll(after);
  await eventually(`the ${what} node has ${resumed} committed with its ack`, async () => {
    const c = await checkpoint(node, resumed);
    return c?.state === 'committed' && c.acks[node.id] !== undefined;
  });
  const lastId = (await leaderView()).view.checkpoints.lastId;
  expect(lastId).toBeGreaterThan(lastIds.at(-1)!);
  lastIds.push(lastId);
}

describe('cluster checkpoints across three tidemark serve processes (s3rver, Redis, 300 ms interval)', () => {
  it('1. kill -9 of the leader mid-checkpoint: a new leader, the pending one ends one way everywhere, commits resume with the restarted node', () =>
    step('1 kill -9 mid-checkpoint', async () => {
      const first = await committedWithAll(0);
      const { leader: old, view: before } = await leaderView();
      // Kill it the moment it has a checkpoint in flight, and an append in flight too (a "maybe").
      const appender = appenders[[...cluster.nodes.keys()].indexOf(old.id)]!;
      let pending = 0;
      await eventually('the leader has a cluster checkpoint pending and an append in flight', async () => {
        const v = await view(old);
        pending = v?.checkpoints.pending[0] ?? 0;
        return pending > 0 && appender.inFlight;
      });
      down.add(old.id);
      await old.server.stop('SIGKILL');
      const others = live();
      const { leader: fresh, view: after } = await leaderView(others);
      expect(fresh.id).not.toBe(old.id);
      expect(after.term).toBeGreaterThan(before.term);
      // The pending one ends — committed or aborted — the same on both live nodes.
      await eventually(`checkpoint ${pending} ends on the live nodes`, async () => {
        await monitor.sweep(others.map((n) => n.id));
        const outcome = monitor.ended(
          pending,
          others.map((n) => n.id),
        );
        return outcome === 'committed' || outcome === 'aborted' || outcome?.startsWith('disagree') === true;
      });
      const outcome = monitor.ended(
        pending,
        others.map((n) => n.id),
      );
      expect(['committed', 'aborted']).toContain(outcome);
      // Nothing begins while a member is out: every member must acknowledge.
      await beginRefusedNaming(fresh, old.id);
      const counts = acknowledgedCounts();
      await cluster.startNode(old.id);
      down.delete(old.id);
      await eventually('the restarted node follows', async () => {
        const v = await view(old);
        return v?.role === 'follower' && v.term >= after.term;
      });
      const resumed = await commitsWithAll(Math.max(first, pending));
      // The restarted node agrees about the one it was killed in.
      await eventually(`the restarted node has checkpoint ${pending} ended`, async () => {
        await monitor.sweep([old.id], 1000);
        return monitor.ended(pending, [old.id]) !== undefined;
      });
      expect(monitor.ended(pending, ['n1', 'n2', 'n3'])).toBe(outcome);
      await eventually(
        `the restarted node has ${resumed} committed`,
        async () => (await checkpoint(old, resumed))?.state === 'committed',
      );
      // Every node appended throughout (the killed one again since its restart).
      await eventually('appends on every node', () =>
        acknowledgedCounts().every((count, i) => count > counts[i]!),
      );
      lastIds.push((await leaderView()).view.checkpoints.lastId);
      timings.push(
        `  1: checkpoint ${pending} pending at the kill ended ${outcome}; after the restart three committed with all three, up to ${resumed}`,
      );
    }));

  it('2. SIGSTOP of the leader past the election timeout: another leads, nothing commits without it, SIGCONT: it follows and commits include it again', () =>
    step('2 SIGSTOP', async () => {
      const before = await committedWithAll(lastIds.at(-1) ?? 0);
      const { leader: old, view: oldView } = await leaderView();
      frozen.add(old.id);
      old.server.pause();
      try {
        const others = live();
        const { leader: fresh, view: freshView } = await leaderView(others);
        expect(fresh.id).not.toBe(old.id);
        expect(freshView.term).toBeGreaterThan(oldView.term);
        await beginRefusedNaming(fresh, old.id);
        // What was in flight when it froze ended (aborted as lost, or committed with its ack).
        await eventually('nothing pending on the new leader', async () => {
          const v = await view(fresh);
          return v !== undefined && v.checkpoints.pending.length === 0;
        });
        const during = (await view(fresh))!.checkpoints;
        timings.push(
          `  2: while ${old.id} was frozen: lastId ${during.lastId}, lastCommittedId ${during.lastCommittedId}`,
        );
      } finally {
        old.server.resume();
        frozen.delete(old.id);
      }
      await eventually('the old leader follows in a later term', async () => {
        const v = await view(old);
        return v?.role === 'follower' && v.term > oldView.term && v.leader !== '' && v.leader !== old.id;
      });
      await committingWith(old, before, 'thawed');
    }));

  it("3a. Redis stopped: nothing Raft decided changes (same leader and term), appends go on; each node's cut is fenced by its maintenance lease in Redis, so cluster checkpoints begun meanwhile abort, declined, saying why", () =>
    step('3a Redis down', async () => {
      const start = await committedWithAll(lastIds.at(-1) ?? 0);
      const { leader, view: v } = await leaderView();
      redisBefore = { leader: leader.id, term: v.term };
      await eventually('the hint names the leader and its term', async () => {
        const hint = await readHint();
        return hint?.nodeId === leader.id && hint.term === v.term;
      });
      expect(await readHint()).toEqual({
        term: v.term,
        nodeId: leader.id,
        address: `http://127.0.0.1:${leader.apiPort}`,
      });
      const counts = acknowledgedCounts();
      await redis.stop();
      redisDown = true;
      // What begins from now on begins without Redis.
      const lastIdBefore = (await view(leader))!.checkpoints.lastId;
      await eventually('appends on every node without Redis', () =>
        acknowledgedCounts().every((count, i) => count > counts[i]!),
      );
      // Some cluster checkpoints begin and end without Redis.
      let sinceStop: CheckpointView[] = [];
      await eventually('three cluster checkpoints begun without Redis have ended', async () => {
        const { status, body } = await http(leader, 'GET', '/v1/cluster/checkpoints?limit=50');
        if (status !== 200) return false;
        sinceStop = (body as { checkpoints: CheckpointView[] }).checkpoints.filter(
          (c) => c.id > lastIdBefore,
        );
        return sinceStop.filter((c) => c.state !== 'pending').length >= 3;
      });
      timings.push(
        `  3a: without Redis: ${sinceStop
          .filter((c) => c.state !== 'pending')
          .map((c) => `${c.id} ${c.state}${c.reason === undefined ? '' : ` (${c.reason})`}`)
          .join('; ')}`,
      );
      for (const node of live()) {
        expect(await view(node)).toMatchObject({ leader: leader.id, term: v.term });
      }
      // Decided (docs/coordination.md, "Redis down"): a node writes a checkpoint only while it can show it
      // holds its maintenance lease (a second process acting as the same node must not write its prefix),
      // so with Redis gone every cut is declined and the checkpoint aborts — never a commit without every
      // member's cut, and nothing committed before changes (the monitor checks both throughout).
      const ended = sinceStop.filter((c) => c.state !== 'pending');
      for (const c of ended) {
        expect(c).toMatchObject({ state: 'aborted' });
        expect(c.reason).toMatch(/^declined by n\d: .*(Redis unavailable|lease maintenance\.n\d)/);
      }
      expect(start).toBeGreaterThan(0);
    }));

  it('3b. Redis started again: the hint comes back naming the leader and its term; cluster checkpoints commit with all three', () =>
    step('3b Redis back', async () => {
      if (redisDown) await redis.start();
      redisDown = false;
      const { leader, view: v } = await leaderView();
      expect({ leader: leader.id, term: v.term }).toEqual(redisBefore);
      await eventually('the hint is back, naming the leader and its term', async () => {
        const hint = await readHint();
        return hint?.nodeId === leader.id && hint.term === v.term;
      });
      expect(await readHint()).toEqual({
        term: v.term,
        nodeId: leader.id,
        address: `http://127.0.0.1:${leader.apiPort}`,
      });
      const resumed = await commitsWithAll(v.checkpoints.lastId);
      timings.push(`  3b: with Redis back, ${resumed} committed with all three`);
      lastIds.push((await leaderView()).view.checkpoints.lastId);
    }));

  it('4. a follower partitioned (SIGUSR2): it says partitioned, the leader sees it unreachable and begins nothing; healed, commits include it again', () =>
    step('4 partition', async () => {
      await committedWithAll(lastIds.at(-1) ?? 0);
      const { leader } = await leaderView();
      const cut = live().find((n) => n.id !== leader.id)!;
      const lastBeforeCut = (await view(leader))!.checkpoints.lastId;
      cluster.signal(cut.id, 'SIGUSR2');
      let healed = false;
      try {
        await eventually(
          `${cut.id} reports itself partitioned`,
          async () => (await view(cut))?.partitioned === true,
        );
        const majority = live().filter((n) => n.id !== cut.id);
        const { leader: lead } = await leaderView(majority);
        await eventually(`the leader reports ${cut.id} unreachable`, async () => {
          const v = await view(lead);
          return v?.members.find((m) => m.id === cut.id)?.reachable === false && v.partitioned === false;
        });
        const refusal = await beginRefusedNaming(lead, cut.id);
        expect(refusal).toMatchObject({ code: 'PRECONDITION_FAILED' });
        await eventually('nothing pending on the leader', async () => {
          const v = await view(lead);
          return v !== undefined && v.checkpoints.pending.length === 0;
        });
        const out = (await view(lead))!.checkpoints;
        // Several intervals pass: no checkpoint begins, none commits, while it is out.
        await sleep(5 * INTERVAL_MS);
        const still = (await view(lead))!;
        expect(still.checkpoints).toMatchObject({ lastId: out.lastId, lastCommittedId: out.lastCommittedId });
        expect(still.checkpoints.pending).toEqual([]);
        // Those begun after the cut could not have its ack: none committed.
        await monitor.sweep([lead.id], 100);
        const begunAfter = [...monitor.seen]
          .filter(([id]) => id > lastBeforeCut && id <= out.lastId)
          .map(([, byNode]) => byNode.get(lead.id))
          .filter((c): c is CheckpointView => c !== undefined);
        for (const c of begunAfter) {
          if (c.state === 'committed') expect(Object.keys(c.acks)).toContain(cut.id);
          else expect(c).toMatchObject({ state: 'aborted', reason: expect.stringContaining(cut.id) });
        }
        timings.push(
          `  4: begun after the cut: ${begunAfter.map((c) => `${c.id} ${c.state} (${c.reason ?? ''})`).join('; ') || 'none'}`,
        );
        cluster.signal(cut.id, 'SIGUSR2');
        healed = true;
      } finally {
        if (!healed) cluster.signal(cut.id, 'SIGUSR2');
      }
      await eventually(`${cut.id} is no longer partitioned`, async () => {
        const v = await view(cut);
        return v?.partitioned === false && v.leader !== '';
      });
      await committingWith(cut, lastBeforeCut, 'healed');
    }));

  it('5. every committed cluster checkpoint restores on every node to the replay of its log to its barrier LSN (REST), and one with tidemark recover --cluster-checkpoint', () =>
    step('5 restore', async () => {
      await Promise.all(appenders.map((a) => a.stop()));
      await monitor.stop();
      await monitor.sweep(undefined, 1000);
      expect(monitor.violations).toEqual([]);
      const { leader } = await leaderView();
      const listed = await http(leader, 'GET', '/v1/cluster/checkpoints?limit=1000');
      const all = (listed.body as { checkpoints: CheckpointView[] }).checkpoints.sort((a, b) => a.id - b.id);
      // Ids rise across failovers: unique, and begun in terms that never go back.
      for (let i = 1; i < all.length; i++) {
        expect(all[i]!.beganInTerm).toBeGreaterThanOrEqual(all[i - 1]!.beganInTerm);
      }
      expect(lastIds).toEqual([...lastIds].sort((a, b) => a - b));
      const committed = all.filter((c) => c.state === 'committed');
      const aborted = all.filter((c) => c.state === 'aborted');
      const reasons = new Map<string, number>();
      for (const c of aborted) {
        const reason = (c.reason ?? '').replace(/\d+/g, 'N');
        reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
      }
      timings.push(
        `  5: ${all.length} cluster checkpoints: ${committed.length} committed, ${aborted.length} aborted ` +
          `(${[...reasons].map(([r, n]) => `${n}× ${r}`).join('; ')}); ` +
          `entries per node ${[...logs.values()].map((l) => `${l.id} ${l.lastLsn}`).join(', ')}; ` +
          `maybe batches decided ${[...logs.values()].map((l) => `${l.id} ${JSON.stringify(l.decided)}`).join(', ')}`,
      );
      for (const log of logs.values()) expect(log.maybe).toEqual([]);
      expect(committed.length).toBeGreaterThanOrEqual(5);
      // Over REST, on each node, every committed one; the nodes in parallel, each node's in id order.
      const mismatches: string[] = [];
      const restoreStarted = Date.now();
      await Promise.all(
        [...cluster.nodes.values()].map(async (node) => {
          const log = logs.get(node.id)!;
          const replay = new Replay(log);
          let previous = 0;
          for (const c of committed) {
            const ack = c.acks[node.id];
            if (ack === undefined) {
              mismatches.push(`${c.id}: committed without ${node.id}'s ack`);
              continue;
            }
            if (ack.barrierLsn < previous || ack.barrierLsn > log.lastLsn) {
              mismatches.push(
                `${c.id} on ${node.id}: barrier LSN ${ack.barrierLsn} (before: ${previous}, log to ${log.lastLsn})`,
              );
              continue;
            }
            previous = ack.barrierLsn;
            const answer = await http(node, 'POST', '/v1/recovery', {
              body: { target: { clusterCheckpointId: c.id } },
              timeoutMs: 30_000,
            });
            if (answer.status !== 200) {
              mismatches.push(`${c.id} on ${node.id}: recovery answered ${answer.status} ${answer.text}`);
              continue;
            }
            const stream = readNdjson(answer.text);
            if (!stream.complete || stream.header.lsn !== ack.barrierLsn) {
              mismatches.push(
                `${c.id} on ${node.id}: stream ${stream.complete ? 'complete' : 'incomplete'} at LSN ${stream.header.lsn}, barrier ${ack.barrierLsn}`,
              );
              continue;
            }
            const got = normalized(
              [...stream.state].map(([id, records]) => [
                id,
                records.map((r): [string, string] => [r.key.toString('base64'), r.value.toString('base64')]),
              ]),
            );
            const wrong = difference(got, replay.to(ack.barrierLsn));
            if (wrong.length > 0) {
              mismatches.push(
                `${c.id} on ${node.id} at LSN ${ack.barrierLsn}: ${wrong.length} keys differ, e.g. ${wrong.slice(0, 3).join('; ')}`,
              );
            }
          }
        }),
      );
      timings.push(`  5: ${committed.length * 3} REST restores in ${Date.now() - restoreStarted} ms`);
      expect(mismatches).toEqual([]);

      // The CLI, as an operator runs it with n1's configuration: the newest committed one, every member.
      const newest = committed.at(-1)!;
      const out = path.join(root, 'restored');
      const n1 = cluster.node('n1');
      const cliStarted = Date.now();
      const run = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
        execFile(
          process.execPath,
          [CLI, 'recover', '--cluster-checkpoint', String(newest.id), '--out', out, '--no-progress'],
          {
            cwd: ROOT,
            env: {
              PATH: process.env.PATH ?? '',
              ...nodeEnv(n1),
              TIDEMARK_NODE_ID: n1.id,
              DATA_DIR: n1.dataDir,
              LOG_LEVEL: 'warn',
            },
            timeout: 60_000,
          },
          (error, stdout, stderr) =>
            resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
        );
      });
      timings.push(`  5: tidemark recover --cluster-checkpoint ${newest.id}: ${Date.now() - cliStarted} ms`);
      expect(run.stderr).not.toMatch(/tidemark: [A-Z_]+:/);
      expect(run.code).toBe(0);
      for (const node of cluster.nodes.values()) {
        const { manifest, components } = await readStateDirectory(path.join(out, node.id));
        const barrier = newest.acks[node.id]!.barrierLsn;
        expect(manifest.lsn).toBe(barrier);
        const got = normalized(
          [...components].map(([id, c]) => [
            id,
            c.records.map((r): [string, string] => [
              Buffer.from(r.key).toString('base64'),
              Buffer.from(r.value).toString('base64'),
            ]),
          ]),
        );
        expect(difference(got, new Replay(logs.get(node.id)!).to(barrier))).toEqual([]);
      }
    }));
});
