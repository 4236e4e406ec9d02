/**
 * The secondary figure: proposals through REST (`PUT /v1/cluster/metadata/:key`) on three real
 * `tidemark serve` processes (dist/cli.js: `npm run build` first) with the product's cluster defaults,
 * driven by closed-loop fetch calls from this process against the leader. It measures the whole service —
 * Nest, JSON, request logging at the default level — on top of Raft; the client shares the machine.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { onCleanup } from './cluster-bench-cleanup';
import { freePort } from './cluster-bench-free-port';
import type { Percentiles } from './cluster-bench-protocol';
import { percentiles } from './cluster-bench-stats';

const ROOT = path.resolve(__dirname, '..', '..', '..', '..');
export const SERVE_CLI = path.join(ROOT, 'dist', 'cli.js');
const SECRET = 'the-cluster-bench-secret';

export interface RestOptions {
  root: string;
  levels: readonly number[];
  warmupMs: number;
  measureMs: number;
  log: (line: string) => void;
}

export interface RestLevel {
  concurrency: number;
  requestsPerSec: number;
  completed: number;
  failed: number;
  firstError: string | undefined;
  latencyMs: Percentiles;
}

export interface RestResult {
  nodes: number;
  cli: string;
  /** The key and value of every PUT: a 64-byte metadata command. */
  key: string;
  valueBytes: number;
  levels: RestLevel[];
}

interface Served {
  id: string;
  apiPort: number;
  child: ChildProcess;
  stderr: string;
}

/** A metadata SET command is 1 + 2 + key + 4 + value bytes: a 5-byte key and 52-byte value make 64. */
const VALUE = 'v'.repeat(52);

export async function measureRest(options: RestOptions): Promise<RestResult> {
  const dir = fs.mkdtempSync(path.join(options.root, 'tidemark-bench-serve-'));
  const removeDir = onCleanup(() => fs.rmSync(dir, { recursive: true, force: true }));
  const ids = ['n1', 'n2', 'n3'];
  const raft = new Map<string, string>();
  const api = new Map<string, number>();
  for (const id of ids) {
    raft.set(id, `127.0.0.1:${await freePort()}`);
    api.set(id, await freePort());
  }
  const endpoints = [...raft].map(([id, address]) => `${id}=${address}`).join(',');
  const served: Served[] = ids.map((id) => {
    const child = spawn(process.execPath, [SERVE_CLI, 'serve'], {
      cwd: ROOT,
      env: {
        ...process.env,
        DATA_DIR: path.join(dir, id),
        PORT: String(api.get(id)),
        TIDEMARK_NODE_ID: id,
        TIDEMARK_CLUSTER_ENDPOINTS: endpoints,
        TIDEMARK_CLUSTER_SECRET: SECRET,
        TIDEMARK_CLUSTER_LISTEN: raft.get(id),
      },
      // The service logs each request to stdout: dropped here so that reading it costs nothing.
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const node: Served = { id, apiPort: api.get(id) as number, child, stderr: '' };
    child.stderr?.on('data', (chunk: Buffer) => {
      if (node.stderr.length < 4000) node.stderr += chunk.toString();
    });
    return node;
  });
  const killAll = onCleanup(() => {
    for (const node of served) node.child.kill('SIGKILL');
  });
  try {
    const leader = await leaderOf(served);
    const levels: RestLevel[] = [];
    for (const concurrency of options.levels) {
      const level = await closedLoop(leader.apiPort, concurrency, options.warmupMs, options.measureMs);
      levels.push(level);
      options.log(
        `  REST, ${concurrency} in flight: ${Math.round(level.requestsPerSec).toLocaleString('en-US')} PUT/s, ` +
          `p50 ${level.latencyMs.p50.toFixed(2)} ms, p99 ${level.latencyMs.p99.toFixed(2)} ms` +
          (level.failed > 0 ? `; ${level.failed} failed (${level.firstError})` : ''),
      );
    }
    return { nodes: ids.length, cli: SERVE_CLI, key: 'k0000', valueBytes: VALUE.length, levels };
  } finally {
    await Promise.all(served.map((node) => stopChild(node.child)));
    killAll();
    removeDir();
  }
}

async function leaderOf(served: Served[]): Promise<Served> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    for (const node of served) {
      if (node.child.exitCode !== null) throw new Error(`${node.id} exited: ${node.stderr}`);
    }
    const views = await Promise.all(
      served.map(async (node) => {
        try {
          const response = await fetch(`http://127.0.0.1:${node.apiPort}/v1/cluster`);
          return response.ok ? ((await response.json()) as { role: string; leader: string }) : undefined;
        } catch {
          return undefined;
        }
      }),
    );
    const leaders = new Set(views.map((view) => view?.leader));
    const [leader] = leaders;
    const node = served.find((n) => n.id === leader);
    if (leaders.size === 1 && node && views.some((view) => view?.role === 'leader')) return node;
    await sleep(100);
  }
  throw new Error('the tidemark serve processes agreed on no leader within 60 s');
}

async function closedLoop(
  port: number,
  concurrency: number,
  warmupMs: number,
  measureMs: number,
): Promise<RestLevel> {
  const latencies: number[] = [];
  let failed = 0;
  let firstError: string | undefined;
  let sequence = 0;
  const windowStart = performance.now() + warmupMs;
  const windowEnd = windowStart + measureMs;
  const body = JSON.stringify({ value: VALUE });
  const worker = async (): Promise<void> => {
    while (performance.now() < windowEnd) {
      const key = `k${(sequence++ % 10_000).toString().padStart(4, '0')}`;
      const t0 = performance.now();
      try {
        const response = await fetch(`http://127.0.0.1:${port}/v1/cluster/metadata/${key}`, {
          method: 'PUT',
          headers: { 'content-type': 'application/json' },
          body,
        });
        await response.arrayBuffer();
        if (!response.ok) throw new Error(`HTTP ${response.status}`);
      } catch (error) {
        failed++;
        firstError ??= error instanceof Error ? error.message : String(error);
        await sleep(10);
        continue;
      }
      const t1 = performance.now();
      if (t1 >= windowStart && t1 < windowEnd) latencies.push(t1 - t0);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return {
    concurrency,
    requestsPerSec: latencies.length / (measureMs / 1000),
    completed: latencies.length,
    failed,
    firstError,
    latencyMs: percentiles(latencies),
  };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
