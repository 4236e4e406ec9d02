/** The cluster benchmark's tables (cluster-bench.ts measures; this file only prints). */
import type { BarrierResult } from './cluster-bench-barrier';
import type { FailoverResult } from './cluster-bench-failover';
import type { ProfileSummary } from './cluster-bench-profile';
import type { RestResult } from './cluster-bench-rest';
import type { ThroughputResult } from './cluster-bench-throughput';

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

function table(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]): string =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of rows) console.log(line(row));
}

export function printFailover(results: FailoverResult[], goalTimeouts: number): void {
  const header = ['failover', 'kills', 'min', 'p50', 'p90', 'p99', 'max', `p99 ≤ ${goalTimeouts}×`];
  const rows: string[][] = [];
  for (const r of results) {
    const ms = r.ms;
    const et = r.electionTimeouts;
    rows.push([
      `${r.nodes} nodes, ms`,
      `${r.ms.count}${r.noLeader > 0 ? ` (+${r.noLeader} none)` : ''}`,
      ...[ms.min, ms.p50, ms.p90, ms.p99, ms.max].map(fmt),
      et.p99 <= goalTimeouts && r.noLeader === 0 ? 'yes' : 'no',
    ]);
    rows.push([
      `${r.nodes} nodes, × ${r.electionTimeoutMs} ms`,
      '',
      ...[et.min, et.p50, et.p90, et.p99, et.max].map((x) => x.toFixed(2)),
      '',
    ]);
  }
  table(header, rows);
}

export function printThroughput(result: ThroughputResult, goal: number): void {
  const header = [
    'in flight',
    'proposals/s',
    'p50 ms',
    'p99 ms',
    'entries/save',
    'saves/s',
    'save p50/p99 ms',
    'snapshots (max ms)',
    'raw disk/s',
    'x raw',
    'store alone/s',
    'x store',
    `≥ ${fmt(goal)}`,
  ];
  const rows = result.levels.map((l) => [
    String(l.concurrency),
    fmt(l.proposalsPerSec),
    l.load.latencyMs.p50.toFixed(2),
    l.load.latencyMs.p99.toFixed(2),
    String(l.batch),
    fmt(l.load.store.saves / l.load.seconds),
    `${l.load.store.saveMs.p50.toFixed(2)} / ${l.load.store.saveMs.p99.toFixed(2)}`,
    `${l.load.store.compactMs.count} (${l.load.store.compactMs.max.toFixed(1)})`,
    fmt(l.raw.entriesPerSec),
    l.ratioToRaw.toFixed(2),
    fmt(l.store.entriesPerSec),
    l.ratioToStore.toFixed(2),
    l.proposalsPerSec >= goal ? 'yes' : 'no',
  ]);
  table(header, rows);
}

export function printRest(result: RestResult): void {
  table(
    ['REST PUT, in flight', 'requests/s', 'p50 ms', 'p99 ms', 'failed'],
    result.levels.map((l) => [
      String(l.concurrency),
      fmt(l.requestsPerSec),
      l.latencyMs.p50.toFixed(2),
      l.latencyMs.p99.toFixed(2),
      String(l.failed),
    ]),
  );
}

export function printProfile(summary: ProfileSummary): void {
  console.log(
    `\nleader CPU profile ${summary.file}: ${fmt(summary.busyMs)} ms busy, ${fmt(summary.idleMs)} ms idle`,
  );
  table(
    ['self time', 'ms', 'share', 'where'],
    summary.top.map((t) => [t.function, fmt(t.ms), `${(t.share * 100).toFixed(1)}%`, t.where]),
  );
}

export function printBarrier(result: BarrierResult, goalOverheadP50Ms: number): void {
  const header = ['cluster checkpoints, ms', 'count', 'min', 'p50', 'p90', 'p99', 'max'];
  const row = (name: string, p: BarrierResult['beginToCommitMs']): string[] => [
    name,
    String(p.count),
    ...[p.min, p.p50, p.p90, p.p99, p.max].map((x) => x.toFixed(0)),
  ];
  table(header, [
    row('begin → commit', result.beginToCommitMs),
    row("slowest node's own checkpoint", result.slowestCutMs),
    row('coordination overhead', result.coordinationOverheadMs),
    row('  begin → a cut starts (latest)', result.beginToCutStartMs),
    row('  last cut done → commit', result.lastAckToCommitMs),
    row('kill -9 leader → next commit', result.killToNextCommitMs),
  ]);
  const met = result.coordinationOverheadMs.p50 <= goalOverheadP50Ms;
  console.log(
    `begin→commit: to the commit applied on the leader (committed through Raft); overhead = that − the slowest node's own checkpoint (its cutMs); goal p50 ≤ ${goalOverheadP50Ms} ms: ` +
      `${met ? 'met' : 'not met'} (${result.committed} committed, ${result.aborted} aborted, ` +
      `${result.nodes} nodes, ${result.entriesPerNode}+ entries each)`,
  );
}
