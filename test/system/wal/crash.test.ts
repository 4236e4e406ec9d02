/**
 * Crash test of the WAL (invariant 1 of docs/design.md, and batch atomicity).
 *
 * Each round spawns test/system/wal/crash/wal-crash-child.js on one directory; the child appends with enableSync
 * (single appends and batches, several in flight, small segments so rotations happen) and prints every
 * acknowledged LSN. The parent SIGKILLs it a random 20–200 ms after it has opened the WAL, or in one round
 * in ten a random 0–50 ms after it begins to open it (inside open and its recovery, or just after). Then it
 * reopens the WAL in this process and checks: every acknowledged entry reads back identical at its LSN;
 * LSNs are dense; every batch found is complete and contiguous; per component sequences rise; an append
 * after reopen gets lastLsn + 1. At the end one full read checks every entry acknowledged in any round.
 *
 *   TIDEMARK_CRASH_ROUNDS  rounds (default 200, ~1.5 min on 2 cores; 1000 pass in ~20 min: rounds slow
 *                          down as segments pile up, since every open reads each segment's ends)
 *   TIDEMARK_CRASH_SEED    seed of the kill schedule and of the child's choices (default: random, printed
 *                          on failure; timing still varies between runs)
 *
 * The child runs the BUILT library (dist/wal); if dist is missing or older than src, it is rebuilt first.
 */
import { spawn, execFileSync, type ChildProcessByStdio } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { SegmentedWal } from '../../../src/wal';
import type { DecodedEntry, LogEntry, LogRecord } from '../../../src/wal/entry';
import type { WalOptions } from '../../../src/wal/wal-options';

interface BatchTag {
  id: string;
  size: number;
  index: number;
}

interface CrashChild {
  COMPONENTS: readonly string[];
  walOptions(): Partial<WalOptions>;
  entryFor(componentId: string, sequence: number, batch?: BatchTag): LogEntry;
  prng(seed: number): () => number;
}

// The child script is also the one definition of the entries both sides build.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const child = require('./crash/wal-crash-child.js') as CrashChild;

const ROOT = path.resolve(__dirname, '..', '..', '..');
const CHILD_SCRIPT = path.join(__dirname, 'crash', 'wal-crash-child.js');
const ROUNDS = Number(process.env.TIDEMARK_CRASH_ROUNDS ?? 200);
const SEED = Number(process.env.TIDEMARK_CRASH_SEED ?? Math.floor(Math.random() * 2 ** 32));
const PROBE = 'parent.probe';

interface Ack {
  lsn: number;
  componentId: string;
  sequence: number;
  batch?: BatchTag;
}

interface ChildRun {
  acks: Ack[];
  /** lastLsn the child saw on open, if it got that far. */
  openedAt?: number;
  stderr: string;
  killedByUs: boolean;
  exit: string;
}

/** Rebuild dist when it is missing or older than any source file, so the child runs the code under test. */
function ensureBuilt(): void {
  const built = path.join(ROOT, 'dist', 'wal', 'index.js');
  const builtAt = fs.existsSync(built) ? fs.statSync(built).mtimeMs : 0;
  const newest = (dir: string): number =>
    fs.readdirSync(dir, { withFileTypes: true }).reduce((max, e) => {
      const p = path.join(dir, e.name);
      return Math.max(max, e.isDirectory() ? newest(p) : fs.statSync(p).mtimeMs);
    }, 0);
  if (builtAt < newest(path.join(ROOT, 'src'))) {
    execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json'], {
      cwd: ROOT,
      stdio: 'pipe',
    });
  }
}

function parseAck(line: string): Ack {
  const [, lsn, componentId, sequence, batchId, batchSize, batchIndex] = line.split(' ');
  const ack: Ack = { lsn: Number(lsn), componentId: componentId!, sequence: Number(sequence) };
  if (batchId !== '-') ack.batch = { id: batchId!, size: Number(batchSize), index: Number(batchIndex) };
  return ack;
}

/**
 * One child process, spawned ahead of its round: it loads the library and waits. `start` sends it the
 * start line, then SIGKILLs it `afterOpenMs` after it reports the WAL open, or `duringOpenMs` after it
 * reports that it begins to open it.
 */
class CrashChildProcess {
  private readonly proc: ChildProcessByStdio<Writable, Readable, Readable>;
  private readonly closed: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private stdout = '';
  private stderr = '';
  private killedByUs = false;
  private onOutput?: () => void;

