/** The recovery benchmark's JSON document and its printed summary. */
import type { Limit } from './codec-limits';
import type { EngineCaseResult } from './recovery-bench-engine';
import type { PiecesResult } from './recovery-bench-phases';
import type { WalReplayResult } from './recovery-bench-wal';

export const GOAL_MB_PER_SEC = 1000;

export interface StateFigures {
  logicalBytes: number;
  keys: number;
  meanKeyBytes: number;
  meanValueBytes: number;
  incrementals: number;
  deltaRecords: number;
}

export interface ChainFigures {
  store: 'local' | 's3rver';
  codec: string;
  checkpointIds: number[];
  newestLsn: number;
  storedBytes: number;
  blocks: number;
  writeSeconds: number;
}

export interface RecoveryBenchDocument {
  benchmark: 'recovery';
  date: string;
  quick: boolean;
  command: string;
  machine: {
    cpus: number;
    cpuModel: string;
    totalMemoryBytes: number;
    platform: string;
    arch: string;
    node: string;
    loadAverageAtStart: number[];
    loadAverageAtEnd?: number[];
    /** ms to sha256 64 MiB on the main thread, at start and end: a yardstick of how busy the machine was. */
    yardstickMsAtStart: number;
    yardstickMsAtEnd?: number;
    workerFile: string;
    workerFileExists: boolean;
  };
  goal: { mbPerSec: number; of: string };
  state: StateFigures;
  chains: ChainFigures[];
  local: {
    cases: EngineCaseResult[];
    scaling?: {
      codec: string;
      prefetch: string;
      oneThreadMbPerSec: number;
      twoThreadsMbPerSec: number;
      factor: number;
    };
    pieces: PiecesResult[];
    /**
     * Per codec, the same run's limit — every block read from the page cache and decompressed on 2 worker
     * threads (codec-limits.ts) — and the best 2-thread standard recovery as a share of it (goal ≥ 0.5).
     */
    limits?: { codec: string; limit: Limit; bestCase: string; bestMbPerSec: number; ratio: number }[];
    /** From the pieces: the main thread's share of the work, as a ceiling (see `bounds` in the summary). */
    bounds?: {
      mainThreadMs: number;
      mainThreadCeilingMbPerSec: number;
      oneThreadMs: number;
      oneThreadCeilingMbPerSec: number;
    };
  };
  pointInTime?: {
    checkpointLsn: number;
    targetLsn: number;
    entries: number;
    entryBytes: number;
    cases: (EngineCaseResult & { walReplayInEngineMs: number; walEntriesPerSecInEngine: number })[];
    replay: WalReplayResult[];
  };
  s3rver: { skipped?: string; state?: StateFigures; cases: EngineCaseResult[] };
  notes: string[];
}

const mb = (bytes: number) => (bytes / 1e6).toFixed(1);
const int = (n: number) => Math.round(n).toLocaleString('en-US');
const pad = (s: string | number, n: number) => String(s).padStart(n);

function caseTable(cases: readonly EngineCaseResult[]): string[] {
  const lines = [
    `  ${'codec'.padEnd(5)} thr ${'prefetch'.padEnd(10)} ${'verify'.padEnd(8)} ${pad('wall ms', 8)} ${pad('MB/s', 6)} ${pad('blocks/s', 8)} ${pad('cpu ms', 7)} ${pad('cores', 5)} ${pad('load', 5)}  goal`,
  ];
  for (const c of cases) {
    lines.push(
      `  ${c.codec.padEnd(5)} ${pad(c.threads, 3)} ${c.prefetch.padEnd(10)} ${c.verification.padEnd(8)} ${pad(c.wallMs.toFixed(0), 8)} ${pad(c.mbPerSec.toFixed(0), 6)} ${pad(c.blocksPerSec.toFixed(0), 8)} ${pad(c.cpuMs.toFixed(0), 7)} ${pad(c.cores.toFixed(2), 5)} ${pad(c.loadAverage.toFixed(2), 5)}  ${c.mbPerSec >= GOAL_MB_PER_SEC ? 'met' : 'not met'}`,
    );
  }
  return lines;
}

function phaseLine(c: EngineCaseResult): string {
  const p = c.phases;
  return (
    `  ${c.name}: plan ${p.planMs.toFixed(0)} ms | blocks ${p.blocksMs.toFixed(0)} ms ` +
    `(store GETs busy ${p.fetchBusyMs.toFixed(0)} ms, ${p.gets} GETs) | merge ${p.mergeMs.toFixed(0)} ms | ` +
    `verify ${p.verifyMs.toFixed(0)} ms | WAL + overlay ${p.walPhaseMs.toFixed(0)} ms ` +
    `(first run ${c.firstRunMs.toFixed(0)} ms)`
  );
}

