/**
 * A worker thread of codec-limits.ts. Loads, says 'ready', then on each 'go' works through its share with
 * the product's own codec calls (codecs.ts: the same zstd binding and level handling) one at a time, and
 * answers with the bytes in and out. Loaded by path: bench/dist/bench/src/codec-limits-worker.js.
 */
import { readFileSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { BLOCK_HEADER_SIZE } from '../../src/checkpoint/block/block-codec';
import { codecOfId, compressBody, decompressBodySync } from '../../src/checkpoint/block/codecs';

export type LimitTask =
  { kind: 'compress'; chunks: Uint8Array[]; level: number } | { kind: 'decompress'; files: string[] };

export interface LimitPass {
  inputBytes: number;
  outputBytes: number;
}

async function compressAll(chunks: Uint8Array[], level: number): Promise<LimitPass> {
  const pass = { inputBytes: 0, outputBytes: 0 };
  for (const chunk of chunks) {
    const raw = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    pass.inputBytes += raw.length;
    pass.outputBytes += (await compressBody('zstd', raw, level)).length;
  }
  return pass;
}

/** Reads each stored block and decompresses its body (no checks: the limit, not recovery). */
async function decompressAll(files: string[]): Promise<LimitPass> {
  const pass = { inputBytes: 0, outputBytes: 0 };
  for (const file of files) {
    const bytes = readFileSync(file);
    const codec = codecOfId(bytes[5]!) ?? 'none';
    // On this thread, as the product's block workers do: the fastest the machine decompresses.
    const raw = decompressBodySync(codec, bytes.subarray(BLOCK_HEADER_SIZE), bytes.readUInt32LE(8));
    pass.inputBytes += bytes.length;
    pass.outputBytes += raw.length;
  }
  return pass;
}

const task = workerData as LimitTask;
parentPort!.on('message', (message: string) => {
  if (message !== 'go') return;
  const run = task.kind === 'compress' ? compressAll(task.chunks, task.level) : decompressAll(task.files);
  run.then(
    (pass) => parentPort!.postMessage(pass),
    (error: unknown) => parentPort!.postMessage({ error: String(error) }),
  );
});
parentPort!.postMessage('ready');