  constructor(dir: string, seed: number, round: number) {
    this.proc = spawn(process.execPath, [CHILD_SCRIPT, dir, String(seed), String(round)], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.proc.stdout.setEncoding('utf8');
    this.proc.stdout.on('data', (chunk: string) => {
      this.stdout += chunk;
      this.onOutput?.();
    });
    this.proc.stderr.setEncoding('utf8');
    this.proc.stderr.on('data', (chunk: string) => (this.stderr += chunk));
    // A child that ended early gets EPIPE here; its exit status tells the story.
    this.proc.stdin.on('error', () => undefined);
    this.closed = new Promise((resolve, reject) => {
      this.proc.on('error', reject);
      this.proc.on('close', (code, signal) => resolve({ code, signal }));
    });
  }

  kill(): void {
    this.killedByUs = true;
    this.proc.kill('SIGKILL');
  }

  async start(
    lastSequences: Record<string, number>,
    plan: { afterOpenMs?: number; duringOpenMs?: number },
  ): Promise<ChildRun> {
    const timers: NodeJS.Timeout[] = [];
    const killLater = (ms: number): void => void timers.push(setTimeout(() => this.kill(), ms));
    // A child that never gets going is a failure, not a hang.
    killLater(30_000);
    const [marker, delay] =
      plan.duringOpenMs !== undefined ? ['S\n', plan.duringOpenMs] : ['\nR ', plan.afterOpenMs ?? 0];
    this.onOutput = () => {
      if (!this.stdout.includes(marker)) return;
      this.onOutput = undefined;
      killLater(delay);
    };
    this.proc.stdin.write(`${JSON.stringify({ lastSequences })}\n`);
    const { code, signal } = await this.closed;
    for (const timer of timers) clearTimeout(timer);

    // Only whole lines count: a line cut by the kill was never fully reported.
    const lines = this.stdout.slice(0, this.stdout.lastIndexOf('\n') + 1).split('\n');
    const acks: Ack[] = [];
    let openedAt: number | undefined;
    for (const line of lines) {
      if (line.startsWith('A ')) acks.push(parseAck(line));
      else if (line.startsWith('R ')) openedAt = Number(line.slice(2));
    }
    return {
      acks,
      openedAt,
      stderr: this.stderr,
      killedByUs: this.killedByUs && signal === 'SIGKILL',
      exit: `code=${code} signal=${signal}`,
    };
  }
}

function toBuffer(bytes: Buffer | Uint8Array | string): Buffer {
  return typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : Buffer.from(bytes);
}

/** Where a decoded entry differs from the entry that was appended, or undefined when identical. */
function mismatch(actual: DecodedEntry, expected: LogEntry): string | undefined {
  if (actual.componentId !== expected.componentId) return `componentId ${actual.componentId}`;
  if (actual.sequence !== expected.sequence) return `sequence ${actual.sequence}`;
  if (actual.timestamp !== expected.timestamp)
    return `timestamp ${actual.timestamp} != ${expected.timestamp}`;
  if (actual.changes.length !== expected.changes.length) return `${actual.changes.length} changes`;
  for (let i = 0; i < expected.changes.length; i++) {
    const a = actual.changes[i]!;
    const e = expected.changes[i]!;
    if (a.op !== e.op) return `change ${i}: op ${a.op} != ${e.op}`;
    if (a.op !== 'clear' && e.op !== 'clear') {
      if (!Buffer.isBuffer(a.key) || !a.key.equals(toBuffer(e.key))) return `change ${i}: key`;
    }
    if (a.op === 'put' && e.op === 'put') {
      if (!Buffer.isBuffer(a.value) || !a.value.equals(toBuffer(e.value))) return `change ${i}: value`;
    }
  }
  const am = JSON.stringify(Object.entries(actual.metadata ?? {}).sort());
  const em = JSON.stringify(Object.entries(expected.metadata ?? {}).sort());
  if (am !== em) return `metadata ${am} != ${em}`;
  return undefined;
}

function batchTagOf(entry: DecodedEntry): BatchTag | undefined {
  const m = entry.metadata;
  if (m?.batchId === undefined) return undefined;
  return { id: m.batchId, size: Number(m.batchSize), index: Number(m.batchIndex) };
}

/** What reading a stretch of the log found. */
interface ReadSummary {
  first?: number;
  last?: number;
  count: number;
  ackedFound: number;
}

/**
 * Reads the log from `fromLsn` to its end and checks: LSNs dense from `fromLsn`; every record is the entry
 * the child (or the parent's probe) built for it; every ack at its LSN names that entry; per component
 * sequences rise; every batch present is complete and contiguous. Updates `lastSequences`, which already
 * holds the record at `fromLsn` when `firstSeen` is set.
 */
async function checkLog(
  wal: SegmentedWal,
  fromLsn: number,
  acks: ReadonlyMap<number, Ack>,
  lastSequences: Record<string, number>,
  firstSeen: boolean,
): Promise<ReadSummary> {
  const summary: ReadSummary = { count: 0, ackedFound: 0 };
  const batches = new Map<string, { size: number; lsns: number[] }>();
  let expectedLsn = fromLsn;
  for await (const record of wal.read({ fromLsn })) {
    const { lsn, entry } = record;
    if (lsn !== expectedLsn) throw new Error(`LSN gap: expected ${expectedLsn}, read ${lsn}`);
    expectedLsn++;
    summary.first ??= lsn;
    summary.last = lsn;
    summary.count++;

    const tag = batchTagOf(entry);
    const ack = acks.get(lsn);
    if (ack !== undefined) {
      summary.ackedFound++;
      const same =
        ack.componentId === entry.componentId &&
        ack.sequence === entry.sequence &&
        JSON.stringify(ack.batch) === JSON.stringify(tag);
      if (!same) {
        throw new Error(
          `LSN ${lsn} was acknowledged for ${JSON.stringify(ack)} but holds ` +
            `${entry.componentId}#${entry.sequence} ${JSON.stringify(tag)}`,
        );
      }
    }
    const diff = mismatch(entry, child.entryFor(entry.componentId, entry.sequence, tag));
    if (diff !== undefined) {
      throw new Error(`LSN ${lsn} (${entry.componentId}#${entry.sequence}) does not read back: ${diff}`);
    }
    const previous = lastSequences[entry.componentId] ?? -1;
    if (entry.sequence <= previous && !(firstSeen && lsn === fromLsn)) {
      throw new Error(`LSN ${lsn}: ${entry.componentId} sequence ${entry.sequence} after ${previous}`);
    }
    lastSequences[entry.componentId] = Math.max(previous, entry.sequence);

    if (tag !== undefined) {
      const batch = batches.get(tag.id) ?? { size: tag.size, lsns: [] };
      batches.set(tag.id, batch);
      if (batch.size !== tag.size || batch.lsns[tag.index] !== undefined) {
        throw new Error(`LSN ${lsn}: batch ${tag.id} member ${tag.index}/${tag.size} inconsistent`);
      }
      batch.lsns[tag.index] = lsn;
    }
  }
  for (const [id, batch] of batches) {
    for (let i = 0; i < batch.size; i++) {
      if (batch.lsns[i] === undefined) {
        throw new Error(
          `batch ${id} is torn: member ${i} of ${batch.size} missing (found LSNs ${batch.lsns})`,
        );
      }
      if (batch.lsns[i] !== batch.lsns[0]! + i) {
        throw new Error(`batch ${id} is not contiguous: LSNs ${batch.lsns.join(',')}`);
      }
    }
  }
  return summary;
}

describe('WAL crash safety (SIGKILL while appending with enableSync)', () => {
  let dir: string;

  beforeAll(() => {
    ensureBuilt();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tidemark-wal-crash-'));
  }, 300_000);

  it(
    `keeps every acknowledged entry across ${ROUNDS} kill -9 rounds`,
    async () => {
      const random = child.prng(SEED);
      const acks = new Map<number, Ack>();
      const lastSequences: Record<string, number> = {};
      const tally = { rounds: 0, acked: 0, unacked: 0, killedBeforeOpen: 0, tornTails: 0, segments: 0 };
      let lastLsn = 0;
      let round = 0;
      const spawnFor = (r: number): CrashChildProcess =>
        new CrashChildProcess(dir, Math.floor(random() * 2 ** 32), r);
      let next: CrashChildProcess | undefined = spawnFor(0);
      try {
        for (round = 0; round < ROUNDS; round++) {
          const early = round > 0 && random() < 0.1;
          const plan = early
            ? { duringOpenMs: Math.floor(random() * 51) }
            : { afterOpenMs: 20 + Math.floor(random() * 181) };
          const current: CrashChildProcess = next!;
          const run = await current.start(lastSequences, plan);
          // The next child starts up while this round is checked; it touches nothing until started.
          next = round + 1 < ROUNDS ? spawnFor(round + 1) : undefined;
          if (!run.killedByUs) throw new Error(`child ended by itself (${run.exit}): ${run.stderr}`);
          if (run.openedAt === undefined) tally.killedBeforeOpen++;
          else if (run.openedAt !== lastLsn) {
            throw new Error(`child opened at lastLsn ${run.openedAt}, the log ended at ${lastLsn}`);
          }
          let maxAcked = lastLsn;
          for (const ack of run.acks) {
            if (ack.lsn <= lastLsn || acks.has(ack.lsn)) {
              throw new Error(`LSN ${ack.lsn} acknowledged again (the log already ended at ${lastLsn})`);
            }
            acks.set(ack.lsn, ack);
            maxAcked = Math.max(maxAcked, ack.lsn);
          }

          const wal = await SegmentedWal.open(dir, child.walOptions());
          try {
            const stats = wal.stats();
            if (stats.recovery.truncatedBytes > 0) tally.tornTails++;
            if (stats.lastLsn < maxAcked) {
              throw new Error(`reopened at lastLsn ${stats.lastLsn}, but LSN ${maxAcked} was acknowledged`);
            }
            // Read from the previous round's last entry, so it is seen to survive this round too.
            const from = Math.max(1, lastLsn);
            const seen = await checkLog(wal, from, acks, lastSequences, lastLsn >= 1);
            const expectedCount = stats.lastLsn - from + 1;
            if (seen.count !== expectedCount || (seen.count > 0 && seen.last !== stats.lastLsn)) {
              throw new Error(
                `read ${seen.count} records from ${from}, stats say the log ends at ${stats.lastLsn}`,
              );
            }
            const roundAcks = run.acks.length;
            const previousFound = lastLsn >= 1 && acks.has(lastLsn) ? 1 : 0;
            if (seen.ackedFound - previousFound !== roundAcks) {
              throw new Error(
                `${roundAcks} entries acknowledged, ${seen.ackedFound - previousFound} read back`,
              );
            }
            tally.acked += roundAcks;
            tally.unacked += stats.lastLsn - lastLsn - roundAcks;

            // Appends continue where the log ends.
            const probe = child.entryFor(PROBE, round + 1);
            const probeLsn = await wal.append(probe);
            if (probeLsn !== stats.lastLsn + 1) {
              throw new Error(`append after reopen got LSN ${probeLsn}, expected ${stats.lastLsn + 1}`);
            }
            acks.set(probeLsn, { lsn: probeLsn, componentId: PROBE, sequence: round + 1 });
            const back: LogRecord[] = [];
            for await (const r of wal.read({ fromLsn: probeLsn })) back.push(r);
            if (
              back.length !== 1 ||
              back[0]!.lsn !== probeLsn ||
              mismatch(back[0]!.entry, probe) !== undefined
            ) {
              throw new Error(`the probe appended at LSN ${probeLsn} does not read back`);
            }
            lastSequences[PROBE] = round + 1;
            lastLsn = probeLsn;
          } finally {
            await wal.close();
          }
          tally.rounds++;
        }

        // Everything acknowledged in any round, read in one pass from the start of the log.
        const wal = await SegmentedWal.open(dir, child.walOptions());
        try {
          tally.segments = wal.stats().segments;
          const all = await checkLog(wal, 1, acks, {}, false);
          expect(all.first).toBe(1);
          expect(all.last).toBe(lastLsn);
          expect(all.count).toBe(lastLsn);
          expect(all.ackedFound).toBe(acks.size);
        } finally {
          await wal.close();
        }
      } catch (error) {
        next?.kill();
        const message = error instanceof Error ? error.message : String(error);
        throw new Error(
          `${message}\n  round ${round} of ${ROUNDS}; reproduce with TIDEMARK_CRASH_SEED=${SEED}` +
            ` TIDEMARK_CRASH_ROUNDS=${ROUNDS}; WAL kept in ${dir}`,
          { cause: error },
        );
      }

      // Not a timing check: only that the rounds did exercise acknowledged appends at all.
      if (ROUNDS >= 10) expect(tally.acked).toBeGreaterThan(0);
      // One summary line, so a run shows what it covered.
      process.stdout.write(
        `wal crash test: seed ${SEED}, ${JSON.stringify(tally)}, log ends at ${lastLsn}\n`,
      );
      fs.rmSync(dir, { recursive: true, force: true });
    },
    120_000 + ROUNDS * 2_000,
  );
});
