import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { createServer } from 'node:net';
import type { ChildProcess } from 'node:child_process';
import { ChildServer } from '../child-server';
import { CLI, ROOT } from '../ensure-built';
import { eventually } from '../eventually';

export const CLUSTER_SECRET = 'the-test-cluster-secret';

export interface ServedNode {
  readonly id: string;
  readonly apiPort: number;
  readonly raftAddress: string;
  readonly dataDir: string;
  server: ChildServer;
}

export interface ServeClusterOptions {
  /**
   * More environment for a node, on every start of it (a restart too): its own key prefix, a config file,
   * Redis, intervals. Wins over the defaults below; `startNode`'s own `extraEnv` wins over it.
   */
  readonly env?: (node: ServedNode) => Record<string, string>;
}

/** How much of each node's output is kept for `logs` (the newest part). */
const LOG_KEPT = 4 * 1024 * 1024;

interface ClusterView {
  id: string;
  role: string;
  leader: string;
  term: number;
  commitIndex: number;
  appliedIndex: number;
  snapshotIndex: number;
  members: { id: string; voter: boolean; reachable: boolean; match?: number; lag?: number }[];
}

/**
 * `tidemark serve` processes on loopback forming a Raft cluster from their configuration, as an operator
 * runs them: each with its own data directory, REST port and Raft port, the endpoints and the secret in the
 * environment. Short timings (election 500 ms, heartbeat 50 ms) keep failovers quick.
 */
export class ServeCluster {
  readonly nodes = new Map<string, ServedNode>();
  private readonly root = mkdtempSync(path.join(tmpdir(), 'tidemark-cluster-'));
  private endpoints = '';
  private readonly output = new Map<string, string>();

  constructor(private readonly options: ServeClusterOptions = {}) {}

  static async start(size: number, options: ServeClusterOptions = {}): Promise<ServeCluster> {
    const cluster = new ServeCluster(options);
    for (let i = 1; i <= size; i++) await cluster.define(`n${i}`);
    cluster.endpoints = [...cluster.nodes.values()].map((n) => `${n.id}=${n.raftAddress}`).join(',');
    const started = await Promise.allSettled([...cluster.nodes.keys()].map((id) => cluster.startNode(id)));
    const failed = started.find((outcome) => outcome.status === 'rejected');
    if (failed) {
      // The nodes that did start must not outlive the test (jest would never exit).
      await cluster.dispose();
      throw failed.reason;
    }
    return cluster;
  }

  /** A node's ports and directory (not started). */
  async define(id: string): Promise<ServedNode> {
    const node: ServedNode = {
      id,
      apiPort: await stablePort(),
      raftAddress: `127.0.0.1:${await stablePort()}`,
      dataDir: path.join(this.root, id),
      server: undefined as unknown as ChildServer,
    };
    this.nodes.set(id, node);
    return node;
  }

  async startNode(id: string, extraEnv: Record<string, string> = {}): Promise<void> {
    const node = this.node(id);
    node.server = new ChildServer({
      command: process.execPath,
      args: [CLI, 'serve'],
      cwd: ROOT,
      ready: /tidemark listening/,
      startTimeoutMs: 60_000,
      env: {
        DATA_DIR: node.dataDir,
        PORT: String(node.apiPort),
        LOG_LEVEL: 'info',
        TIDEMARK_NODE_ID: id,
        TIDEMARK_CLUSTER_ENDPOINTS: this.endpoints,
        TIDEMARK_CLUSTER_SECRET: CLUSTER_SECRET,
        TIDEMARK_CLUSTER_LISTEN: node.raftAddress,
        TIDEMARK_ELECTION_TIMEOUT_MS: '500',
        TIDEMARK_HEARTBEAT_INTERVAL_MS: '50',
        TIDEMARK_CLUSTER_SNAPSHOT_EVERY: '50',
        ...this.options.env?.(node),
        ...extraEnv,
      },
    });
    this.log(id, `\n--- ${new Date().toISOString()} starting ${id} ---\n`);
    try {
      await node.server.start();
    } finally {
      // ChildServer keeps a process's output only until it is ready; keep all of it here, for `logs`.
      const child = this.child(id);
      this.log(id, (node.server as unknown as { output?: string }).output ?? '');
      child?.stdout?.on('data', (chunk: Buffer) => this.log(id, chunk.toString()));
      child?.stderr?.on('data', (chunk: Buffer) => this.log(id, chunk.toString()));
    }
  }

