/**
 * GB scale (issue 14: "a 2 GB logical state checkpointed, merged and recovered, with peak RSS reported"): the
 * steps of gb-scale-step.ts, each in a child process of its own so that each peak RSS is that step's. On the
 * merge bench's window state of `--size` MB (default 2000; 200 with --quick).
 *
 *   npm run bench:gb-scale [-- --size 2000 --dir /tmp]
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const STEPS = ['build', 'merge-block', 'merge-whole', 'recover-whole', 'recover-stream'] as const;

export async function runGbScale(
  options: { quick?: boolean; dir?: string; out?: string; size?: string } = {},
) {
  const sizeMb = Number(options.size ?? (options.quick ? 200 : 2000));
  if (!(sizeMb > 0)) throw new Error(`--size must be a positive number of MB, got ${options.size}`);
  const out = options.out ?? path.join('bench', 'results', 'gb-scale.json');
  const dir = fs.mkdtempSync(path.join(options.dir ?? os.tmpdir(), 'tidemark-gb-'));
  const results: Record<string, unknown>[] = [];
  try {
    for (const step of STEPS) {
      const line = execFileSync(
        process.execPath,
        ['--max-old-space-size=16000', path.join(__dirname, 'gb-scale-step.js'), step, dir, String(sizeMb)],
        { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 20 },
      );
      const figures = JSON.parse(line.trim().split('\n').pop()!) as Record<string, unknown>;
      results.push(figures);
      console.log(JSON.stringify(figures));
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const report = {
    benchmark: 'gb-scale',
    date: new Date().toISOString(),
    sizeMb,
    cpus: os.cpus().length,
    node: process.version,
    results,
  };
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`figures written to ${out}`);
}
