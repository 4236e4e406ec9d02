'use strict';
/* global require, module, process, Buffer, __dirname */
/* eslint-disable @typescript-eslint/no-require-imports -- a plain CommonJS script run by node */
/**
 * Child process of test/system/wal/crash.test.ts (plain CommonJS, run with `node`; it loads the BUILT library).
 *
 *   node wal-crash-child.js <dir> <seed> <round>      then one line on stdin: {"lastSequences": {...}}
 *
 * It loads the library, then waits for the start line (so the parent can spawn it while it still checks the
 * previous round, and Node's start-up is off the critical path). The start line gives the last sequence
 * of each component in the log; the child goes on from there. It opens the WAL at <dir> with enableSync
 * and a small segment size (printing `S` just before open and `R <lastLsn>` once open), then appends forever
 * with several appends and
 * batches in flight until the parent SIGKILLs it. After each acknowledgement it prints one line per
 * acknowledged entry:
 *
 *   A <lsn> <componentId> <sequence> <batchId|-> <batchSize> <batchIndex>
 *
 * stdout is a pipe, and pipe writes are synchronous on Linux, so a printed line has left this process
 * before the next append is even issued; a last line cut by the kill has no newline and the parent drops it.
 *
 * Every entry is a pure function of (componentId, sequence, batch tag): `entryFor` below. The parent
 * `require`s this file for that function, so both sides build exactly the same bytes. Nothing runs on
 * require; only `node wal-crash-child.js …` starts the appender.
 */
const path = require('node:path');

// Bound once: looking up globals such as `Math` is slow inside jest's sandbox, where the parent runs this.
const { floor, imul } = Math;

/** The components the child appends to; ids use every character class the WAL allows. */
const COMPONENTS = ['window_processor_1', 'join:orders.v2', 'agg-3', 'Sessionizer_7', 'topk.x:y-z'];

/** 2023-11-14T22:13:20Z in µs; entry timestamps are derived from it. */
const BASE_TIMESTAMP_MICROS = 1_700_000_000_000_000;

/** WAL options shared by the child and the parent's reopen: rotate often, never delete a segment. */
function walOptions() {
  return {
    enableSync: true,
    segmentSize: 256 * 1024,
    // The parent's final read checks every entry ever acknowledged, so retention must keep everything.
    canDelete: () => false,
    retentionSegments: 1_000_000,
  };
}

function fnv1a(text) {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

/** mulberry32: a small seeded PRNG giving floats in [0, 1). */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = imul(t ^ (t >>> 15), t | 1);
    t ^= t + imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function int(rng, lo, hi) {
  return lo + floor(rng() * (hi - lo + 1));
}

function bytes(rng, length) {
  const out = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) out[i] = floor(rng() * 256);
  return out;
}

/** A key: mostly a UTF-8 string (the WAL accepts strings), sometimes raw binary bytes. */
function keyFor(rng) {
  return rng() < 0.3 ? bytes(rng, int(rng, 1, 24)) : `k/${int(rng, 0, 499)}`;
}

/**
 * A value: mostly small, some medium, some empty, some a non-ASCII string, and one in 150 around 10 KB
 * (rare enough that the log, whose every segment open reads, stays small over 1,000 rounds).
 */
function valueFor(rng) {
  const r = rng();
  if (r < 0.0067) return bytes(rng, int(rng, 8 * 1024, 12 * 1024));
  if (r < 0.06) return Buffer.alloc(0);
  if (r < 0.13) return `välue-${int(rng, 0, 1_000_000)}-✓`;
  if (r < 0.28) return bytes(rng, int(rng, 100, 1000));
  return bytes(rng, int(rng, 1, 100));
}

/**
 * The entry for (componentId, sequence); `batch` ({ id, size, index }) marks a member of an appendBatch
 * and adds `batchId`, `batchSize` and `batchIndex` to its metadata.
 */
