import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { ChildServer, freePort } from './child-server';

/**
 * A real redis-server of the test's own (Debian's, as .ci/run installs it), on a free port, in the foreground, keeping
 * nothing on disk unless asked — so a test can stop it (Redis down) and start it again on the same port.
 */
export interface TestRedis {
  url: string;
  port: number;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Stops it and removes its directory. */
  dispose(): Promise<void>;
}

/**
 * `persistent`: an append-only file fsynced on every write, so a restart keeps the data (as a production
 * Redis for BullMQ is configured); otherwise a restart comes back empty.
 */
export async function startRedis(options: { persistent?: boolean } = {}): Promise<TestRedis> {
  const port = await freePort();
  const dir = mkdtempSync(path.join(tmpdir(), 'tidemark-redis-'));
  const server = new ChildServer({
    command: 'redis-server',
    args: [
      ...['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--dir', dir],
      ...(options.persistent ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no']),
    ],
    ready: /Ready to accept connections/,
  });
  await server.start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    start: async () => {
      await server.start();
    },
    stop: () => server.stop(),
    dispose: async () => {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
