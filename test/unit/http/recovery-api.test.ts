import type { NestExpressApplication } from '@nestjs/platform-express';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import request from 'supertest';
import { createApp } from '../../../src/server/create-app';
import type { CheckpointSummary } from '../../../src/checkpoint/catalog/checkpoint-summary';
import { loadConfig, type TidemarkConfig } from '../../../src/config';
import { readBinaryStream } from '../../../src/recovery/output/binary-stream';
import { readNdjson } from '../../../src/recovery/output/ndjson';
import type { StreamedRecovery } from '../../../src/recovery/output/streamed-recovery';
import { RecoveryEngine } from '../../../src/recovery/recovery-engine';
import type { RecoveryPlan } from '../../../src/recovery/recovery-types';
import { SegmentedWal } from '../../../src/wal';
import { LogModel, streamedState } from '../../support/recovery/recovery-model';

/**
 * The recovery API on the real app over a temporary data directory: entries appended through
 * POST /v1/wal/entries, checkpoints taken through POST /v1/checkpoints, and every recovered state compared
 * with the state replaying the appended entries up to the target gives (a model kept by this test).
 */

const model = new LogModel();

/** ISO 8601 with microseconds. */
function isoMicros(micros: number): string {
  const iso = new Date(Math.floor(micros / 1000)).toISOString();
  return `${iso.slice(0, -1)}${String(micros % 1000).padStart(3, '0')}Z`;
}

function testConfig(dataDir: string): TidemarkConfig {
  return loadConfig({
    env: {
      DATA_DIR: dataDir,
      LOG_LEVEL: 'silent',
      TIDEMARK_CHECKPOINT_INTERVAL_MS: '0',
      TIDEMARK_CHECKPOINT_CLEANUP_INTERVAL_MS: '0',
      TIDEMARK_WAL_PREALLOCATE: 'false',
      TIDEMARK_RECOVERY_VERIFICATION_LEVEL: 'full',
    },
  });
}

