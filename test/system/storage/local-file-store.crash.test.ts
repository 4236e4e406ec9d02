/**
 * Crash test of the local object store: a crash never leaves a partial object under its real name.
 *
 * Each round spawns test/system/storage/crash/store-crash-child.js (the BUILT library) on one directory; two writers
 * put self-checking 1-6 MiB objects — streams, body factories, Buffers, create-if-absent — replacing a few
 * keys over and over. Every other round ("hang") a streamed body stops in its middle and the parent SIGKILLs
 * the child as soon as it says so, so the kill is certain to land while a temporary file is half written; the
 * other rounds ("free") kill it just after the n-th put began, wherever the writers then are. After each kill
 * the parent opens a new store on the directory and checks: every listed object reads back complete (its
 * length and sha256 check); every acknowledged put's key exists; the temporary files the crash left are not
 * listed, and `init` removes them.
 *
 *   TIDEMARK_STORE_CRASH_ROUNDS  rounds (default 8)
 *   TIDEMARK_STORE_CRASH_SEED    seed of the children's choices and of the kill points (default: random)
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { getBuffer, LocalFileStore } from '../../../src/storage';
import { ensureBuilt } from '../../support/ensure-built';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const child = require('./crash/store-crash-child.js') as { isComplete(body: Buffer): boolean };

const CHILD_SCRIPT = path.join(__dirname, 'crash', 'store-crash-child.js');
const ROUNDS = Number(process.env.TIDEMARK_STORE_CRASH_ROUNDS ?? 8);
const SEED = Number(process.env.TIDEMARK_STORE_CRASH_SEED ?? Math.floor(Math.random() * 2 ** 31));

interface Round {
  acked: Set<string>;
  stderr: string;
  signal: NodeJS.Signals | null;
}

/** Runs one child until the kill point: the first `M` line ("hang"), or the `killAtStart`-th `S` line. */
function runChild(dir: string, seed: number, mode: 'hang' | 'free', killAtStart: number): Promise<Round> {
  const proc = spawn(process.execPath, [CHILD_SCRIPT, dir, String(seed), mode], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const acked = new Set<string>();
  let stderr = '';
  let starts = 0;
  proc.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  createInterface({ input: proc.stdout }).on('line', (line) => {
    const [event, key] = line.split(' ');
    if (event === 'D') acked.add(key);
    if (event === 'S') starts++;
    if ((mode === 'hang' && event === 'M') || (mode === 'free' && event === 'S' && starts === killAtStart)) {
      proc.kill('SIGKILL');
    }
  });
  return new Promise((resolve) => proc.on('exit', (_code, signal) => resolve({ acked, stderr, signal })));
}

function tempFilesUnder(dir: string): string[] {
  return (fs.readdirSync(dir, { recursive: true, withFileTypes: true }) as fs.Dirent[])
    .filter((entry) => entry.isFile() && entry.name.endsWith('.tmp'))
    .map((entry) => path.join(entry.parentPath, entry.name));
}

describe('LocalFileStore under kill -9', () => {
  let dir: string;

  beforeAll(() => {
    ensureBuilt();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tidemark-store-crash-'));
  });

  afterAll(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it(`never shows a partial object (${ROUNDS} rounds, seed ${SEED})`, async () => {
    const everAcked = new Set<string>();
    let leftoversSeen = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const mode = round % 2 === 0 ? 'hang' : 'free';
      const killAtStart = 2 + ((SEED + round * 7) % 9);
      const run = await runChild(dir, SEED + round * 2, mode, killAtStart);
      const context = `seed ${SEED}, round ${round} (${mode}): ${run.stderr}`;
      expect({ context, signal: run.signal }).toEqual({ context, signal: 'SIGKILL' });
      for (const key of run.acked) everAcked.add(key);

      const leftovers = tempFilesUnder(dir);
      if (mode === 'hang')
        expect({ context, leftovers: leftovers.length > 0 }).toEqual({ context, leftovers: true });
      leftoversSeen += leftovers.length;

      const store = new LocalFileStore({ basePath: dir });
      const listed: string[] = [];
      for await (const object of store.list('')) {
        expect(object.key.split('/').some((segment) => segment.startsWith('.'))).toBe(false);
        const body = await getBuffer(store, object.key);
        expect({ context, key: object.key, complete: child.isComplete(body) }).toEqual({
          context,
          key: object.key,
          complete: true,
        });
        expect(body.length).toBe(object.size);
        listed.push(object.key);
      }
      for (const key of everAcked)
        expect({ context, key, present: listed.includes(key) }).toMatchObject({ present: true });
      expect(tempFilesUnder(dir)).toEqual([]); // list ran init: the crash's leftovers are gone
    }
    expect(everAcked.size).toBeGreaterThan(0);
    expect(leftoversSeen).toBeGreaterThanOrEqual(Math.ceil(ROUNDS / 2));
  });
});