  /** The process id of a running node (undefined when it is not running). */
  pid(id: string): number | undefined {
    return this.node(id).server?.running ? this.child(id)?.pid : undefined;
  }

  /** Sends `signal` to a running node's process (SIGUSR2: the test fault hook, with TIDEMARK_TEST_FAULTS). */
  signal(id: string, signal: NodeJS.Signals): void {
    const pid = this.pid(id);
    if (pid === undefined) throw new Error(`${id} is not running`);
    process.kill(pid, signal);
  }

  /** What a node printed, over all its starts (the newest few MiB): for a failing test to show. */
  logs(id: string): string {
    return this.output.get(id) ?? '';
  }

  private log(id: string, text: string): void {
    const kept = (this.output.get(id) ?? '') + text;
    this.output.set(id, kept.length > LOG_KEPT ? kept.slice(kept.length - LOG_KEPT) : kept);
  }

  /** ChildServer does not hand out its process; the pid and the output streams are needed here. */
  private child(id: string): ChildProcess | undefined {
    return (this.node(id).server as unknown as { child?: ChildProcess } | undefined)?.child;
  }

  node(id: string): ServedNode {
    const node = this.nodes.get(id);
    if (node === undefined) throw new Error(`no node ${id}`);
    return node;
  }

  running(): ServedNode[] {
    return [...this.nodes.values()].filter((n) => n.server?.running);
  }

  async view(id: string): Promise<ClusterView | undefined> {
    return (await this.call(id, 'GET', '/v1/cluster')).body as ClusterView | undefined;
  }

  /** The one node of `among` that leads, once all of them agree on it. */
  async leader(among: readonly ServedNode[] = this.running()): Promise<ServedNode> {
    let found: ServedNode | undefined;
    await eventually(
      'the running nodes agree on one leader',
      async () => {
        const views = await Promise.all(among.map((n) => this.view(n.id)));
        const leaders = new Set(views.map((v) => v?.leader));
        const [leader] = leaders;
        found = leaders.size === 1 && leader ? this.nodes.get(leader) : undefined;
        return found !== undefined && views.some((v) => v?.role === 'leader');
      },
      60_000,
    );
    return found as ServedNode;
  }

  async call(
    id: string,
    method: string,
    route: string,
    body?: unknown,
  ): Promise<{ status: number; body: unknown }> {
    const node = this.node(id);
    try {
      const response = await fetch(`http://127.0.0.1:${node.apiPort}${route}`, {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(10_000),
      });
      const text = await response.text();
      return { status: response.status, body: text === '' ? undefined : (JSON.parse(text) as unknown) };
    } catch {
      return { status: 0, body: undefined };
    }
  }

  /** Sets `key` through whichever node leads now, retrying through failovers; resolves once acknowledged. */
  async set(key: string, value: string): Promise<void> {
    await eventually(
      `${key} acknowledged`,
      async () => {
        const nodes = this.running();
        const leader = (await Promise.all(nodes.map((n) => this.view(n.id)))).find(
          (v) => v?.role === 'leader',
        );
        if (leader === undefined) return false;
        const { status } = await this.call(leader.id, 'PUT', `/v1/cluster/metadata/${key}`, { value });
        return status === 200;
      },
      60_000,
    );
  }

  async dispose(): Promise<void> {
    await Promise.all([...this.nodes.values()].map((n) => n.server?.stop('SIGKILL')));
    rmSync(this.root, { recursive: true, force: true });
  }
}

/**
 * A free port below Linux's ephemeral range (32768–60999). A node keeps its ports across restarts, and while
 * it is down an outgoing connection could take a port from the ephemeral range as its source port — then
 * the restarted node could not listen (EADDRINUSE). Ports below the range are never handed out that way.
 */
async function stablePort(): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    const free = await new Promise<boolean>((resolve) => {
      const server = createServer();
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
    if (free) return port;
  }
}
