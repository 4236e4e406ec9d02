import { type ChildProcess, spawn } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { get } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import request from 'supertest';
import { SegmentedWal, put, type LogRecord } from '../../../src/wal';
import { CLI, ensureBuilt, ROOT } from '../../support/ensure-built';

/** The built CLI, spawned as a user would run it. */

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function start(
  args: string[],
  env: Record<string, string> = {},
): { child: ChildProcess; done: Promise<Run> } {
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const done = new Promise<Run>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
  return { child, done };
}

const run = (args: string[], env?: Record<string, string>) => start(args, env).done;

let dir: string;

beforeAll(() => ensureBuilt());

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'tidemark-cli-'));
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** A WAL with a sealed segment of 15 entries and an active one of 5. */
async function writeWal(walDir: string): Promise<void> {
  const wal = await SegmentedWal.open(walDir);
  const entry = (sequence: number) => ({
    componentId: 'window_processor_1',
    sequence,
    timestamp: 1_700_000_000_000_000 + sequence,
    changes: [put(`key-${sequence}`, Buffer.alloc(64, sequence))],
  });
  await wal.appendBatch(Array.from({ length: 15 }, (_, i) => entry(i + 1)));
  await wal.seal();
  await wal.appendBatch(Array.from({ length: 5 }, (_, i) => entry(i + 16)));
  await wal.close();
}

function segmentFiles(walDir: string): string[] {
  return readdirSync(walDir)
    .filter((name) => /^\d+\.wal$/.test(name))
    .sort()
    .map((name) => path.join(walDir, name));
}

function flipByte(file: string, offset: number): void {
  const fd = openSync(file, 'r+');
  try {
    const byte = Buffer.alloc(1);
    readSync(fd, byte, 0, 1, offset);
    byte[0] ^= 0x40;
    writeSync(fd, byte, 0, 1, offset);
  } finally {
    closeSync(fd);
  }
}

describe('tidemark wal inspect', () => {
  it('prints the segments and the entry count of a healthy WAL, exit 0', async () => {
    await writeWal(dir);
    const result = await run(['wal', 'inspect', dir]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('2 segment(s), 20 entries');
    expect(result.stdout).toContain('LSN range');
  });

  it('inspects a single segment file', async () => {
    await writeWal(dir);
    const result = await run(['wal', 'inspect', segmentFiles(dir)[0]]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('15 entries');
  });

  it('reports a corrupted sealed segment and exits 1', async () => {
    await writeWal(dir);
    const sealed = segmentFiles(dir)[0];
    flipByte(sealed, Math.floor(statSync(sealed).size / 2));
    const result = await run(['wal', 'inspect', dir]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('CORRUPT');
  });

  it('exits 2 with one line for a path that does not exist; the stack only with --debug', async () => {
    const missing = path.join(dir, 'nope');
    const result = await run(['wal', 'inspect', missing]);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(`tidemark: INVALID_ARGUMENT: ${missing}: no such file or directory\n`);
    const debug = await run(['--debug', 'wal', 'inspect', missing]);
    expect(debug.code).toBe(2);
    expect(debug.stderr).toMatch(/^tidemark: INVALID_ARGUMENT: .*\n.*\n\s+at /);
  });

  it('refuses a directory that holds no WAL, instead of reporting that all of nothing checks', async () => {
    writeFileSync(path.join(dir, 'notes.txt'), 'not a WAL');
    const result = await run(['wal', 'inspect', dir]);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(
      `tidemark: INVALID_ARGUMENT: ${dir} is not a WAL directory: it holds no segment files (*.wal)\n`,
    );
  });
});

/** Every line a server wrote to stdout is a JSON log line (no Nest banner, no colours). */
function expectJsonLines(stdout: string): void {
  for (const line of stdout.split('\n').filter((l) => l !== '')) {
    expect(() => JSON.parse(line) as unknown).not.toThrow();
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address !== null ? resolve(address.port) : reject(),
      );
    });
  });
}

function httpStatus(url: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    const req = get(url, (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.on('error', () => resolve(undefined));
  });
}

/** Polls until the server answers /health, or fails if the process exits first. */
async function waitHealthy(port: number, exited: Promise<Run>): Promise<void> {
  let gone: Run | undefined;
  void exited.then((r) => (gone = r));
  for (;;) {
    if (gone !== undefined) throw new Error(`server exited early: ${JSON.stringify(gone)}`);
    if ((await httpStatus(`http://127.0.0.1:${port}/health`)) === 200) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('tidemark serve', () => {
  it('exits non-zero naming the key and the variable of a bad value', async () => {
    const result = await run(['serve'], { DATA_DIR: dir, TIDEMARK_WAL_SEGMENT_SIZE: 'abc' });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('CONFIG_INVALID');
    expect(result.stderr).toContain(
      'wal.segmentSize (TIDEMARK_WAL_SEGMENT_SIZE): expected a positive integer',
    );
  });

  it('exits non-zero naming the key of a bad value in the --config file', async () => {
    const file = path.join(dir, 'tidemark.yaml');
    writeFileSync(file, 'server:\n  prot: 1\n');
    const result = await run(['serve', '--config', file], { DATA_DIR: dir });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(`server.prot (${file}): unknown key`);
  });

  it('serves, refuses a second server on the same data, and closes the WAL on SIGTERM', async () => {
    const port = await freePort();
    const server = start(['serve'], { DATA_DIR: dir, PORT: String(port) });
    let lastLsn: number;
    try {
      await waitHealthy(port, server.done);
      const appended = await request(`http://127.0.0.1:${port}`)
        .post('/v1/wal/entries')
        .send({ entries: [{ componentId: 'c1', sequence: 1, changes: [{ op: 'clear' }] }] })
        .expect(201);
      lastLsn = (appended.body as { lastLsn: number }).lastLsn;

      const second = await run(['serve'], { DATA_DIR: dir, PORT: String(await freePort()) });
      expect(second.code).toBe(1);
      expect(second.stderr).toMatch(
        /^tidemark: LOCKED: data directory .* is already open by process \d+; only one node may open it\n$/,
      );
      expectJsonLines(second.stdout);

      const samePort = await run(['serve'], { DATA_DIR: path.join(dir, 'other'), PORT: String(port) });
      expect(samePort.code).toBe(1);
      expect(samePort.stderr).toBe(
        `tidemark: ADDRESS_IN_USE: cannot listen on 127.0.0.1:${port}: another process listens there (set PORT or server.port)\n`,
      );
      expectJsonLines(samePort.stdout);
      expect(existsSync(path.join(dir, 'other', 'wal', 'LOCK'))).toBe(false);
    } finally {
      server.child.kill('SIGTERM');
    }
    const result = await server.done;
    // Nest closes the app, then re-raises the signal: a clean exit on SIGTERM looks like death by SIGTERM.
    expect(result.code === 0 || result.signal === 'SIGTERM').toBe(true);
    expect(result.stderr).toBe('');

    const walDir = path.join(dir, 'wal');
    expect(existsSync(path.join(walDir, 'LOCK'))).toBe(false); // released by close(), not left by a crash
    const wal = await SegmentedWal.open(walDir);
    try {
      const records: LogRecord[] = [];
      for await (const record of wal.read()) records.push(record);
      expect(records.map((r) => [r.lsn, r.entry.componentId])).toEqual([[lastLsn, 'c1']]);
    } finally {
      await wal.close();
    }
  });
});
