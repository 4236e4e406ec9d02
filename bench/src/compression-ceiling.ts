/**
 * How far a general-purpose compressor gets on each bench generator's state: its format-2 block bodies
 * (1 MiB content-defined blocks, as a full checkpoint cuts them) compressed with zstd per block at level 3
 * (what Tidemark writes) and 19, and the whole state in one level-19 frame (no block boundaries at all).
 * Savings are 1 − compressed / logical bytes. The compression goal (80%) is measured against this.
 *
 *   npm run bench:compression-ceiling [-- --quick]
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { compress } from 'zstd-napi';
import { chunkRecords } from '../../src/checkpoint/block/chunker';
import { encodeRunBody } from '../../src/checkpoint/block/run-body-codec';
import { runFromRecords } from '../../src/checkpoint/run/sorted-run';
import { GENERATOR_KINDS, generateState } from './state-generators';

interface CeilingFigures {
  generator: string;
  logicalBytes: number;
  perBlockLevel3: { savings: number; seconds: number };
  perBlockLevel19: { savings: number; seconds: number };
  oneFrameLevel19: { savings: number; seconds: number };
}

function timedSize(work: () => number): { bytes: number; seconds: number } {
  const started = performance.now();
  const bytes = work();
  return { bytes, seconds: (performance.now() - started) / 1000 };
}

export async function runCompressionCeiling(options: { quick?: boolean; out?: string } = {}): Promise<void> {
  const out = options.out ?? path.join('bench', 'results', 'compression-ceiling.json');
  const target = options.quick ? 5e6 : 20e6;
  const results: CeilingFigures[] = [];
  for (const kind of GENERATOR_KINDS) {
    const generated = generateState(kind, target);
    const bodies: Buffer[] = [];
    for (const component of generated.snapshot.components.values()) {
      let start = 0;
      for (const end of chunkRecords(component.records)) {
        const run = runFromRecords(component.records, start, end);
        bodies.push(encodeRunBody(run, 0, run.count, 0));
        start = end;
      }
    }
    const perBlock = (level: number) =>
      timedSize(() =>
        bodies.reduce((sum, body) => sum + compress(body, { compressionLevel: level }).length, 0),
      );
    const logical = generated.logicalBytes;
    const savings = (r: { bytes: number; seconds: number }) => ({
      savings: 1 - r.bytes / logical,
      seconds: r.seconds,
    });
    const figures: CeilingFigures = {
      generator: kind,
      logicalBytes: logical,
      perBlockLevel3: savings(perBlock(3)),
      perBlockLevel19: savings(perBlock(19)),
      oneFrameLevel19: savings(
        timedSize(() => compress(Buffer.concat(bodies), { compressionLevel: 19 }).length),
      ),
    };
    results.push(figures);
    const pct = (n: number) => `${(n * 100).toFixed(1)}%`;
    console.log(
      `${kind.padEnd(14)} ${(logical / 1e6).toFixed(0)} MB: per block level 3 ${pct(figures.perBlockLevel3.savings)}, ` +
        `level 19 ${pct(figures.perBlockLevel19.savings)}; one level-19 frame ${pct(figures.oneFrameLevel19.savings)}`,
    );
  }
  const report = {
    benchmark: 'compression-ceiling',
    date: new Date().toISOString(),
    node: process.version,
    cpus: os.cpus().length,
    results,
  };
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`figures written to ${out}`);
}