function entryFor(componentId, sequence, batch) {
  const rng = prng(fnv1a(`${componentId}#${sequence}`));
  const timestamp = BASE_TIMESTAMP_MICROS + sequence * 1000 + int(rng, 0, 999);
  const changes = [];
  const count = int(rng, 1, 4);
  for (let i = 0; i < count; i++) {
    const r = rng();
    if (r < 0.03) changes.push({ op: 'clear' });
    else if (r < 0.18) changes.push({ op: 'delete', key: keyFor(rng) });
    else changes.push({ op: 'put', key: keyFor(rng), value: valueFor(rng) });
  }
  let metadata = rng() < 0.5 ? { origin: 'crash-child', seq: String(sequence) } : undefined;
  if (batch !== undefined) {
    metadata = {
      ...metadata,
      batchId: batch.id,
      batchSize: String(batch.size),
      batchIndex: String(batch.index),
    };
  }
  return metadata === undefined
    ? { componentId, sequence, timestamp, changes }
    : { componentId, sequence, timestamp, changes, metadata };
}

function fatal(message) {
  process.stderr.write(`F ${message}\n`);
  process.exit(2);
}

/** The first line on stdin, parsed. */
function readStartLine() {
  return new Promise((resolve, reject) => {
    let text = '';
    process.stdin.setEncoding('utf8');
    process.stdin.on('data', (chunk) => {
      text += chunk;
      const end = text.indexOf('\n');
      if (end >= 0) {
        process.stdin.pause();
        resolve(JSON.parse(text.slice(0, end)));
      }
    });
    process.stdin.on('end', () => reject(new Error('stdin closed before the start line')));
  });
}

async function main() {
  const [dir, seedArg, roundArg] = process.argv.slice(2);
  if (dir === undefined || seedArg === undefined || roundArg === undefined) {
    fatal('usage: wal-crash-child.js <dir> <seed> <round>, then {"lastSequences":{}} on stdin');
  }
  const rng = prng(Number(seedArg));
  const round = Number(roundArg);
  const { SegmentedWal } = require(path.join(__dirname, '..', '..', '..', '..', 'dist', 'wal'));

  const { lastSequences = {} } = await readStartLine();
  const next = new Map(COMPONENTS.map((c) => [c, (lastSequences[c] ?? 0) + 1]));
  process.stdout.write('S\n');
  const wal = await SegmentedWal.open(dir, walOptions());
  process.stdout.write(`R ${wal.stats().lastLsn}\n`);

  let batches = 0;
  // Sequences are taken in the same synchronous step as the append call, so per component the calls
  // reach the WAL in rising sequence order whatever the interleaving of the workers.
  const take = (componentId) => {
    const sequence = next.get(componentId);
    next.set(componentId, sequence + 1);
    return sequence;
  };
  const pick = () => COMPONENTS[int(rng, 0, COMPONENTS.length - 1)];

  async function worker() {
    for (;;) {
      if (rng() < 0.5) {
        const componentId = pick();
        const sequence = take(componentId);
        const lsn = await wal.append(entryFor(componentId, sequence));
        process.stdout.write(`A ${lsn} ${componentId} ${sequence} - 0 0\n`);
      } else {
        const size = int(rng, 2, 50);
        const id = `r${round}.b${batches++}`;
        const members = [];
        for (let index = 0; index < size; index++) {
          const componentId = pick();
          members.push({ componentId, sequence: take(componentId) });
        }
        const entries = members.map((m, index) => entryFor(m.componentId, m.sequence, { id, size, index }));
        const lsns = await wal.appendBatch(entries);
        let lines = '';
        for (let index = 0; index < size; index++) {
          const m = members[index];
          lines += `A ${lsns[index]} ${m.componentId} ${m.sequence} ${id} ${size} ${index}\n`;
        }
        process.stdout.write(lines);
      }
    }
  }

  const workers = [];
  for (let i = 0; i < 8; i++) workers.push(worker());
  await Promise.all(workers);
}

if (require.main === module) {
  process.on('unhandledRejection', (error) => fatal(String(error && error.stack ? error.stack : error)));
  main().catch((error) => fatal(String(error && error.stack ? error.stack : error)));
}

module.exports = { COMPONENTS, walOptions, entryFor, prng };