describe('the recovery API', () => {
  let dataDir: string;
  let app: NestExpressApplication;
  const server = () => app.getHttpServer();
  let full: CheckpointSummary;
  let incremental: CheckpointSummary;
  let between: number;
  let lastLsn: number;

  async function checkpoint(kind: 'full' | 'incremental'): Promise<CheckpointSummary> {
    const res = await request(server()).post('/v1/checkpoints').send({ kind }).expect(201);
    return res.body as CheckpointSummary;
  }

  async function recover(body: object): Promise<request.Response> {
    return request(server())
      .post('/v1/recovery')
      .send(body)
      .buffer(true)
      .parse((res, done) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => done(null, Buffer.concat(chunks)));
      });
  }

  async function recoverNdjson(body: object): Promise<StreamedRecovery> {
    const res = await recover(body);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/x-ndjson/);
    const streamed = readNdjson((res.body as Buffer).toString('utf8'));
    expect(streamed.complete).toBe(true);
    return streamed;
  }

  function expectProblem(res: request.Response, status: number, code: string): void {
    expect(res.status).toBe(status);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    const text = Buffer.isBuffer(res.body) ? res.body.toString('utf8') : res.text;
    expect(JSON.parse(text)).toMatchObject({ status, code });
  }

  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'tidemark-recovery-http-'));
    app = await createApp(testConfig(dataDir));
    await app.init();
    await model.appendMany(app, 'window_processor_1', 30, 1);
    await model.appendMany(app, 'join_2', 12, 1);
    full = await checkpoint('full');
    await model.appendMany(app, 'window_processor_1', 10, 2);
    between = model.lastLsn;
    // A clear, then a few puts: the incremental carries the clear.
    await model.append(app, 'join_2', [[{ op: 'clear' }]]);
    await model.appendMany(app, 'join_2', 5, 2);
    incremental = await checkpoint('incremental');
    await model.appendMany(app, 'window_processor_1', 8, 3);
    await model.appendMany(app, 'agg_3', 6, 3);
    lastLsn = model.lastLsn;
    expect(incremental.parentId).toBe(full.id);
    expect(model.stateAt(full.lsn).size).toBe(2);
    expect(model.stateAt(lastLsn).size).toBe(3);
    expect(between).toBeGreaterThan(full.lsn);
    expect(between).toBeLessThan(incremental.lsn);
  });

  afterAll(async () => {
    await app?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('plans a recovery to a checkpoint: the chain, no WAL, without reading a block', async () => {
    const res = await request(server()).get(`/v1/recovery/plan?checkpoint=${incremental.id}`).expect(200);
    const plan = res.body as RecoveryPlan;
    expect(plan.target).toEqual({ checkpointId: incremental.id });
    expect(plan.components).toBe('all');
    expect(plan.checkpoints.map((c) => [c.id, c.kind])).toEqual([
      [full.id, 'full'],
      [incremental.id, 'incremental'],
    ]);
    expect(plan.wal).toBeUndefined();
    expect(plan.getRequests).toBeGreaterThanOrEqual(3);
    expect(plan.bytes).toBeGreaterThan(0);
    expect(typeof plan.estimatedDurationMs).toBe('number');
  });

  it('plans to an LSN between checkpoints and to a time, for named components', async () => {
    const byLsn = (await request(server()).get(`/v1/recovery/plan?lsn=${between}`).expect(200))
      .body as RecoveryPlan;
    expect(byLsn.checkpoints.map((c) => c.id)).toEqual([full.id]);
    expect(byLsn.wal).toMatchObject({ fromLsn: full.lsn + 1, toLsn: between });
    expect(byLsn.wal!.local.length).toBeGreaterThan(0);

    const time = model.log.find((e) => e.lsn === between)!.timestamp;
    const byTime = (
      await request(server())
        .get('/v1/recovery/plan')
        .query({ time: isoMicros(time), components: 'join_2, window_processor_1' })
        .expect(200)
    ).body as RecoveryPlan;
    expect(byTime.target).toEqual({ time });
    expect(byTime.components).toEqual(['join_2', 'window_processor_1']);
    expect(byTime.checkpoints.map((c) => c.id)).toEqual([full.id]);
  });

  it('recovers to a full checkpoint and to an incremental one (NDJSON)', async () => {
    const atFull = await recoverNdjson({ target: { checkpointId: full.id } });
    expect(atFull.header).toEqual({
      target: { checkpointId: full.id },
      lsn: full.lsn,
      components: ['join_2', 'window_processor_1'],
    });
    expect(streamedState(atFull)).toEqual(model.stateAt(full.lsn));
    expect(atFull.outcomes.every((o) => o.fromCheckpoint === full.id && !o.error)).toBe(true);
    expect(atFull.stats).toMatchObject({ verificationLevel: 'full', walEntries: 0 });
    expect(atFull.stats!.blocksRead).toBeGreaterThan(0);

    const atIncremental = await recoverNdjson({ target: { checkpointId: incremental.id } });
    expect(atIncremental.header.lsn).toBe(incremental.lsn);
    expect(streamedState(atIncremental)).toEqual(model.stateAt(incremental.lsn));
  });

  it('recovers to an LSN between checkpoints, replaying the WAL exactly to it', async () => {
    const streamed = await recoverNdjson({ target: { lsn: between } });
    expect(streamed.header.lsn).toBe(between);
    expect(streamedState(streamed)).toEqual(model.stateAt(between));
    expect(streamed.stats!.walEntries).toBe(between - full.lsn);
  });

  it('recovers to a time: the last entry at or before it, as µs or ISO 8601', async () => {
    const entry = model.log[model.log.length - 10]!;
    const byMicros = await recoverNdjson({ target: { time: entry.timestamp + 500 } });
    expect(byMicros.header.lsn).toBe(entry.lsn);
    expect(streamedState(byMicros)).toEqual(model.stateAt(entry.lsn));

    expect(entry.timestamp % 1000).not.toBe(0);
    const byIso = await recoverNdjson({ target: { time: isoMicros(entry.timestamp) } });
    expect(byIso.header.target).toEqual({ time: entry.timestamp });
    expect(byIso.header.lsn).toBe(entry.lsn);
  });

  it('streams the binary format, for named components, into the WAL tail', async () => {
    const res = await recover({
      target: { lsn: lastLsn },
      components: ['agg_3', 'join_2'],
      format: 'binary',
    });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/octet-stream');
    const streamed = readBinaryStream(res.body as Buffer);
    expect(streamed.complete).toBe(true);
    expect(streamed.header.lsn).toBe(lastLsn);
    expect(streamedState(streamed)).toEqual(model.stateAt(lastLsn, ['agg_3', 'join_2']));
    expect(streamed.outcomes.map((o) => o.componentId)).toEqual(['agg_3', 'join_2']);
  });

  it('answers 404 COMPONENT_NOT_FOUND for a component that does not exist, plan and recovery alike', async () => {
    const res = await recover({ target: { lsn: lastLsn }, components: ['agg_3', 'missing_9'] });
    expect(res.status).toBe(404);
    const problem = JSON.parse((res.body as Buffer).toString()) as { code: string; detail: string };
    expect(problem.code).toBe('COMPONENT_NOT_FOUND');
    expect(problem.detail).toContain('"missing_9"');
    const plan = await request(server()).get(`/v1/recovery/plan?lsn=${lastLsn}&components=nope`);
    expect(plan.status).toBe(404);
    expect(JSON.parse(plan.text)).toMatchObject({ code: 'COMPONENT_NOT_FOUND' });
  });

  it('answers 400 problems for bad targets and bodies', async () => {
    for (const query of [
      '',
      '?lsn=1&checkpoint=1',
      '?lsn=-1',
      '?lsn=abc',
      '?checkpoint=0',
      '?time=yesterday',
      '?time=2024-05-01T12:00:00',
      '?lsn=1&components=',
      '?lsn=1&components=a/b',
      '?lsn=1&lsn=2',
      '?lsn=1&level=full',
    ]) {
      expectProblem(await request(server()).get(`/v1/recovery/plan${query}`), 400, 'INVALID_ARGUMENT');
    }
    for (const body of [
      {},
      { target: {} },
      { target: { lsn: -1 } },
      { target: { lsn: 1, time: 2 } },
      { target: { checkpointId: 1.5 } },
      { target: { time: 'not a time' } },
      { target: { lsn: 1 }, components: [] },
      { target: { lsn: 1 }, components: ['../x'] },
      { target: { lsn: 1 }, format: 'xml' },
      { target: { lsn: 1 }, extra: true },
      { target: { lsn: lastLsn + 1000 } },
    ]) {
      expectProblem(await recover(body), 400, 'INVALID_ARGUMENT');
    }
  });

  it('answers 404 for an unknown checkpoint', async () => {
    expectProblem(
      await request(server()).get('/v1/recovery/plan?checkpoint=999'),
      404,
      'CHECKPOINT_NOT_FOUND',
    );
    expectProblem(await recover({ target: { checkpointId: 999 } }), 404, 'CHECKPOINT_NOT_FOUND');
  });

  it('streams component by component (stream: true): the same state, NDJSON and binary, to every kind of target', async () => {
    const entry = model.log[model.log.length - 10]!;
    const targets = [{ checkpointId: incremental.id }, { lsn: between }, { time: entry.timestamp }];
    for (const target of targets) {
      const whole = await recoverNdjson({ target });
      const streamed = await recoverNdjson({ target, stream: true });
      expect(streamed.header.lsn).toBe(whole.header.lsn);
      expect(streamed.header.target).toEqual(whole.header.target);
      expect([...streamed.header.components].sort()).toEqual([...whole.header.components].sort());
      expect(streamedState(streamed)).toEqual(model.stateAt(whole.header.lsn));
      expect(sortById(streamed.outcomes)).toEqual(sortById(whole.outcomes));
      expect(streamed.stats).toMatchObject({
        verificationLevel: 'full',
        walEntries: whole.stats!.walEntries,
      });

      const res = await recover({ target, format: 'binary', stream: true, components: ['agg_3', 'join_2'] });
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toBe('application/octet-stream');
      const binary = readBinaryStream(res.body as Buffer);
      expect(binary.complete).toBe(true);
      expect(streamedState(binary)).toEqual(model.stateAt(whole.header.lsn, ['agg_3', 'join_2']));
    }
  });

  it('streaming: a failure before the cut is a problem; one after it ends the stream with an error line', async () => {
    expectProblem(
      await recover({ target: { checkpointId: 999 }, stream: true }),
      404,
      'CHECKPOINT_NOT_FOUND',
    );
    const missing = await recover({ target: { lsn: lastLsn }, components: ['missing_9'], stream: true });
    expect(missing.status).toBe(404);
    expectProblem(await recover({ target: { lsn: 1 }, stream: 'yes' }), 400, 'INVALID_ARGUMENT');

    // A damaged block is found while blocks are fetched, after the header went out.
    const blocks = listFiles(path.join(dataDir, 'store')).filter((file) =>
      file.includes(`${path.sep}blocks${path.sep}`),
    );
    expect(blocks.length).toBeGreaterThan(0);
    const originals = blocks.map((file) => readFileSync(file));
    try {
      for (const [i, file] of blocks.entries()) {
        const damaged = Buffer.from(originals[i]!);
        damaged[damaged.length >> 1]! ^= 0xff;
        writeFileSync(file, damaged);
      }
      const res = await recover({ target: { checkpointId: full.id }, stream: true });
      expect(res.status).toBe(200);
      const streamed = readNdjson((res.body as Buffer).toString('utf8'));
      expect(streamed.complete).toBe(false);
      expect(streamed.error).toMatchObject({ code: 'CHECKSUM_MISMATCH' });
      expectProblem(await recover({ target: { checkpointId: full.id } }), 422, 'CHECKSUM_MISMATCH');
    } finally {
      blocks.forEach((file, i) => writeFileSync(file, originals[i]!));
    }
    expect(streamedState(await recoverNdjson({ target: { checkpointId: full.id }, stream: true }))).toEqual(
      model.stateAt(full.lsn),
    );
  });

  it('ends the recovery engine before the WAL closes', async () => {
    const order: string[] = [];
    const engine = app.get(RecoveryEngine);
    const wal = app.get(SegmentedWal);
    const closeEngine = engine.close.bind(engine);
    const closeWal = wal.close.bind(wal);
    jest.spyOn(engine, 'close').mockImplementation(async () => {
      order.push('engine.close');
      await closeEngine();
    });
    jest.spyOn(wal, 'close').mockImplementation(async () => {
      order.push('wal.close');
      await closeWal();
    });
    await app.close();
    expect(order).toEqual(['engine.close', 'wal.close']);
    app = undefined as unknown as NestExpressApplication;
  });
});

function sortById<T extends { componentId: string }>(outcomes: readonly T[]): T[] {
  return [...outcomes].sort((a, b) => (a.componentId < b.componentId ? -1 : 1));
}

function listFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? listFiles(path.join(dir, entry.name)) : [path.join(dir, entry.name)],
  );
}
