/**
 * The cluster benchmark's Raft nodes, each a child process (cluster-bench-node.js) with its own log
 * directory and Raft port on loopback: start, kill -9, restart on the same port and directory, ask, and
 * follow what each reports of its role and leader.
 */
import { fork, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { onCleanup } from './cluster-bench-cleanup';
import { freePort } from './cluster-bench-free-port';
import {
  wallNow,
  type ChildMessage,
  type LoadRequest,
  type LoadResult,
  type NodeSpec,
  type NodeState,
  type ParentMessage,
  type StatusReply,
} from './cluster-bench-protocol';

const NODE_SCRIPT = path.join(__dirname, 'cluster-bench-node.js');
const START_TIMEOUT_MS = 30_000;

/** A node's last report: its view, and when (shared wall clock) it took it. */
export type Reported = NodeState & { at: number };

interface Pending {
  resolve: (message: ChildMessage) => void;
  reject: (error: Error) => void;
}

/** One Raft node process; restartable. */
export class NodeProcess {
  private child: ChildProcess | undefined;
  private forget: (() => void) | undefined;
  private readonly pending = new Map<number, Pending>();
  private requestIds = 0;
  /** Undefined while the process is down or has not reported yet. */
  state: Reported | undefined;

  constructor(
    readonly spec: NodeSpec,
    private readonly execArgv: string[],
    private readonly onState: () => void,
  ) {}

  get running(): boolean {
    return this.child !== undefined;
  }

  /** Forks the process; resolves once its node has started. */
  start(): Promise<void> {
    if (this.child) throw new Error(`${this.spec.id} is running already`);
    const child = fork(NODE_SCRIPT, [JSON.stringify(this.spec)], {
      execArgv: this.execArgv,
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    this.child = child;
    this.forget = onCleanup(() => child.kill('SIGKILL'));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`${this.spec.id} did not start within ${START_TIMEOUT_MS} ms`));
      }, START_TIMEOUT_MS);
      child.on('message', (message: ChildMessage) => {
        if (message.type === 'ready') {
          clearTimeout(timer);
          resolve();
        } else this.received(message);
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`${this.spec.id} exited (${String(code ?? signal)}) before it was ready`));
        this.gone(child, `${this.spec.id} exited (${String(code ?? signal)})`);
      });
    });
  }

  /** kill -9; returns the shared-clock time just before the signal, and resolves once the process is gone. */
  async kill(): Promise<number> {
    const child = this.child;
    if (!child) throw new Error(`${this.spec.id} is not running`);
    const exited = new Promise((resolve) => child.once('exit', resolve));
    const at = wallNow();
    child.kill('SIGKILL');
    this.gone(child, `${this.spec.id} was killed`);
    await exited;
    return at;
  }

  /** Asks the node to close and exit (its CPU profile, if any, is written then). */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    const force = setTimeout(() => child.kill('SIGKILL'), 10_000);
    this.post({ type: 'exit' });
    await exited;
    clearTimeout(force);
  }

  async status(): Promise<StatusReply> {
    const reply = await this.request({ type: 'status' });
    if (reply.type !== 'status') throw new Error(`unexpected reply ${reply.type}`);
    return reply.status;
  }

  async load(request: LoadRequest): Promise<LoadResult> {
    const reply = await this.request({ type: 'load', ...request });
    if (reply.type !== 'load') throw new Error(`unexpected reply ${reply.type}`);
    return reply.result;
  }

  private request(message: { type: 'status' } | ({ type: 'load' } & LoadRequest)): Promise<ChildMessage> {
    const requestId = ++this.requestIds;
    return new Promise((resolve, reject) => {
      this.pending.set(requestId, { resolve, reject });
      this.post({ ...message, requestId });
    });
  }

  private post(message: ParentMessage): void {
    if (!this.child?.connected) throw new Error(`${this.spec.id} is not running`);
    this.child.send(message);
  }

  private received(message: ChildMessage): void {
    if (message.type === 'state') {
      this.state = { role: message.role, leader: message.leader, term: message.term, at: message.at };
      this.onState();
      return;
    }
    if (message.type === 'ready') return;
    const pending = this.pending.get(message.requestId);
    if (!pending) return;
    this.pending.delete(message.requestId);
    if (message.type === 'error') pending.reject(new Error(`${this.spec.id}: ${message.message}`));
    else pending.resolve(message);
  }

  private gone(child: ChildProcess, why: string): void {
    if (this.child !== child) return;
    this.child = undefined;
    this.state = undefined;
    this.forget?.();
    for (const pending of this.pending.values()) pending.reject(new Error(why));
    this.pending.clear();
  }
}

