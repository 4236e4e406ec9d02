import type { NestExpressApplication } from '@nestjs/platform-express';
import { Command, CommanderError } from 'commander';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import request from 'supertest';
import { createApp } from '../../../src/server/create-app';
import type { CheckpointSummary } from '../../../src/checkpoint/catalog/checkpoint-summary';
import { registerRecover } from '../../../src/cli/recover.command';
import { loadConfig } from '../../../src/config';
import { readStateDirectory } from '../../../src/recovery/output/directory-writer';
import type { RecoveryPlan } from '../../../src/recovery/recovery-types';
import { asModelState, LogModel } from '../../support/recovery/recovery-model';

/** `tidemark recover`, run in process through commander against a data directory the real app filled. */

interface Run {
  code: number | undefined;
  stdout: string;
  stderr: string;
  progress: string;
}

let root: string;
let dataDir: string;
let env: Record<string, string>;
const model = new LogModel();
let full: CheckpointSummary;
let incremental: CheckpointSummary;
let between: number;

async function cli(args: string[], options: { tty?: boolean } = {}): Promise<Run> {
  const out: string[] = [];
  const err: string[] = [];
  const progressChunks: Buffer[] = [];
  const progressStream = Object.assign(new PassThrough(), { isTTY: options.tty === true, columns: 100 });
  progressStream.on('data', (chunk: Buffer) => progressChunks.push(chunk));
  let code: number | undefined;
  const program = new Command('tidemark').exitOverride();
  program.configureOutput({ writeOut: (t) => out.push(t), writeErr: (t) => err.push(t) });
  registerRecover(program, {
    stdout: (t) => out.push(t),
    stderr: (t) => err.push(t),
    progressStream,
    exit: (c) => {
      code ??= c;
    },
    env,
  });
  try {
    await program.parseAsync(['recover', ...args], { from: 'user' });
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
  }
  return {
    code,
    stdout: out.join(''),
    stderr: err.join(''),
    progress: Buffer.concat(progressChunks).toString(),
  };
}

async function startApp(): Promise<NestExpressApplication> {
  const app = await createApp(loadConfig({ env }));
  await app.init();
  return app;
}

