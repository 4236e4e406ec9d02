/**
 * Three (or more) real `tidemark serve` processes (dist/cli.js: `npm run build` first) on loopback forming
 * a Raft cluster from their environment, as an operator runs them; what the REST and barrier parts drive.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { onCleanup } from './cluster-bench-cleanup';
import { freePort } from './cluster-bench-free-port';

const ROOT = path.resolve(__dirname, '..', '..', '..', '..');
export const SERVE_CLI = path.join(ROOT, 'dist', 'cli.js');
const SECRET = 'the-cluster-bench-secret';

export interface Served {
  readonly id: string;
  readonly apiPort: number;
  readonly dataDir: string;
  child: ChildProcess;
  stderr: string;
}

export interface ServeCluster {
  readonly nodes: Served[];
  /** Starts node `id` again (after a kill), same directory and ports. */
  restart(id: string): void;
  stop(): Promise<void>;
}

export async function startServeCluster(
  root: string,
  ids: readonly string[],
  env: Record<string, string> = {},
): Promise<ServeCluster> {
  const dir = fs.mkdtempSync(path.join(root, 'tidemark-bench-serve-'));
  const removeDir = onCleanup(() => fs.rmSync(dir, { recursive: true, force: true }));
  const raft = new Map<string, string>();
  const api = new Map<string, number>();
  for (const id of ids) {
    raft.set(id, `127.0.0.1:${await freePort()}`);
    api.set(id, await freePort());
  }
  const endpoints = [...raft].map(([id, address]) => `${id}=${address}`).join(',');
  const spawnNode = (node: Served): void => {
    node.stderr = '';
    node.child = spawn(process.execPath, [SERVE_CLI, 'serve'], {
      cwd: ROOT,
      env: {
        ...process.env,
        DATA_DIR: node.dataDir,
        PORT: String(node.apiPort),
        TIDEMARK_NODE_ID: node.id,
        TIDEMARK_CLUSTER_ENDPOINTS: endpoints,
        TIDEMARK_CLUSTER_SECRET: SECRET,
        TIDEMARK_CLUSTER_LISTEN: raft.get(node.id),
        ...env,
      },
      // The service logs each request to stdout: dropped here so that reading it costs nothing.
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    node.child.stderr?.on('data', (chunk: Buffer) => {
      if (node.stderr.length < 4000) node.stderr += chunk.toString();
    });
  };
  const nodes: Served[] = ids.map((id) => {
    const node = { id, apiPort: api.get(id)!, dataDir: path.join(dir, id), stderr: '' } as Served;
    spawnNode(node);
    return node;
  });
  const killAll = onCleanup(() => {
    for (const node of nodes) node.child.kill('SIGKILL');
  });
  return {
    nodes,
    restart: (id) => spawnNode(nodes.find((n) => n.id === id)!),
    stop: async () => {
      await Promise.all(nodes.map((node) => stopChild(node.child)));
      killAll();
      removeDir();
    },
  };
}

export async function getJson<T>(port: number, route: string): Promise<T | undefined> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}${route}`);
    return response.ok ? ((await response.json()) as T) : undefined;
  } catch {
    return undefined;
  }
}

/** The node every running member names as leader (all agreeing), within 60 s. */
export async function leaderOf(served: readonly Served[]): Promise<Served> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const running = served.filter((node) => node.child.exitCode === null && node.child.signalCode === null);
    const views = await Promise.all(
      running.map((node) => getJson<{ role: string; leader: string }>(node.apiPort, '/v1/cluster')),
    );
    const leaders = new Set(views.map((view) => view?.leader));
    const [leader] = leaders;
    const node = running.find((n) => n.id === leader);
    if (leaders.size === 1 && node && views.some((view) => view?.role === 'leader')) return node;
    await sleep(20);
  }
  throw new Error(
    `the tidemark serve processes agreed on no leader within 60 s: ${served.map((n) => n.stderr).join('\n')}`,
  );
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
