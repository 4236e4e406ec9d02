import type { RecoverySummary } from '../recovery/output/recovery-summary';
import type { RecoveryPlan, RecoveryTarget } from '../recovery/recovery-types';

/** How `tidemark recover` prints plans and results for people (`--json` prints the objects instead). */

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** µs since the epoch as ISO 8601 with microseconds. */
export function formatMicros(micros: number): string {
  const iso = new Date(Math.floor(micros / 1000)).toISOString();
  return `${iso.slice(0, -1)}${String(micros % 1000).padStart(3, '0')}Z`;
}

export function formatTarget(target: RecoveryTarget): string {
  if ('checkpointId' in target) return `checkpoint ${target.checkpointId}`;
  if ('lsn' in target) return `LSN ${target.lsn}`;
  return `time ${formatMicros(target.time)} (${target.time} µs)`;
}

const plural = (n: number, word: string) =>
  `${n} ${n === 1 ? word : word.endsWith('entry') ? `${word.slice(0, -1)}ies` : `${word}s`}`;

export function formatPlan(plan: RecoveryPlan): string {
  const components = plan.components === 'all' ? 'all' : plan.components.join(', ');
  const lines = [`Recovery plan: ${formatTarget(plan.target)}; components: ${components}`];
  if (plan.checkpoints.length === 0) {
    lines.push('Checkpoints: none at or before the target; the log is replayed from its start');
  } else {
    lines.push(`Checkpoints (a chain of ${plan.checkpoints.length}):`);
    for (const c of plan.checkpoints) {
      lines.push(
        `  #${String(c.id).padEnd(6)} ${c.kind.padEnd(11)} LSN ${String(c.lsn).padEnd(10)} ${formatMicros(c.timestamp)}  ${plural(c.blocks, 'block')}, ${formatBytes(c.blockBytes)}`,
      );
    }
  }
  if (plan.wal === undefined) {
    lines.push('WAL replay: none');
  } else {
    const local = plan.wal.local.reduce((sum, o) => sum + o.bytes, 0);
    const remote = plan.wal.remote.reduce((sum, o) => sum + o.bytes, 0);
    lines.push(
      `WAL replay: LSN ${plan.wal.fromLsn} to ${plan.wal.toLsn}: ${plural(plan.wal.local.length, 'local segment')} (${formatBytes(local)}), ${plural(plan.wal.remote.length, 'uploaded pack')} (${formatBytes(remote)})`,
    );
  }
  lines.push(
    `Reads: ${plural(plan.objects, 'object')}, ${formatBytes(plan.bytes)}, ${plural(plan.getRequests, 'GET request')}`,
    `Estimated duration: ${plan.estimatedDurationMs} ms; ${plan.estimateNote}`,
  );
  return lines.join('\n');
}

export function formatResult(summary: RecoverySummary, out: string): string {
  const ok = summary.components.filter((c) => !c.error);
  const target =
    'lsn' in summary.target && summary.target.lsn === summary.lsn ? '' : ` (${formatTarget(summary.target)})`;
  const lines = [`Recovered ${plural(ok.length, 'component')} to LSN ${summary.lsn}${target} into ${out}`];
  const width = Math.max(12, ...summary.components.map((c) => c.componentId.length));
  for (const c of summary.components) {
    if (c.error) {
      lines.push(`  ${c.componentId.padEnd(width)}  FAILED ${c.error.code}: ${c.error.message}`);
      continue;
    }
    const from = c.fromCheckpoint === undefined ? 'the log' : `checkpoint #${c.fromCheckpoint}`;
    lines.push(
      `  ${c.componentId.padEnd(width)}  ${plural(c.keyCount ?? 0, 'key')}, ${formatBytes(c.bytes ?? 0)}; from ${from} + ${plural(c.walEntriesApplied ?? 0, 'WAL entry')}`,
    );
  }
  const s = summary.stats;
  lines.push(
    `Read ${plural(s.blocksRead, 'block')} (${formatBytes(s.bytesRead)}), replayed ${plural(s.walEntries, 'WAL entry')}; ${formatBytes(s.logicalBytes)} of state in ${Math.round(s.durationMs)} ms (verification: ${s.verificationLevel})`,
  );
  return lines.join('\n');
}
