/**
 * The machine's limits on the state a benchmark measures, taken in the same run (so a busier machine
 * lowers the limit and the product's figure alike, and their ratio holds):
 *   - zstd-1 compression on both cores: 2 worker threads, each compressing its half of the state's ~1 MiB
 *     chunks one after another. The chunks hold the keys and values only, each length-prefixed (varint):
 *     what any block format must compress at least, so the limit does not move when the format changes;
 *   - reading every stored block from the page cache and decompressing it on both cores: 2 worker threads,
 *     each reading its half of the block files and decompressing their bodies (recovery's limit);
 *   - crc32c (@node-rs/crc32) on one thread, for reference.
 * The codec calls are the product's (codecs.ts). Each limit is the best of `runs` passes.
 */
import { crc32c } from '@node-rs/crc32';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import type { Manifest } from '../../src/checkpoint/manifest/manifest';
import type { Snapshot } from '../../src/checkpoint/state/state-types';
import { blockKey } from '../../src/storage';
import type { LimitPass, LimitTask } from './codec-limits-worker';

const WORKER = path.join(__dirname, 'codec-limits-worker.js');
const CHUNK_BYTES = 1 << 20;

export interface Limit {
  what: string;
  threads: number;
  /** Wall seconds of each pass; the figures are from the fastest. */
  runSeconds: number[];
  seconds: number;
  /** Bytes in (framed keys and values; stored block files) and out (compressed; decompressed). */
  inputBytes: number;
  outputBytes: number;
  /** The state's keys + values per second: the unit of the product's figures, the one ratios use. */
  logicalMbPerSec: number;
  /** Input MB/s (compression, crc32c) or decompressed MB/s (decompression). */
  mbPerSec: number;
}

function varint(out: Buffer, at: number, n: number): number {
  while (n >= 0x80) {
    out[at++] = (n & 0x7f) | 0x80;
    n >>>= 7;
  }
  out[at++] = n;
  return at;
}

/** The state's keys and values, `keyLen | key | valueLen | value` back to back, cut into ~1 MiB chunks. */
export function frameState(snapshot: Snapshot, chunkBytes = CHUNK_BYTES): Buffer[] {
  const chunks: Buffer[] = [];
  let chunk = Buffer.allocUnsafe(chunkBytes * 2);
  let at = 0;
  for (const component of snapshot.components.values()) {
    for (const { key, value } of component.records) {
      if (at + key.length + value.length + 10 > chunk.length) {
        chunks.push(chunk.subarray(0, at));
        chunk = Buffer.allocUnsafe(Math.max(chunkBytes * 2, key.length + value.length + 10));
        at = 0;
      }
      at = varint(chunk, at, key.length);
      at += key.copy(chunk, at);
      at = varint(chunk, at, value.length);
      at += value.copy(chunk, at);
      if (at >= chunkBytes) {
        chunks.push(chunk.subarray(0, at));
        chunk = Buffer.allocUnsafe(chunkBytes * 2);
        at = 0;
      }
    }
  }
  if (at > 0) chunks.push(chunk.subarray(0, at));
  return chunks;
}

/** zstd at `level` (default 1) over `chunks` on `threads` worker threads. */
export function zstdCompressLimit(
  chunks: readonly Buffer[],
  logicalBytes: number,
  options: { level?: number; threads?: number; runs?: number } = {},
): Promise<Limit> {
  const level = options.level ?? 1;
  const threads = options.threads ?? 2;
  const tasks = split(chunks, threads).map((share): LimitTask => ({
    kind: 'compress',
    chunks: share,
    level,
  }));
  return runWorkers(
    `zstd-${level} compression, ${threads} threads`,
    tasks,
    logicalBytes,
    options.runs ?? 3,
    'in',
  );
}

/** Reads and decompresses the stored blocks `files` (product block format) on `threads` worker threads. */
export function readDecompressLimit(
  files: readonly string[],
  logicalBytes: number,
  options: { threads?: number; runs?: number } = {},
): Promise<Limit> {
  const threads = options.threads ?? 2;
  const tasks = split(files, threads).map((share): LimitTask => ({ kind: 'decompress', files: share }));
  const what = `read from the page cache + decompress, ${threads} threads`;
  return runWorkers(what, tasks, logicalBytes, options.runs ?? 3, 'out');
}