export function printRecoverySummary(doc: RecoveryBenchDocument): void {
  const out: string[] = [];
  const s = doc.state;
  out.push(
    `state: ${mb(s.logicalBytes)} MB logical, ${int(s.keys)} keys (mean key ${s.meanKeyBytes.toFixed(0)} B, ` +
      `value ${s.meanValueBytes.toFixed(0)} B), full checkpoint + ${s.incrementals} incrementals (${int(s.deltaRecords)} delta records)`,
  );
  for (const c of doc.chains) {
    out.push(
      `  ${c.store} ${c.codec.padEnd(5)}: ${mb(c.storedBytes)} MB stored in ${c.blocks} blocks, ` +
        `checkpoints ${c.checkpointIds.join(',')} (newest at LSN ${c.newestLsn}), written in ${c.writeSeconds.toFixed(1)} s`,
    );
  }
  out.push(
    '',
    `recover to the newest checkpoint from the local store (page cache warm), median of ${doc.local.cases[0]?.runs ?? 0}:`,
  );
  out.push(...caseTable(doc.local.cases));
  const sc = doc.local.scaling;
  if (sc) {
    out.push(
      `  scaling 1 → 2 threads (${sc.codec}, ${sc.prefetch}): ${sc.oneThreadMbPerSec.toFixed(0)} → ` +
        `${sc.twoThreadsMbPerSec.toFixed(0)} MB/s, x${sc.factor.toFixed(2)}`,
    );
  }
  for (const l of doc.local.limits ?? []) {
    out.push(
      `  ${l.codec}: limit (read + decompress every block, 2 threads, best of ${l.limit.runSeconds.length}) ` +
        `${l.limit.logicalMbPerSec.toFixed(0)} MB/s logical; best recovery (${l.bestCase}) ` +
        `${l.bestMbPerSec.toFixed(0)} MB/s = ${l.ratio.toFixed(2)}× the limit (goal ≥ 0.5×)`,
    );
  }
  out.push('', 'engine phases (median of the timed runs; store GETs timed in the first run):');
  for (const c of doc.local.cases) out.push(phaseLine(c));

  for (const p of doc.local.pieces) {
    out.push(
      '',
      `pieces on one thread over the same ${p.blocks} blocks (${p.codec}: ${mb(p.storedBytes)} MB stored, ${mb(p.rawBytes)} MB raw, ${int(p.records)} records), median of ${p.runs}:`,
    );
    out.push(
      `  ${'piece'.padEnd(44)} ${pad('ms', 8)} ${pad('logical MB/s', 12)} ${pad('µs/block', 9)} ${pad('ns/record', 9)}`,
    );
    for (const piece of p.pieces) {
      out.push(
        `  ${piece.name.padEnd(44)} ${pad(piece.ms.toFixed(1), 8)} ${pad(piece.logicalMbPerSec.toFixed(0), 12)} ` +
          `${pad(piece.perBlockUs?.toFixed(0) ?? '', 9)} ${pad(piece.perRecordNs?.toFixed(0) ?? '', 9)}`,
      );
    }
  }
  const b = doc.local.bounds;
  if (b) {
    out.push(
      '',
      `ceilings from the pieces: the main thread's share (decode + merge + overlay) is ${b.mainThreadMs.toFixed(0)} ms → ` +
        `at most ${b.mainThreadCeilingMbPerSec.toFixed(0)} MB/s however many block threads; ` +
        `everything on one thread (+ open) ${b.oneThreadMs.toFixed(0)} ms → ${b.oneThreadCeilingMbPerSec.toFixed(0)} MB/s`,
    );
  }

  const pit = doc.pointInTime;
  if (pit) {
    out.push(
      '',
      `point in time: LSN ${pit.targetLsn}, ${int(pit.entries)} entries (${mb(pit.entryBytes)} MB) past the newest checkpoint (LSN ${pit.checkpointLsn}):`,
    );
    for (const c of pit.cases) {
      out.push(
        `  recoverTo({lsn}) WAL from ${c.wal}: ${c.wallMs.toFixed(0)} ms wall, ${c.walEntries} entries; WAL phase ` +
          `${c.walReplayInEngineMs.toFixed(0)} ms more than to the checkpoint → ~${int(c.walEntriesPerSecInEngine)} entries/s`,
      );
    }
    for (const r of pit.replay) {
      out.push(
        `  replayWal alone from ${r.source} (${r.objects} objects): read ${int(r.readEntriesPerSec)} entries/s, ` +
          `read + apply ${int(r.applyEntriesPerSec)} entries/s (${r.applyMs.toFixed(1)} ms)`,
      );
    }
  }

  out.push('');
  if (doc.s3rver.skipped) out.push(`s3rver: ${doc.s3rver.skipped}`);
  else {
    const st = doc.s3rver.state;
    out.push(
      `recover from s3rver (${st ? mb(st.logicalBytes) : '?'} MB logical), median of ${doc.s3rver.cases[0]?.runs ?? 0}:`,
    );
    out.push(...caseTable(doc.s3rver.cases));
    for (const c of doc.s3rver.cases) out.push(phaseLine(c));
    const limit = doc.local.limits?.find((l) => l.codec === 'zstd')?.limit;
    const best = Math.max(0, ...doc.s3rver.cases.map((c) => c.mbPerSec));
    if (limit !== undefined && best > 0) {
      // The limit is a rate of the same generator's state, read from the page cache: what a store over
      // HTTP costs on top of it shows as the distance.
      out.push(
        `  best from s3rver ${best.toFixed(0)} MB/s = ${(best / limit.logicalMbPerSec).toFixed(2)}× the local ` +
          `read + decompress limit of this run (${limit.logicalMbPerSec.toFixed(0)} MB/s, zstd)`,
      );
    }
  }
  const m = doc.machine;
  out.push(
    `machine: load ${m.loadAverageAtStart.map((l) => l.toFixed(2)).join(' ')} → ${(m.loadAverageAtEnd ?? []).map((l) => l.toFixed(2)).join(' ')}; ` +
      `yardstick (sha256 of 64 MiB) ${m.yardstickMsAtStart.toFixed(0)} → ${m.yardstickMsAtEnd?.toFixed(0) ?? '?'} ms`,
  );
  for (const note of doc.notes) out.push(`note: ${note}`);
  console.log(out.join('\n'));
}
