/**
 * The servers the tiering benchmark starts for itself, as child processes, as the tests do
 * (test/support/child-server.ts, s3rver-server.ts, redis-server.ts — not imported: dist has no test/):
 * s3rver (a dev dependency, so possibly absent) and redis-server (possibly not on PATH). Either being
 * unavailable is reported as a reason to skip, never as a failure of the benchmark.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import { createServer } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

export interface RunningServer {
  /** `http://127.0.0.1:port` (s3rver) or `redis://127.0.0.1:port` (Redis). */
  url: string;
  stop(): Promise<void>;
}

export type Started = { server: RunningServer } | { skipped: string };

/** The credentials s3rver accepts (it checks the access key id, not the signature). */
export const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

/**
 * s3rver with `--openssl-legacy-provider` (it encrypts listing continuation tokens with DES, which Node 20's
 * OpenSSL 3 refuses otherwise), on a port the OS picks, keeping its objects in a temporary directory.
 */
export async function startS3rver(): Promise<Started> {
  let script: string;
  try {
    script = require.resolve('s3rver/bin/s3rver.js');
  } catch {
    return {
      skipped: 'skipped: s3rver not installed (it is a devDependency: npm install without --omit=dev)',
    };
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tidemark-bench-s3rver-'));
  const args = [script, '--directory', dir, '--address', '127.0.0.1', '--port', '0', '--silent'];
  const env = { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --openssl-legacy-provider`.trim() };
  return startChild(process.execPath, args, env, /S3rver listening on [^\s:]+:(\d+)/, dir, (port) => ({
    url: `http://127.0.0.1:${port}`,
  }));
}

/** redis-server on a free port, in the foreground, keeping nothing on disk. */
export async function startRedis(): Promise<Started> {
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tidemark-bench-redis-'));
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
  return startChild('redis-server', [...args, '--dir', dir], {}, /Ready to accept connections/, dir, () => ({
    url: `redis://127.0.0.1:${port}`,
  }));
}

async function startChild(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  ready: RegExp,
  dir: string,
  describe: (port: string | undefined) => { url: string },
): Promise<Started> {
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const removeDir = () => fs.rmSync(dir, { recursive: true, force: true });
  try {
    const port = await whenReady(child, ready);
    return {
      server: {
        ...describe(port),
        stop: async () => {
          await stopChild(child);
          removeDir();
        },
      },
    };
  } catch (error) {
    await stopChild(child);
    removeDir();
    if ((error as NodeJS.ErrnoException).code === 'ENOENT')
      return { skipped: `skipped: ${command} not on PATH` };
    return { skipped: `skipped: ${command} did not start: ${(error as Error).message}` };
  }
}

function whenReady(child: ChildProcess, ready: RegExp): Promise<string | undefined> {
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`not ready after 20 s; it printed: ${output}`)), 20_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = ready.exec(output);
      if (match) {
        cleanup();
        resolve(match[1]);
      }
    };
    const onExit = (code: number | null) => fail(new Error(`exited (${String(code)}): ${output}`));
    const fail = (error: Error) => {
      cleanup();
      reject(error);
    };
    const cleanup = () => {
      clearTimeout(timer);
      child.off('exit', onExit);
      // Keep draining the pipes so a chatty server never blocks on a full one.
      child.stdout?.off('data', onData).resume();
      child.stderr?.off('data', onData).resume();
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', onExit);
    child.once('error', fail);
  });
}

/** SIGTERM, SIGKILL after 5 s; resolves once the child has exited. */
async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
