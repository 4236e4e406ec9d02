/** The tiering benchmark's document and its printed summary (tiering-bench.ts measures; this only reports). */
import type { QueueResult } from './tiering-bench-queue';
import { totalOf } from './tiering-bench-store';
import type { SteadyResult } from './tiering-bench-steady';
import type { UploadCaseResult } from './tiering-bench-upload';

export type Skipped = { skipped: string };

export interface TieringBenchDocument {
  benchmark: 'tiering';
  date: string;
  quick: boolean;
  machine: {
    cpus: number;
    cpuModel: string;
    totalMemoryBytes: number;
    platform: string;
    release: string;
    arch: string;
    node: string;
    loadAverageAtStart: number[];
    loadAverageAtEnd?: number[];
    tempDir: string;
  };
  upload: { local: UploadCaseResult[]; s3rver: UploadCaseResult[] | Skipped };
  steady: SteadyResult | undefined;
  queue: { inProcess: QueueResult[]; bullmq: QueueResult[] | Skipped };
}

function table(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: string[]): string =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of rows) console.log(line(row));
}

const f1 = (n: number): string => n.toFixed(1);
const f3 = (n: number): string => n.toFixed(3);
const int = (n: number): string => Math.round(n).toLocaleString('en-US');

function uploadRows(results: UploadCaseResult[]): string[][] {
  return results.map((r) => [
    `${r.store} ${r.name}`,
    f1(r.bytes / 1e6),
    `${r.segments}/${r.packs}`,
    f1(r.mbPerSec),
    f1(r.phases.check.mbPerSec),
    f1(r.phases.put.mbPerSec),
    f1(r.phases.readBack.mbPerSec),
    f1((r.phases.record.seconds * 1000) / Math.max(1, r.packs)),
    f3(r.putsPerMiB),
    r.s3 ? `${f3(r.s3.writeRequestsPerMiB)} (${r.s3.parts} parts)` : '',
    r.allVerified ? 'yes' : 'NO',
  ]);
}

export function printTieringSummary(doc: TieringBenchDocument): void {
  console.log('Upload: SegmentShipper.ship({ flush: true }) of sealed segments (MB = 10^6 bytes)');
  const s3 = doc.upload.s3rver;
  table(
    [
      'store / shape',
      'MB',
      'segs/packs',
      'MB/s',
      'check MB/s',
      'PUT MB/s',
      'read-back MB/s',
      'record ms/pack',
      'PUTs/MiB',
      'S3 PUT-class req/MiB',
      'verified',
    ],
    uploadRows([...doc.upload.local, ...(Array.isArray(s3) ? s3 : [])]),
  );
  if (!Array.isArray(s3)) console.log(`s3rver: ${s3.skipped}`);
  console.log(
    'MB/s: whole ship() wall time, 2 packs at a time. Phase MB/s: bytes ÷ time summed over packs (check: a\n' +
      'separate sequential pass over the same files; read-back: GET streamed to its end with crc32c).',
  );

  const steady = doc.steady;
  if (steady) {
    const k = steady.requestsByKind;
    console.log(
      `\nSteady run: ${steady.simulatedSeconds} simulated s in ${f1(steady.realSeconds)} s real, ` +
        `${int(steady.entries)} entries, ${f1(steady.walBytes / 1e6)} MB of log, ` +
        `${steady.segmentsSealed} segments sealed, ` +
        `${f1(steady.uploadedBytes / 1e6)} MB shipped in ${steady.packsUploaded} packs ` +
        `(${steady.segmentsPending} sealed segments waiting at the end)`,
    );
    table(
      ['requests', 'total', 'wal', 'blocks', 'manifests', 'other'],
      (['PUT', 'GET', 'HEAD', 'LIST', 'DELETE'] as const).map((op) => [
        op === 'LIST' ? 'LIST (goal 0)' : op === 'DELETE' ? 'DELETE (keys)' : op,
        int(op === 'DELETE' ? totalOf(k.DELETE) : steady.requests[op]),
        int(k[op].wal),
        int(k[op].blocks),
        int(k[op].manifests),
        int(k[op].other),
      ]),
    );
    const c = steady.checkpoints;
    const { retention, gc } = steady;
    console.log(
      [
        `checkpoints: ${c.full} full + ${c.incremental} incremental taken, ${c.merged} chain merges, ` +
          `${c.inCatalogAtEnd} in the catalog at the end`,
        `retention: expired ${retention.expiredCheckpoints} checkpoints and ${retention.deletedWalPacks} WAL packs`,
        `GC: deleted ${gc.deletedBlocks} blocks (${gc.waitingBlocks} in their grace period at its last run), ` +
          `full sweeps run: ${gc.fullSweepRuns}`,
        `local WAL segments deleted: ${steady.localSegments.deleted}; ` +
          `DELETE: ${int(steady.requests.DELETE)} calls for ${int(totalOf(k.DELETE))} keys`,
        `PUTs per MiB of log shipped: ${f3(steady.walPutsPerMiB)} (WAL packs), ` +
          `${f3(steady.allPutsPerMiBOfLog)} (all PUTs, checkpoints included: ` +
          `${f1(steady.checkpointBytesPut / 1e6)} MB of blocks and manifests)`,
      ].join('\n'),
    );
    table(
      ['jobs', 'runs', 'failed', 'skipped', 'busy s'],
      Object.entries(steady.jobs).map(([name, j]) => [
        name,
        int(j.runs),
        int(j.failures),
        int(j.skippedNotHolder),
        f1(j.seconds),
      ]),
    );
  }

  console.log('\nQueue path: trivial jobs enqueued in a burst, then drained');
  const bull = doc.queue.bullmq;
  table(
    ['queue', 'jobs', 'concurrency', 'enqueue in flight', 'enqueue/s', 'jobs/s (enqueue→drained)'],
    [...doc.queue.inProcess, ...(Array.isArray(bull) ? bull : [])].map((q) => [
      q.queue,
      int(q.jobs),
      String(q.concurrency),
      String(q.enqueueInFlight),
      int(q.enqueuePerSec),
      int(q.jobsPerSec),
    ]),
  );
  if (!Array.isArray(bull)) console.log(`bullmq: ${bull.skipped}`);
}
