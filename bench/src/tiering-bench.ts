/**
 * `npm run bench:tiering` (figures to bench/results/tiering.json):
 *   1. upload throughput of the segment shipper to the local store (fsynced), MB/s of WAL shipped and
 *      verified, with its phases (segment check, PUT, read-back, record);
 *   2. the same to s3rver (skipped when s3rver, a dev dependency, is not installed);
 *   3. PUTs per MiB of log shipped, small segments packed (1 MiB segments, 8 MiB packs) and large ones
 *      (64 MiB segments, multipart in 8 MiB parts on S3; parts counted at the SDK);
 *   4. store requests — LIST above all, goal 0 — in a steady 10-minute-equivalent run of a whole node;
 *   5. jobs/s of the queue path: in process, and BullMQ on a redis-server started here (skipped when
 *      redis-server is not on PATH).
 * A benchmark, not a test: nothing here asserts anything.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { printTieringSummary, type TieringBenchDocument } from './tiering-bench-report';
import { bullMqJobsPerSec, inProcessJobsPerSec, type QueueResult } from './tiering-bench-queue';
import { startRedis, startS3rver } from './tiering-bench-servers';
import { runSteady, type SteadyOptions } from './tiering-bench-steady';
import {
  localTarget,
  MiB,
  runUploadCase,
  s3rverTarget,
  type UploadCase,
  type UploadCaseResult,
} from './tiering-bench-upload';

export interface TieringBenchOptions {
  /** Where the temporary directories go (default: the OS temp dir). */
  dir?: string;
  /** JSON result file (default bench/results/tiering.json, relative to the working directory). */
  out?: string;
  /** Smaller volumes and a lighter steady run, to check the benchmark works; its figures are rough. */
  quick?: boolean;
}

/** The shapes of log shipped: packed small segments, mid-size segments, large (multipart on S3) ones. */
function uploadCases(volumeBytes: number): UploadCase[] {
  return [
    { name: 'small: 1 MiB segments, 8 MiB packs', segmentSize: MiB, packTargetBytes: 8 * MiB, volumeBytes },
    { name: 'medium: 16 MiB segments', segmentSize: 16 * MiB, packTargetBytes: 8 * MiB, volumeBytes },
    { name: 'large: 64 MiB segments', segmentSize: 64 * MiB, packTargetBytes: 8 * MiB, volumeBytes },
  ];
}

function machine(root: string) {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? 'unknown',
    totalMemoryBytes: os.totalmem(),
    platform: os.platform(),
    release: os.release(),
    arch: os.arch(),
    node: process.version,
    loadAverageAtStart: os.loadavg(),
    tempDir: root,
  };
}

export async function runTieringBench(options: TieringBenchOptions = {}): Promise<void> {
  const quick = options.quick ?? false;
  const root = options.dir ?? os.tmpdir();
  const out = path.resolve(options.out ?? path.join('bench', 'results', 'tiering.json'));
  await fs.promises.mkdir(root, { recursive: true });
  const document: TieringBenchDocument = {
    benchmark: 'tiering',
    date: new Date().toISOString(),
    quick,
    machine: machine(root),
    upload: { local: [], s3rver: [] },
    steady: undefined,
    queue: { inProcess: [], bullmq: [] },
  };
  const m = document.machine;
  console.log(
    `bench tiering${quick ? ' (quick)' : ''}: ${m.cpus} CPUs, Node ${m.node}, ` +
      `load ${m.loadAverageAtStart.map((l) => l.toFixed(2)).join(' ')}`,
  );

  // 1 and 3: the local store.
  for (const spec of uploadCases(quick ? 32 * MiB : 256 * MiB)) {
    const storeDir = await fs.promises.mkdtemp(path.join(root, 'tidemark-bench-store-'));
    try {
      const result = await runUploadCase(root, spec, localTarget(storeDir));
      document.upload.local.push(result);
      logUpload(result);
    } finally {
      await fs.promises.rm(storeDir, { recursive: true, force: true });
    }
  }

  // 2 and 3: s3rver.
  const s3rver = await startS3rver();
  if ('skipped' in s3rver) {
    document.upload.s3rver = { skipped: s3rver.skipped };
    console.log(`  s3rver: ${s3rver.skipped}`);
  } else {
    try {
      for (const spec of uploadCases(quick ? 16 * MiB : 128 * MiB)) {
        const target = await s3rverTarget(s3rver.server.url, 8 * MiB);
        try {
          const result = await runUploadCase(root, spec, target);
          (document.upload.s3rver as UploadCaseResult[]).push(result);
          logUpload(result);
        } finally {
          await target.close();
        }
      }
    } finally {
      await s3rver.server.stop();
    }
  }

  // 4: a whole node, 600 simulated seconds.
  const steady: SteadyOptions = {
    simulatedSeconds: 600,
    entriesPerSecond: quick ? 200 : 1000,
    components: 8,
    keysPerComponent: quick ? 1024 : 4096,
    segmentSize: MiB,
    packTargetBytes: 8 * MiB,
  };
  console.log(
    `  steady run: 600 simulated s, ${steady.entriesPerSecond} entries/s, ` +
      `${steady.segmentSize / MiB} MiB segments …`,
  );
  document.steady = await runSteady(root, steady);
  const counted = document.steady.requests;
  console.log(`  steady run: ${document.steady.realSeconds.toFixed(1)} s real, LIST ${counted.LIST}`);

  // 5: the queue path.
  const inProcess: QueueResult[] = document.queue.inProcess;
  for (const jobs of quick ? [1000, 5000] : [1000, 10_000, 20_000]) {
    inProcess.push(await inProcessJobsPerSec(jobs));
    logQueue(inProcess[inProcess.length - 1]!);
  }
  inProcess.push(await inProcessJobsPerSec(quick ? 5000 : 20_000, 16));
  logQueue(inProcess[inProcess.length - 1]!);
  const redis = await startRedis();
  if ('skipped' in redis) {
    document.queue.bullmq = { skipped: redis.skipped };
    console.log(`  bullmq: ${redis.skipped}`);
  } else {
    try {
      const jobs = quick ? 1000 : 5000;
      const bull: QueueResult[] = [];
      for (const [uploads, inFlight] of [
        [2, 1],
        [2, 64],
        [16, 64],
      ] as const) {
        bull.push(await bullMqJobsPerSec(redis.server.url, jobs, uploads, inFlight));
        logQueue(bull[bull.length - 1]!);
      }
      document.queue.bullmq = bull;
    } finally {
      await redis.server.stop();
    }
  }

  document.machine.loadAverageAtEnd = os.loadavg();
  console.log('');
  printTieringSummary(document);
  await fs.promises.mkdir(path.dirname(out), { recursive: true });
  await fs.promises.writeFile(out, `${JSON.stringify(document, null, 2)}\n`);
  console.log(`written ${out}`);
}

function logUpload(r: UploadCaseResult): void {
  console.log(`  ${r.store} ${r.name}: ${r.mbPerSec.toFixed(1)} MB/s, ${r.packs} packs`);
}

function logQueue(r: QueueResult): void {
  console.log(
    `  ${r.queue} ${r.jobs} jobs (concurrency ${r.concurrency}): ${Math.round(r.jobsPerSec)} jobs/s`,
  );
}