beforeAll(async () => {
  root = mkdtempSync(path.join(tmpdir(), 'tidemark-recover-cli-'));
  dataDir = path.join(root, 'data');
  env = {
    DATA_DIR: dataDir,
    LOG_LEVEL: 'silent',
    TIDEMARK_CHECKPOINT_INTERVAL_MS: '0',
    TIDEMARK_CHECKPOINT_CLEANUP_INTERVAL_MS: '0',
    TIDEMARK_WAL_PREALLOCATE: 'false',
  };
  const app = await startApp();
  const checkpoint = async (kind: string) =>
    (await request(app.getHttpServer()).post('/v1/checkpoints').send({ kind }).expect(201))
      .body as CheckpointSummary;
  await model.appendMany(app, 'window_processor_1', 40, 1);
  await model.appendMany(app, 'join_2', 15, 1);
  full = await checkpoint('full');
  await model.appendMany(app, 'join_2', 9, 2);
  between = model.lastLsn;
  await model.appendMany(app, 'window_processor_1', 9, 2);
  incremental = await checkpoint('incremental');
  await model.appendMany(app, 'agg_3', 7, 3);
  await app.close();
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

const outDir = (name: string) => path.join(root, 'out', name);

async function recovered(dir: string) {
  const { manifest, components } = await readStateDirectory(dir);
  return { manifest, state: asModelState(components.values()) };
}

describe('tidemark recover --dry-run', () => {
  it('prints the plan for people, or as JSON, and writes nothing', async () => {
    const run = await cli(['--to', `lsn:${between}`, '--dry-run', '--out', outDir('dry')]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`Recovery plan: LSN ${between}; components: all`);
    expect(run.stdout).toContain('Checkpoints (a chain of 1):');
    expect(run.stdout).toMatch(new RegExp(`#${full.id}\\s+full\\s+LSN ${full.lsn}`));
    expect(run.stdout).toContain(`WAL replay: LSN ${full.lsn + 1} to ${between}: 1 local segment`);
    expect(run.stdout).toMatch(/Reads: \d+ objects, .*, \d+ GET requests/);
    expect(run.stdout).toContain('Estimated duration:');
    expect(existsSync(outDir('dry'))).toBe(false);

    const json = await cli([
      '--to',
      `checkpoint:${incremental.id}`,
      '--dry-run',
      '--json',
      '--components',
      'join_2',
    ]);
    expect(json.code).toBe(0);
    const plan = JSON.parse(json.stdout) as RecoveryPlan;
    expect(plan.target).toEqual({ checkpointId: incremental.id });
    expect(plan.components).toEqual(['join_2']);
    expect(plan.checkpoints.map((c) => c.id)).toEqual([full.id, incremental.id]);
  });
});

describe('tidemark recover', () => {
  it('writes the state at the end of the log (checkpoints, then the local WAL) to --out', async () => {
    const run = await cli(['--to', `lsn:${model.lastLsn}`, '--out', outDir('tail')]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`Recovered 3 components to LSN ${model.lastLsn}`);
    expect(run.progress).toBe('');
    const { manifest, state } = await recovered(outDir('tail'));
    expect(manifest.lsn).toBe(model.lastLsn);
    expect(state).toEqual(model.stateAt(model.lastLsn));
    expect(state.size).toBe(3);
  });

  it('recovers to an ISO time between checkpoints', async () => {
    const entry = model.log.find((e) => e.lsn === between)!;
    const iso = `${new Date(Math.floor(entry.timestamp / 1000)).toISOString().slice(0, -1)}${String(
      entry.timestamp % 1000,
    ).padStart(3, '0')}Z`;
    const run = await cli(['--to', iso, '--out', outDir('time'), '--no-progress']);
    expect(run.code).toBe(0);
    const { manifest, state } = await recovered(outDir('time'));
    expect(manifest.target).toEqual({ time: entry.timestamp });
    expect(manifest.lsn).toBe(between);
    expect(state).toEqual(model.stateAt(between));
  });

  it('reads only a local store directory with --path, for named components, as JSON', async () => {
    const run = await cli([
      '--to',
      `checkpoint:${incremental.id}`,
      '--path',
      path.join(dataDir, 'store'),
      '--components',
      'join_2,window_processor_1',
      '--level',
      'full',
      '--threads',
      '1',
      '--json',
      '--out',
      outDir('path'),
    ]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const printed = JSON.parse(run.stdout) as {
      lsn: number;
      out: string;
      stats: { verificationLevel: string };
    };
    expect(printed).toMatchObject({
      lsn: incremental.lsn,
      out: outDir('path'),
      stats: { verificationLevel: 'full' },
    });
    const { state } = await recovered(outDir('path'));
    expect(state).toEqual(model.stateAt(incremental.lsn, ['join_2', 'window_processor_1']));
  });

  it('draws progress bars on a terminal', async () => {
    const run = await cli(['--to', `checkpoint:${full.id}`, '--out', outDir('bars')], { tty: true });
    expect(run.code).toBe(0);
    expect(run.progress).toContain('components');
    expect(run.progress).toContain('blocks');
    const quiet = await cli(['--to', `checkpoint:${full.id}`, '--out', outDir('quiet'), '--no-progress'], {
      tty: true,
    });
    expect(quiet.code).toBe(0);
    expect(quiet.progress).toBe('');
  });

  it('reads the store and warns when a running service holds the WAL', async () => {
    const app = await startApp();
    try {
      const run = await cli(['--to', `checkpoint:${incremental.id}`, '--out', outDir('locked')]);
      expect(run.code).toBe(0);
      expect(run.stderr).toMatch(/warning: .*LOCK|warning: .*already open/);
      expect((await recovered(outDir('locked'))).state).toEqual(model.stateAt(incremental.lsn));
    } finally {
      await app.close();
    }
  });
});

describe('tidemark recover exit codes', () => {
  it('exits 2 on bad usage, naming the problem', async () => {
    mkdirSync(outDir('taken'), { recursive: true });
    writeFileSync(path.join(outDir('taken'), 'x'), 'x');
    const cases: [string[], RegExp][] = [
      [['--out', outDir('a')], /--to is required/],
      [['--to', 'yesterday', '--out', outDir('a')], /a target is/],
      [['--to', 'lsn:1'], /--out <dir> is required/],
      [['--to', 'lsn:1', '--out', outDir('a'), '--level', 'paranoid'], /--level must be/],
      [['--to', 'lsn:1', '--out', outDir('a'), '--threads', '0'], /--threads must be/],
      [['--to', 'lsn:1', '--out', outDir('taken')], /not empty/],
      [['--to', 'lsn:1', '--out', outDir('a'), '--path', path.join(root, 'nope')], /not a directory/],
      [['--to', 'lsn:1', '--out', outDir('a'), '--frobnicate'], /unknown option/],
      [
        ['--to', 'lsn:1', '--out', outDir('a'), '--config', path.join(root, 'missing.yaml')],
        /CONFIG_INVALID/,
      ],
      [['--to', `lsn:${model.lastLsn + 100}`, '--dry-run'], /beyond the log/],
    ];
    for (const [args, message] of cases) {
      const run = await cli(args);
      expect({ args, code: run.code }).toEqual({ args, code: 2 });
      expect(run.stderr).toMatch(message);
    }
    expect(existsSync(outDir('a'))).toBe(false);
  });

  it('exits 1 when the recovery fails: a flipped bit in a block, an unknown checkpoint', async () => {
    const copy = path.join(root, 'corrupt-store');
    cpSync(path.join(dataDir, 'store'), copy, { recursive: true });
    const blocks = path.join(copy, 'tidemark', 'blocks');
    const shard = readdirSync(blocks)[0]!;
    const block = path.join(blocks, shard, readdirSync(path.join(blocks, shard))[0]!);
    const bytes = readFileSync(block);
    bytes[bytes.length - 1] ^= 0x01;
    writeFileSync(block, bytes);

    const run = await cli(['--to', `checkpoint:${full.id}`, '--path', copy, '--out', outDir('corrupt')]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^tidemark: (CHECKSUM_MISMATCH|DESERIALIZATION_ERROR): /);
    expect(existsSync(outDir('corrupt'))).toBe(false);

    const missing = await cli(['--to', 'checkpoint:999', '--out', outDir('missing')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/CHECKPOINT_NOT_FOUND/);
  });

  it('exits 1, writing nothing, for a time whose stretch of the WAL the store does not hold', async () => {
    // Between two appends before the first checkpoint; the WAL was never shipped to the store.
    const first = model.log.find((e) => e.lsn === 2)!;
    const run = await cli([
      '--to',
      `time:${first.timestamp}`,
      '--path',
      path.join(dataDir, 'store'),
      '--out',
      outDir('time-gap'),
    ]);
    expect(run.code).toBe(1);
    expect(run.stdout).not.toMatch(/Recovered/);
    expect(run.stderr).toMatch(/^tidemark: INVALID_STATE_DATA: cannot recover to time .*WAL from LSN 1 to/);
    expect(existsSync(outDir('time-gap'))).toBe(false);
  });

  it('exits 1 for a component that does not exist, dry run or not', async () => {
    for (const extra of [['--dry-run'], ['--out', outDir('nope')]]) {
      const run = await cli(['--to', `lsn:${model.lastLsn}`, '--components', 'join_2,nope', ...extra]);
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/^tidemark: COMPONENT_NOT_FOUND: no component "nope"/);
    }
    expect(existsSync(outDir('nope'))).toBe(false);
  });
});
