import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import request from 'supertest';
import { SegmentedWal, type LogRecord } from '../../../src/wal';
import { freePort } from '../../support/child-server';
import { CLI, ensureBuilt, ROOT } from '../../support/ensure-built';
import { startRedis, type TestRedis } from '../../support/redis-server';
import { S3rverServer, S3RVER_CREDENTIALS } from '../../support/s3rver-server';

/**
 * `tidemark serve` ends on SIGTERM whatever Redis or the object store do: no new work once it begins, a
 * bound on every step, the WAL closed (lock released, acknowledged entries kept) — run as a user runs it.
 */

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function serve(env: Record<string, string>): { child: ChildProcess; done: Promise<Exit> } {
  const child = spawn(process.execPath, [CLI, 'serve'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const done = new Promise<Exit>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
  return { child, done };
}

async function waitHealthy(port: number, done: Promise<Exit>): Promise<void> {
  let exited: Exit | undefined;
  void done.then((e) => (exited = e));
  for (;;) {
    if (exited) throw new Error(`server exited early: ${JSON.stringify(exited)}`);
    const ok = await request(`http://127.0.0.1:${port}`)
      .get('/health')
      .then((r) => r.status === 200)
      .catch(() => false);
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}

function messages(stdout: string): string[] {
  return stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => (JSON.parse(l) as { msg: string }).msg);
}

async function readWal(dir: string): Promise<LogRecord[]> {
  const wal = await SegmentedWal.open(dir, { preallocate: false });
  try {
    const records: LogRecord[] = [];
    for await (const record of wal.read()) records.push(record);
    return records;
  } finally {
    await wal.close();
  }
}

const entries = (from: number, count: number) => ({
  entries: Array.from({ length: count }, (_, i) => ({
    componentId: 'window_1',
    sequence: from + i,
    changes: [{ op: 'put', key: Buffer.from(`k${from + i}`).toString('base64'), value: 'AAAA'.repeat(64) }],
  })),
});

let dir: string;

beforeAll(() => ensureBuilt());

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'tidemark-shutdown-'));
});

afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('tidemark serve: shutdown', () => {
  let redis: TestRedis | undefined;

  afterEach(async () => {
    await redis?.dispose();
    redis = undefined;
  });

  it('with Redis gone, SIGTERM still closes everything and releases the WAL; nothing restarts', async () => {
    redis = await startRedis();
    const port = await freePort();
    const server = serve({ DATA_DIR: dir, PORT: String(port), REDIS_URL: redis.url });
    try {
      await waitHealthy(port, server.done);
      await request(`http://127.0.0.1:${port}`).post('/v1/wal/entries').send(entries(1, 5)).expect(201);
      await redis.stop();
      server.child.kill('SIGTERM');
      // Redis comes back while the service shuts down: it must not take the lease and schedule again.
      await redis.start();
    } catch (error) {
      server.child.kill('SIGKILL');
      throw error;
    }
    const exit = await server.done;
    expect(exit.code).toBe(0);
    expect(exit.stderr).toBe('');
    const said = messages(exit.stdout);
    expect(said.slice(said.indexOf('shutting down'))).not.toContain(
      'maintenance lease acquired; scheduling maintenance',
    );
    expect(said.at(-1)).toBe('shut down');
    expect(existsSync(path.join(dir, 'wal', 'LOCK'))).toBe(false);
    expect((await readWal(path.join(dir, 'wal'))).map((r) => r.entry.sequence)).toEqual([1, 2, 3, 4, 5]);
  });

  describe('with the object store hanging mid-upload', () => {
    const s3 = new S3rverServer();

    beforeAll(() => s3.start());
    afterAll(() => s3.dispose());

    it('cuts the shutdown off at server.shutdownTimeoutMs: the WAL closes, entries kept, exit 1', async () => {
      const bucket = await s3.createBucket();
      const config = path.join(dir, 'tidemark.yaml');
      writeFileSync(
        config,
        JSON.stringify({
          wal: { segmentSize: 16384, preallocate: false },
          storage: {
            backend: 'S3',
            bucket,
            endpoint: s3.endpoint,
            forcePathStyle: true,
            // Copied: the AWS SDK marks the credentials objects it used (a `$source` field).
            accessKeyId: S3RVER_CREDENTIALS.accessKeyId,
            secretAccessKey: S3RVER_CREDENTIALS.secretAccessKey,
            checksumMode: 'WHEN_REQUIRED',
            createIfAbsent: 'check-then-put',
          },
          checkpoint: { checkpointInterval: 0 },
          tiering: { upload: { packTargetBytes: 1 << 30, maxPackDelayMs: 3_600_000 } },
        }),
      );
      const port = await freePort();
      const server = serve({
        DATA_DIR: dir,
        PORT: String(port),
        TIDEMARK_CONFIG: config,
        TIDEMARK_SHUTDOWN_TIMEOUT_MS: '1500',
      });
      try {
        await waitHealthy(port, server.done);
        const api = request(`http://127.0.0.1:${port}`);
        for (let i = 0; i < 10; i++)
          await api
            .post('/v1/wal/entries')
            .send(entries(1 + i * 20, 20))
            .expect(201);
        s3.pause();
        // Ship everything sealed now: the upload job hangs on the frozen store.
        await api.post('/v1/uploads').expect(202);
        server.child.kill('SIGTERM');
      } catch (error) {
        server.child.kill('SIGKILL');
        throw error;
      }
      const exit = await server.done;
      s3.resume();
      expect(exit.code).toBe(1);
      expect(messages(exit.stdout)).toContain(
        'the shutdown did not finish in 1500 ms: cutting the shutdown short; closing the WAL and exiting',
      );
      expect(existsSync(path.join(dir, 'wal', 'LOCK'))).toBe(false);
      const records = await readWal(path.join(dir, 'wal'));
      expect(records.map((r) => r.entry.sequence)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    });
  });
});
