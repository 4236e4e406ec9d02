/**
 * The secondary figure: proposals through REST (`PUT /v1/cluster/metadata/:key`) on three real
 * `tidemark serve` processes (dist/cli.js: `npm run build` first) with the product's cluster defaults,
 * driven by closed-loop fetch calls from this process against the leader. It measures the whole service —
 * Nest, JSON, request logging at the default level — on top of Raft; the client shares the machine.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Percentiles } from './cluster-bench-protocol';
import { leaderOf, SERVE_CLI, startServeCluster } from './cluster-bench-serve';
import { percentiles } from './cluster-bench-stats';

export { SERVE_CLI };

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

/** A metadata SET command is 1 + 2 + key + 4 + value bytes: a 5-byte key and 52-byte value make 64. */
const VALUE = 'v'.repeat(52);

export async function measureRest(options: RestOptions): Promise<RestResult> {
  const ids = ['n1', 'n2', 'n3'];
  const cluster = await startServeCluster(options.root, ids);
  try {
    const leader = await leaderOf(cluster.nodes);
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
    await cluster.stop();
  }
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
