/**
 * The block encoder the service uses (WorkerBlockEncoder: os.availableParallelism() threads), shared by the
 * checkpoint benchmarks so that they measure what a node does. Closed by whoever ran the benchmark.
 */
import { availableParallelism } from 'node:os';
import { WorkerBlockEncoder, type BlockEncoder } from '../../src/checkpoint/block/block-encoder';
import type { BlockCodec } from '../../src/checkpoint/block/codecs';
import type { CheckpointCatalog } from '../../src/checkpoint/catalog/catalog';
import type { CheckpointWriteContext } from '../../src/checkpoint/write/checkpoint-writer';
import type { ObjectStore } from '../../src/storage';

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

/** How the checkpoint benchmarks write: the product's defaults, prefix `bench`, blocks on benchEncoder(). */
export function benchWriteContext(
  store: ObjectStore,
  catalog: CheckpointCatalog,
  codec: BlockCodec = 'zstd',
): CheckpointWriteContext {
  return {
    store,
    prefix: 'bench',
    catalog,
    nodeId: 'bench',
    fencingToken: 0,
    codec,
    blocks: {
      codec,
      compressionThreshold: 1024,
      enableDeduplication: true,
      concurrency: 4,
      encoder: benchEncoder(),
    },
  };
}
