/**
 * The block encoder the service uses (WorkerBlockEncoder: os.availableParallelism() threads), shared by the
 * checkpoint benchmarks so that they measure what a node does. Closed by whoever ran the benchmark.
 */
import { availableParallelism } from 'node:os';
import { WorkerBlockEncoder, type BlockEncoder } from '../../src/checkpoint/block/block-encoder';

let encoder: BlockEncoder | undefined;

export function benchEncoder(): BlockEncoder {
  encoder ??= WorkerBlockEncoder.create(availableParallelism());
  return encoder;
}

export async function closeBenchEncoder(): Promise<void> {
  const open = encoder;
  encoder = undefined;
  await open?.close();
}

/** Which encoder the figures were taken with, for the reports. */
export function encoderName(): string {
  return benchEncoder() instanceof WorkerBlockEncoder
    ? `worker threads (${availableParallelism()})`
    : 'calling thread (no worker file: run from a build)';
}
