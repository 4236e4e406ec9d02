/**
 * The peer a user would pick instead to keep such state durable: Redis (the Debian `redis-server` on PATH),
 * started here on a free port with a directory of its own (a shared Redis may listen on 6379: never
 * touched), loaded with the same keys (componentId + ':' + key, binary-safe) and values. Then:
 *   - SAVE (an RDB write, fsynced), timed on the client, wall;
 *   - SHUTDOWN NOSAVE, a restart on the same directory, and the load time Redis logs for it
 *     ("DB loaded from disk: N seconds").
 * MB/s are of the same logical bytes as the product's figures (keys + values, without the component
 * prefix). The process is always killed and its directory removed, on error too.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import type { Snapshot } from '../../src/checkpoint/state/state-types';
import { freePort } from './cluster-bench-free-port';

export interface RedisPeerResult {
  version: string;
  logicalBytes: number;
  keys: number;
  saveSeconds: number;
  saveMBps: number;
  loadSeconds: number;
  loadMBps: number;
  rdbBytes: number;
}

/** Pairs per MSET, and MSETs in flight while loading (loading is not timed). */
const PAIRS_PER_MSET = 1000;
const MSETS_IN_FLIGHT = 16;
const READY_TIMEOUT_MS = 300_000;

export async function measureRedisPeer(
  snapshot: Snapshot,
  baseDir = os.tmpdir(),
): Promise<RedisPeerResult | { skipped: string }> {
  const dir = fs.mkdtempSync(path.join(baseDir, 'tidemark-redis-peer-'));
  let server: ChildProcess | undefined;
  try {
    const first = await startRedis(dir, 'first.log');
    if ('skipped' in first) return first;
    server = first.child;
    const loaded = await load(first.port, snapshot);
    const client = connect(first.port);
    const started = performance.now();
    await client.call('SAVE');
    const saveSeconds = (performance.now() - started) / 1000;
    const version = ((await client.info('server')).match(/redis_version:(\S+)/) ?? [])[1] ?? 'unknown';
    await shutdown(client, server);
    const rdbBytes = fs.statSync(path.join(dir, 'dump.rdb')).size;

    const second = await startRedis(dir, 'second.log');
    if ('skipped' in second) throw new Error(`redis-server did not restart: ${second.skipped}`);
    server = second.child;
    const log = fs.readFileSync(path.join(dir, 'second.log'), 'utf8');
    const match = /DB loaded from disk: ([\d.]+) seconds/.exec(log);
    if (!match) throw new Error(`redis-server logged no load time:\n${log}`);
    const loadSeconds = Number(match[1]);
    const check = connect(second.port);
    const keys = await check.dbsize();
    if (keys !== loaded.keys) throw new Error(`redis-server restarted with ${keys} keys, not ${loaded.keys}`);
    await shutdown(check, server);
    return {
      version,
      logicalBytes: loaded.logicalBytes,
      keys,
      saveSeconds,
      saveMBps: loaded.logicalBytes / 1e6 / saveSeconds,
      loadSeconds,
      loadMBps: loaded.logicalBytes / 1e6 / loadSeconds,
      rdbBytes,
    };
  } finally {
    if (server && server.exitCode === null && server.signalCode === null) {
      const exited = new Promise((resolve) => server!.once('exit', resolve));
      server.kill('SIGKILL');
      await exited;
    }
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function connect(port: number): Redis {
  // No reconnecting: SHUTDOWN closes the connection on purpose.
  return new Redis({ host: '127.0.0.1', port, retryStrategy: () => null, maxRetriesPerRequest: 0 });
}

async function startRedis(
  dir: string,
  logName: string,
): Promise<{ child: ChildProcess; port: number } | { skipped: string }> {
  const port = await freePort();
  const logFile = path.join(dir, logName);
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--dbfilename', 'dump.rdb'];
  args.push('--save', '', '--appendonly', 'no', '--logfile', logFile, '--daemonize', 'no');
  const child = spawn('redis-server', args, { stdio: 'ignore' });
  const failed = new Promise<string>((resolve) => {
    child.once('error', (error) => resolve(`redis-server: ${error.message}`));
    child.once('exit', (code) => resolve(`redis-server exited (${String(code)})`));
  });
  const deadline = performance.now() + READY_TIMEOUT_MS;
  for (;;) {
    const outcome = await Promise.race([failed, sleep(20).then(() => undefined)]);
    if (outcome !== undefined) {
      const log = fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : '';
      return { skipped: `${outcome}${log ? `: ${log.trim().split('\n').slice(-3).join(' | ')}` : ''}` };
    }
    if (fs.existsSync(logFile) && fs.readFileSync(logFile, 'utf8').includes('Ready to accept connections')) {
      return { child, port };
    }
    if (performance.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`redis-server not ready after ${READY_TIMEOUT_MS / 1000} s`);
    }
  }
}

/** Every record as componentId:key → value, MSET after MSET; waits until all are acknowledged. */
async function load(port: number, snapshot: Snapshot): Promise<{ keys: number; logicalBytes: number }> {
  const client = connect(port);
  let keys = 0;
  let logicalBytes = 0;
  try {
    const inFlight: Promise<unknown>[] = [];
    let args: Buffer[] = [];
    const send = async () => {
      inFlight.push(client.mset(args));
      args = [];
      if (inFlight.length >= MSETS_IN_FLIGHT) await Promise.all(inFlight.splice(0));
    };
    for (const [componentId, component] of snapshot.components) {
      const prefix = Buffer.from(`${componentId}:`);
      for (const { key, value } of component.records) {
        args.push(Buffer.concat([prefix, key]), value);
        keys++;
        logicalBytes += key.length + value.length;
        if (args.length >= 2 * PAIRS_PER_MSET) await send();
      }
    }
    if (args.length > 0) await send();
    await Promise.all(inFlight);
    const held = await client.dbsize();
    if (held !== keys) throw new Error(`redis-server holds ${held} keys after loading ${keys}`);
  } finally {
    client.disconnect();
  }
  return { keys, logicalBytes };
}

/** SHUTDOWN NOSAVE (the connection drops: not an error) and the process's exit. */
async function shutdown(client: Redis, child: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => child.once('exit', resolve));
  await client.call('SHUTDOWN', 'NOSAVE').catch(() => undefined);
  client.disconnect();
  await exited;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
