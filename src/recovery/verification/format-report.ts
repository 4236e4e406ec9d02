import type { VerificationReport, VerifyFault } from './verify-report';
import { formatBytes } from './verify-util';

/**
 * The report as text, one line per checkpoint (id, kind, parent, LSN, OK or FAULT) with each fault on an
 * indented line below it (code, object key, message), then one line per WAL pack, then the totals and
 * the verdict:
 *
 *   checkpoints (3)
 *     1  full         parent -  lsn 1200  OK
 *     2  incremental  parent 1  lsn 1800  FAULT: CHECKSUM_MISMATCH
 *          CHECKSUM_MISMATCH  tidemark/blocks/9f/9f…: checkpoint 2: block 9f…: crc32c of the stored bytes does not match
 *   WAL packs (1)
 *     tidemark/wal/node-1/…1-…2000.seg  LSN 1–2000  40.1 KiB  OK
 *   totals: …
 *   RESULT: FAULT — 1 fault
 */
export function formatReport(report: VerificationReport, where?: string): string {
  const lines: string[] = [];
  const scope = report.nodeId === undefined ? 'every node' : `node ${report.nodeId}`;
  lines.push(
    `verify ${where ?? 'store'}: prefix ${report.prefix}, level ${report.level}, checkpoints from the ${report.source}, WAL of ${scope}`,
  );

  lines.push(`checkpoints (${report.checkpoints.length})`);
  const ids = report.checkpoints.map((c) => String(c.id));
  const parents = report.checkpoints.map((c) => (c.parentId == null ? '-' : String(c.parentId)));
  const lsns = report.checkpoints.map((c) => (c.lsn === undefined ? '?' : String(c.lsn)));
  const idWidth = width(ids);
  const parentWidth = width(parents);
  const lsnWidth = width(lsns);
  report.checkpoints.forEach((c, i) => {
    const kind = (c.kind ?? '?').padEnd(11);
    lines.push(
      `  ${ids[i]!.padStart(idWidth)}  ${kind}  parent ${parents[i]!.padEnd(parentWidth)}  lsn ${lsns[i]!.padEnd(lsnWidth)}  ${verdict(c.status, c.faults)}`,
    );
    for (const fault of c.faults) lines.push(faultLine(fault));
  });

  lines.push(`WAL packs (${report.walPacks.length})`);
  const keyWidth = width(report.walPacks.map((p) => p.key));
  for (const p of report.walPacks) {
    const range = p.firstLsn === undefined ? 'LSN ?' : `LSN ${p.firstLsn}–${p.lastLsn}`;
    const entries = report.level === 'full' ? `  ${p.entries} entries` : '';
    lines.push(
      `  ${p.key.padEnd(keyWidth)}  ${range}  ${formatBytes(p.size)}${entries}  ${verdict(p.status, p.faults)}`,
    );
    for (const fault of p.faults) lines.push(faultLine(fault));
  }

  if (report.other.length > 0) {
    lines.push(`other (${report.other.length})`);
    for (const fault of report.other) lines.push(faultLine(fault));
  }

  const t = report.totals;
  const blocks =
    report.level === 'basic'
      ? 'present with their sizes'
      : `${t.blocksRead} reads checked, ${formatBytes(t.bytesRead)} read with the WAL packs`;
  const entries = report.level === 'full' ? `, ${t.walEntries} WAL entries checked` : '';
  lines.push(
    `totals: ${t.checkpoints} checkpoints (${t.faultyCheckpoints} with faults), ${t.blocks} blocks of ${formatBytes(t.blockBytes)} (${blocks}), ${t.walPacks} WAL packs (${t.faultyWalPacks} with faults)${entries}; ${(report.durationMs / 1000).toFixed(1)} s`,
  );
  lines.push(report.ok ? 'RESULT: OK' : `RESULT: FAULT — ${t.faults} fault${t.faults === 1 ? '' : 's'}`);
  return lines.join('\n');
}

function width(values: readonly string[]): number {
  return values.reduce((max, v) => Math.max(max, v.length), 0);
}

function verdict(status: string, faults: readonly VerifyFault[]): string {
  if (status === 'ok') return 'OK';
  return `FAULT: ${[...new Set(faults.map((f) => f.code))].join(', ')}`;
}

function faultLine(fault: VerifyFault): string {
  return `       ${fault.code}${fault.key === undefined ? '' : `  ${fault.key}`}: ${fault.message}`;
}