export interface ClusterSpec {
  size: number;
  /** Where the temporary directory of the nodes' logs goes. */
  root: string;
  electionTimeoutMs: number;
  heartbeatIntervalMs: number;
  pollMs: number;
  /** Node options per member (--cpu-prof, say). */
  execArgv?: (id: string) => string[];
}

/** Nodes n1…nN on loopback, in a temporary directory removed by `close()` (or by the cleanup on exit). */
export class BenchCluster {
  readonly nodes = new Map<string, NodeProcess>();
  private readonly waiters = new Set<() => void>();

  private constructor(private readonly removeRoot: () => void) {}

  static async start(spec: ClusterSpec): Promise<BenchCluster> {
    const root = fs.mkdtempSync(path.join(spec.root, 'tidemark-bench-cluster-'));
    const cluster = new BenchCluster(onCleanup(() => fs.rmSync(root, { recursive: true, force: true })));
    const members: [string, string][] = [];
    for (let i = 1; i <= spec.size; i++) members.push([`n${i}`, `127.0.0.1:${await freePort()}`]);
    for (const [id] of members) {
      const nodeSpec: NodeSpec = {
        id,
        members,
        dir: path.join(root, id),
        electionTimeoutMs: spec.electionTimeoutMs,
        heartbeatIntervalMs: spec.heartbeatIntervalMs,
        pollMs: spec.pollMs,
      };
      cluster.nodes.set(id, new NodeProcess(nodeSpec, spec.execArgv?.(id) ?? [], () => cluster.changed()));
    }
    try {
      await Promise.all([...cluster.nodes.values()].map((node) => node.start()));
    } catch (error) {
      await cluster.close();
      throw error;
    }
    return cluster;
  }

  node(id: string): NodeProcess {
    const node = this.nodes.get(id);
    if (!node) throw new Error(`no node ${id}`);
    return node;
  }

  running(): NodeProcess[] {
    return [...this.nodes.values()].filter((node) => node.running);
  }

  /**
   * The leader `among` agree on, if they do: each names it (in one term) and it says it leads. `at` is when
   * the last of them took that view (shared clock).
   */
  agreement(among: readonly NodeProcess[] = this.running()): { leader: string; at: number } | undefined {
    const states = among.map((node) => node.state);
    const first = states[0];
    if (!first || first.leader === '') return undefined;
    for (const state of states) {
      if (!state || state.leader !== first.leader || state.term !== first.term) return undefined;
    }
    if (this.nodes.get(first.leader)?.state?.role !== 'leader') return undefined;
    return { leader: first.leader, at: Math.max(...states.map((state) => (state as Reported).at)) };
  }

  /** Resolves with the first value `check` returns (it runs at once and on every report); rejects on timeout. */
  when<T>(what: string, check: () => T | undefined, timeoutMs: number): Promise<T> {
    const now = check();
    if (now !== undefined) return Promise.resolve(now);
    return new Promise((resolve, reject) => {
      const waiter = (): void => {
        const value = check();
        if (value === undefined) return;
        done();
        resolve(value);
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`${what}: not within ${timeoutMs} ms`));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.delete(waiter);
      };
      this.waiters.add(waiter);
    });
  }

  /** Stops every node cleanly, then removes the directory. */
  async close(): Promise<void> {
    await Promise.all([...this.nodes.values()].map((node) => node.stop()));
    this.removeRoot();
  }

  private changed(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}