/** crc32c over `chunks` on this thread. */
export function crc32cLimit(chunks: readonly Buffer[], logicalBytes: number, runs = 3): Limit {
  const runSeconds: number[] = [];
  let inputBytes = 0;
  for (let r = 0; r < runs; r++) {
    inputBytes = 0;
    const started = performance.now();
    for (const chunk of chunks) {
      crc32c(chunk);
      inputBytes += chunk.length;
    }
    runSeconds.push((performance.now() - started) / 1000);
  }
  return figures('crc32c, 1 thread', 1, runSeconds, { inputBytes, outputBytes: 0 }, logicalBytes, 'in');
}

/** The local files of every block `manifests` name, in a local store rooted at `root` (for readDecompressLimit). */
export function blockFilesOf(root: string, prefix: string, manifests: readonly Manifest[]): string[] {
  const hashes = new Set<string>();
  for (const manifest of manifests) {
    for (const component of Object.values(manifest.components)) {
      for (const block of component.blocks) hashes.add(block.hash);
    }
  }
  return [...hashes].map((hash) => path.join(root, blockKey(prefix, hash)));
}

function split<T>(items: readonly T[], parts: number): T[][] {
  const shares = Array.from({ length: parts }, () => [] as T[]);
  items.forEach((item, i) => shares[i % parts]!.push(item));
  return shares;
}

function figures(
  what: string,
  threads: number,
  runSeconds: number[],
  pass: LimitPass,
  logicalBytes: number,
  per: 'in' | 'out',
): Limit {
  const seconds = Math.min(...runSeconds);
  return {
    what,
    threads,
    runSeconds,
    seconds,
    inputBytes: pass.inputBytes,
    outputBytes: pass.outputBytes,
    logicalMbPerSec: logicalBytes / 1e6 / seconds,
    mbPerSec: (per === 'in' ? pass.inputBytes : pass.outputBytes) / 1e6 / seconds,
  };
}

/** Starts one worker per task, then times `runs` passes: all told 'go' at once, until the last answers. */
async function runWorkers(
  what: string,
  tasks: LimitTask[],
  logicalBytes: number,
  runs: number,
  per: 'in' | 'out',
): Promise<Limit> {
  if (!fs.existsSync(WORKER)) throw new Error(`codec limits: worker ${WORKER} missing (npm run bench:build)`);
  const workers = tasks.map((task) => new Worker(WORKER, { workerData: task }));
  try {
    await Promise.all(workers.map((w) => answer<string>(w)));
    const runSeconds: number[] = [];
    let pass: LimitPass = { inputBytes: 0, outputBytes: 0 };
    for (let r = 0; r < runs; r++) {
      const answers = workers.map((w) => answer<LimitPass>(w));
      const started = performance.now();
      for (const w of workers) w.postMessage('go');
      const passes = await Promise.all(answers);
      runSeconds.push((performance.now() - started) / 1000);
      pass = passes.reduce((a, b) => ({
        inputBytes: a.inputBytes + b.inputBytes,
        outputBytes: a.outputBytes + b.outputBytes,
      }));
    }
    return figures(what, tasks.length, runSeconds, pass, logicalBytes, per);
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

/** The worker's next message; its error or exit rejects. */
function answer<T>(worker: Worker): Promise<T> {
  return new Promise((resolve, reject) => {
    const settle = (error: Error | undefined, message?: T) => {
      worker.off('message', onMessage).off('error', onError).off('exit', onExit);
      if (error) reject(error);
      else resolve(message as T);
    };
    const onMessage = (message: T | { error: string }) =>
      typeof message === 'object' && message !== null && 'error' in message
        ? settle(new Error(message.error))
        : settle(undefined, message as T);
    const onError = (error: Error) => settle(error);
    const onExit = (code: number) => settle(new Error(`codec limits worker exited (${code})`));
    worker.on('message', onMessage).on('error', onError).on('exit', onExit);
  });
}
