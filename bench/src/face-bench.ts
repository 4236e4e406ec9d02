/**
 * How long `require('tidemark')` takes before a processor can append its first entry, and how many modules
 * it loads: each measured in a fresh Node process (median of `runs`), beside its peer in the same run —
 * `require` of the WAL module alone, the floor a library face could reach — and the ratio. `--dir` may
 * name another build's dist/ to measure alongside (an older commit's, for a before/after).
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

interface FaceFigures {
  label: string;
  file: string;
  medianMs: number;
  minMs: number;
  maxMs: number;
  modules: number;
  /** Modules of packages the face must not load (cloud SDKs, BullMQ, ioredis, Nest). */
  heavyModules: number;
}

const HEAVY = /node_modules[\\/](@aws-sdk|@smithy|@google-cloud|@azure|bullmq|ioredis|@nestjs)[\\/]/;

function measure(label: string, file: string, runs: number): FaceFigures {
  const samples: { ms: number; modules: number; heavy: number }[] = [];
  const script = `
    const t0 = process.hrtime.bigint();
    require(${JSON.stringify(file)});
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    const files = Object.keys(require.cache);
    console.log(JSON.stringify({ ms, modules: files.length, heavy: files.filter((f) => ${HEAVY}.test(f)).length }));
  `;
  for (let i = 0; i < runs; i++) {
    samples.push(JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' })) as never);
  }
  const times = samples.map((s) => s.ms).sort((a, b) => a - b);
  return {
    label,
    file,
    medianMs: times[Math.floor(times.length / 2)]!,
    minMs: times[0]!,
    maxMs: times[times.length - 1]!,
    modules: samples[0]!.modules,
    heavyModules: samples[0]!.heavy,
  };
}

export async function runFaceBench(options: { quick: boolean; dir?: string; out?: string }): Promise<void> {
  const runs = options.quick ? 5 : 21;
  const built = path.resolve(__dirname, '../../src');
  const face = measure("require('tidemark')", path.join(built, 'index.js'), runs);
  const wal = measure('the WAL module alone (peer: the floor)', path.join(built, 'wal/index.js'), runs);
  const rows = [face, wal];
  if (options.dir !== undefined) {
    rows.push(
      measure(`another build: ${options.dir}`, path.join(path.resolve(options.dir), 'index.js'), runs),
    );
  }
  const goalMs = 150;
  const result = {
    benchmark: 'face',
    date: new Date().toISOString(),
    quick: options.quick,
    runs,
    rows,
    ratioToWalAlone: face.medianMs / wal.medianMs,
    goal: `require('tidemark') under ${goalMs} ms, loading no cloud SDK, BullMQ, ioredis or Nest`,
    goalMet: face.medianMs < goalMs && face.heavyModules === 0,
  };
  console.log(`Library face: require time, median of ${runs} fresh processes`);
  for (const r of rows) {
    console.log(
      `  ${r.label.padEnd(44)} ${r.medianMs.toFixed(0).padStart(5)} ms (${r.minMs.toFixed(0)}-${r.maxMs.toFixed(0)})  ${r.modules} modules, ${r.heavyModules} of cloud SDKs/BullMQ/ioredis/Nest`,
    );
  }
  console.log(
    `  ratio to the WAL alone: ${result.ratioToWalAlone.toFixed(2)}x; goal: ${result.goal}: ${result.goalMet ? 'met' : 'NOT met'}`,
  );
  const out = path.resolve(options.out ?? path.join('bench', 'results', 'face.json'));
  fs.writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`written ${out}`);
}
