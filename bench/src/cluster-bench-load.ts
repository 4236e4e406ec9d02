import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RaftNode } from '../../src/coordination/raft/raft-node';
import type { CountingStore } from './cluster-bench-counting-store';
import type { LoadRequest, LoadResult, TransportCounts } from './cluster-bench-protocol';
import { percentiles } from './cluster-bench-stats';

/**
 * Closed-loop proposals in the leader's own process: `concurrency` workers, each proposing a command and
 * proposing the next as soon as it resolves (committed and applied here). A warm-up first, not counted;
 * then the window, in which proposals that resolve are counted and their latency (propose → resolve) kept.
 */
export async function runLoad(
  node: RaftNode,
  store: CountingStore,
  transport: () => TransportCounts,
  request: LoadRequest,
): Promise<LoadResult> {
  const { concurrency, commandBytes, warmupMs, measureMs } = request;
  const latencies: number[] = [];
  let failed = 0;
  let firstError: string | undefined;
  let sequence = 0;
  const started = performance.now();
  const windowStart = started + warmupMs;
  const windowEnd = windowStart + measureMs;
  let counts: LoadResult['store'] | undefined;
  let sentBefore = transport();
  let sentInWindow: TransportCounts | undefined;

  const worker = async (): Promise<void> => {
    while (performance.now() < windowEnd) {
      // Each command distinct, as real ones are; built outside the timed call.
      const command = Buffer.alloc(commandBytes, 0x61);
      command.writeUInt32LE(++sequence, 0);
      const t0 = performance.now();
      try {
        await node.propose(command);
      } catch (error) {
        failed++;
        firstError ??= error instanceof Error ? error.message : String(error);
        await sleep(10); // a refusal comes back at once: do not spin
        continue;
      }
      const t1 = performance.now();
      if (t1 >= windowStart && t1 < windowEnd) latencies.push(t1 - t0);
    }
  };
  // The store's counts cover the window alone.
  const windowOpens = setTimeout(() => {
    store.take();
    sentBefore = transport();
  }, warmupMs);
  const windowCloses = setTimeout(() => {
    counts = store.take();
    sentInWindow = minus(transport(), sentBefore);
  }, warmupMs + measureMs);
  await Promise.all(Array.from({ length: concurrency }, worker));
  // The last proposals resolve after the window: the closing timer has run by then.
  await sleep(Math.max(0, windowEnd - performance.now() + 1));
  clearTimeout(windowOpens);
  clearTimeout(windowCloses);
  return {
    completed: latencies.length,
    seconds: measureMs / 1000,
    failed,
    firstError,
    latencyMs: percentiles(latencies),
    store: counts ?? store.take(),
    transport: sentInWindow ?? minus(transport(), sentBefore),
  };
}

function minus(a: TransportCounts, b: TransportCounts): TransportCounts {
  return {
    sentBatches: a.sentBatches - b.sentBatches,
    sentMessages: a.sentMessages - b.sentMessages,
    failedStreams: a.failedStreams - b.failedStreams,
    droppedMessages: a.droppedMessages - b.droppedMessages,
  };
}
