import type { NestExpressApplication } from '@nestjs/platform-express';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import request from 'supertest';
import { createApp } from '../../../src/server/create-app';
import { CheckpointMerger } from '../../../src/checkpoint/merge/checkpoint-merger';
import { IncrementalCheckpointSystem } from '../../../src/checkpoint/incremental-checkpoint-system';
import { loadConfig, type TidemarkConfig } from '../../../src/config';
import { UploadedSegments } from '../../../src/wal/archive/uploaded-segments';
import { SegmentedWal } from '../../../src/wal';
import type { CheckpointSummary } from '../../../src/checkpoint/catalog/checkpoint-summary';

/**
 * The checkpoint API on the real Nest app over a temporary data directory: real WAL, real catalog file,
 * a LocalFile object store under the data directory; nothing mocked.
 */

/** A summary as the API returns it (JSON of the catalog's CheckpointSummary). */
type Summary = CheckpointSummary;

interface WalStatsBody {
  firstLsn: number;
  lastLsn: number;
  sealedSegments: number;
  deletedSegments: number;
}

const b64 = (text: string) => Buffer.from(text).toString('base64');

function testConfig(dataDir: string, env: Record<string, string> = {}): TidemarkConfig {
  return loadConfig({
    env: {
      DATA_DIR: dataDir,
      LOG_LEVEL: 'silent',
      TIDEMARK_CHECKPOINT_INTERVAL_MS: '0',
      TIDEMARK_CHECKPOINT_CLEANUP_INTERVAL_MS: '0',
      TIDEMARK_WAL_PREALLOCATE: 'false',
      ...env,
    },
  });
}

async function startApp(config: TidemarkConfig): Promise<NestExpressApplication> {
  const app = await createApp(config);
  await app.init();
  return app;
}

const sequences = new Map<string, number>();

/** Appends `count` entries (one put each) to `componentId` through the API. */
async function append(
  app: NestExpressApplication,
  componentId: string,
  count: number,
  valueBytes = 16,
): Promise<{ firstLsn: number; lastLsn: number }> {
  const entries = Array.from({ length: count }, (_, i) => {
    const sequence = (sequences.get(componentId) ?? 0) + 1;
    sequences.set(componentId, sequence);
    return {
      componentId,
      sequence,
      changes: [{ op: 'put', key: b64(`key-${i % 50}`), value: b64('x'.repeat(valueBytes) + sequence) }],
    };
  });
  const res = await request(app.getHttpServer()).post('/v1/wal/entries').send({ entries }).expect(201);
  return res.body as { firstLsn: number; lastLsn: number };
}

async function checkpoint(app: NestExpressApplication, body?: object): Promise<Summary> {
  const req = request(app.getHttpServer()).post('/v1/checkpoints');
  const res = await (body === undefined ? req : req.send(body));
  expect(res.status).toBe(201);
  return res.body as Summary;
}

async function walStats(app: NestExpressApplication): Promise<WalStatsBody> {
  const res = await request(app.getHttpServer()).get('/v1/wal').expect(200);
  return res.body as WalStatsBody;
}

function expectProblem(res: request.Response, status: number, code: string): Record<string, unknown> {
  expect(res.status).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  const body = JSON.parse(res.text) as Record<string, unknown>;
  expect(body).toMatchObject({ type: `urn:tidemark:error:${code}`, status, code });
  expect(typeof body.detail).toBe('string');
  return body;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('the checkpoint API', () => {
  let dataDir: string;
  let config: TidemarkConfig;
  let app: NestExpressApplication;
  const server = () => app.getHttpServer();
  let full: Summary;
  let incremental: Summary;

  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'tidemark-ckpt-http-'));
    config = testConfig(dataDir);
    expect(config.storage).toMatchObject({ backend: 'LocalFile', basePath: path.join(dataDir, 'store') });
    app = await startApp(config);
  });

  afterAll(async () => {
    await app?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('lists nothing on a new data directory', async () => {
    const res = await request(server()).get('/v1/checkpoints').expect(200);
    expect(res.body).toEqual({ checkpoints: [] });
  });

  it('takes a full checkpoint, then an incremental one on it', async () => {
    await append(app, 'window_processor_1', 40);
    await append(app, 'join_2', 10);
    const { lastLsn } = await walStats(app);
    full = await checkpoint(app, { kind: 'full' });
    expect(full).toMatchObject({
      kind: 'full',
      parentId: null,
      baseId: full.id,
      depth: 0,
      lsn: lastLsn,
      components: ['join_2', 'window_processor_1'],
      status: 'committed',
    });
    expect(full.id).toBeGreaterThanOrEqual(1);
    expect(full.logicalBytes).toBeGreaterThan(0);
    expect(full.storedBytes).toBeGreaterThan(0);
    expect(typeof full.dedupRatio).toBe('number');
    expect(typeof full.durationMs).toBe('number');
    expect(existsSync(path.join(dataDir, 'catalog.json'))).toBe(true);
    expect(existsSync(path.join(dataDir, 'store', config.storage.prefix, 'checkpoints'))).toBe(true);

    const after = await append(app, 'window_processor_1', 5);
    incremental = await checkpoint(app, { kind: 'incremental' });
    expect(incremental.id).toBeGreaterThan(full.id);
    expect(incremental).toMatchObject({
      kind: 'incremental',
      parentId: full.id,
      baseId: full.id,
      depth: 1,
      fromLsn: full.lsn,
      lsn: after.lastLsn,
    });
  });

  it('takes an auto checkpoint when the body is empty', async () => {
    await append(app, 'join_2', 3);
    const auto = await checkpoint(app);
    expect(auto).toMatchObject({ kind: 'incremental', parentId: incremental.id, depth: 2 });
    // The newest restorable checkpoint is what a restart loads: deleting it needs force.
    await request(server()).delete(`/v1/checkpoints/${auto.id}`).expect(409);
    // Keep it simple for what follows: drop it again (nothing depends on it).
    const res = await request(server()).delete(`/v1/checkpoints/${auto.id}?force=true`).expect(200);
    expect((res.body as { removed: Summary }).removed).toMatchObject({ id: auto.id, status: 'deleted' });
  });

  it('lists the checkpoints and reads one by id', async () => {
    const res = await request(server()).get('/v1/checkpoints').expect(200);
    const { checkpoints } = res.body as { checkpoints: Summary[] };
    expect(checkpoints.map((c) => c.id)).toEqual([full.id, incremental.id]);
    for (const field of [
      'id',
      'kind',
      'parentId',
      'baseId',
      'depth',
      'lsn',
      'fromLsn',
      'timestamp',
      'createdAt',
      'logicalBytes',
      'storedBytes',
      'newBytes',
      'dedupRatio',
      'durationMs',
    ]) {
      expect(checkpoints[1]).toHaveProperty(field);
    }
    const one = await request(server()).get(`/v1/checkpoints/${incremental.id}`).expect(200);
    expect(one.body).toEqual(incremental);
  });

  it('answers 404 CHECKPOINT_NOT_FOUND for an unknown or deleted id', async () => {
    const res = await request(server()).get('/v1/checkpoints/999999');
    expect(expectProblem(res, 404, 'CHECKPOINT_NOT_FOUND').details).toEqual({ checkpointId: 999999 });
    expectProblem(await request(server()).delete('/v1/checkpoints/999999'), 404, 'CHECKPOINT_NOT_FOUND');
    expectProblem(
      await request(server()).get(`/v1/checkpoints/${incremental.id + 1}`),
      404,
      'CHECKPOINT_NOT_FOUND',
    );
  });

  it.each([
    ['an unknown kind', { kind: 'partial' }],
    ['a kind that is not a string', { kind: 3 }],
    ['an unknown field', { kind: 'full', extra: true }],
    ['an array', [1, 2]],
  ])('refuses %s with 400 INVALID_ARGUMENT and takes no checkpoint', async (_what, body) => {
    const before = ((await request(server()).get('/v1/checkpoints')).body as { checkpoints: Summary[] })
      .checkpoints.length;
    const res = await request(server()).post('/v1/checkpoints').send(body);
    expectProblem(res, 400, 'INVALID_ARGUMENT');
    const after = ((await request(server()).get('/v1/checkpoints')).body as { checkpoints: Summary[] })
      .checkpoints.length;
    expect(after).toBe(before);
  });

  it.each(['abc', '0', '-1', '1.5', '1e3', '99999999999999999999'])(
    'refuses the id %p with 400 INVALID_ARGUMENT',
    async (id) => {
      expectProblem(await request(server()).get(`/v1/checkpoints/${id}`), 400, 'INVALID_ARGUMENT');
      expectProblem(await request(server()).delete(`/v1/checkpoints/${id}`), 400, 'INVALID_ARGUMENT');
    },
  );

  it('refuses a bad force flag', async () => {
    const res = await request(server()).delete(`/v1/checkpoints/${full.id}?force=maybe`);
    expectProblem(res, 400, 'INVALID_ARGUMENT');
  });

  it('refuses to delete a checkpoint another depends on (409), unless forced', async () => {
    const refused = await request(server()).delete(`/v1/checkpoints/${full.id}`);
    const problem = expectProblem(refused, 409, 'DEPENDENT_CHECKPOINTS');
    expect(problem.details).toEqual({ checkpointId: full.id, dependents: [incremental.id] });
    await request(server()).get(`/v1/checkpoints/${full.id}`).expect(200); // still there

    // A new chain, so the newest state does not depend on what is force-deleted.
    await append(app, 'window_processor_1', 4);
    const full2 = await checkpoint(app, { kind: 'full' });
    await append(app, 'join_2', 2);
    const incremental2 = await checkpoint(app, { kind: 'incremental' });
    expect(incremental2).toMatchObject({ parentId: full2.id, baseId: full2.id });

    const forced = await request(server()).delete(`/v1/checkpoints/${full.id}?force=true`).expect(200);
    const result = forced.body as {
      removed: Summary;
      brokenDependents: number[];
      unreferencedBlocks: string[];
    };
    expect(result.removed).toMatchObject({ id: full.id, status: 'deleted' });
    expect(result.brokenDependents).toEqual([incremental.id]);
    expect(Array.isArray(result.unreferencedBlocks)).toBe(true);
    expectProblem(await request(server()).get(`/v1/checkpoints/${full.id}`), 404, 'CHECKPOINT_NOT_FOUND');
    expect(
      existsSync(
        path.join(dataDir, 'store', config.storage.prefix, 'checkpoints', String(full.id), 'manifest.json'),
      ),
    ).toBe(false);

    // The broken dependent is still committed, and the list says it can no longer be restored.
    const list = await request(server()).get('/v1/checkpoints').expect(200);
    const listed = (list.body as { checkpoints: (Summary & { restorable: boolean })[] }).checkpoints;
    expect(listed.map((c) => [c.id, c.status, c.restorable])).toEqual([
      [incremental.id, 'committed', false],
      [full2.id, 'committed', true],
      [incremental2.id, 'committed', true],
    ]);
    const one = await request(server()).get(`/v1/checkpoints/${incremental.id}`).expect(200);
    expect(one.body).toMatchObject({ id: incremental.id, restorable: false });
    const plan = await request(server()).get(`/v1/recovery/plan?checkpoint=${incremental.id}`);
    expectProblem(plan, 404, 'CHECKPOINT_NOT_FOUND');
  });

  it('stops the checkpoint system before the WAL closes, and finds everything again after a restart', async () => {
    const before = (await request(server()).get('/v1/checkpoints').expect(200)).body as {
      checkpoints: Summary[];
    };
    const last = before.checkpoints[before.checkpoints.length - 1];

    const order: string[] = [];
    const system = app.get(IncrementalCheckpointSystem);
    const wal = app.get(SegmentedWal);
    const merger = app.get(CheckpointMerger);
    const stop = system.stop.bind(system);
    const closeMerger = merger.close.bind(merger);
    const closeWal = wal.close.bind(wal);
    jest.spyOn(system, 'stop').mockImplementation(async () => {
      order.push('system.stop');
      await stop();
    });
    jest.spyOn(merger, 'close').mockImplementation(async () => {
      order.push('merger.close');
      await closeMerger();
    });
    jest.spyOn(wal, 'close').mockImplementation(async () => {
      order.push('wal.close');
      await closeWal();
    });
    await app.close();
    expect(order).toEqual(['system.stop', 'merger.close', 'wal.close']);

    app = await startApp(config);
    const after = await request(server()).get('/v1/checkpoints').expect(200);
    expect(after.body).toEqual(before);

    await append(app, 'window_processor_1', 2);
    const next = await checkpoint(app, { kind: 'auto' });
    expect(next).toMatchObject({ kind: 'incremental', parentId: last.id, baseId: last.baseId });
    expect(next.id).toBeGreaterThan(last.id);
  });
});

describe('WAL retention follows the checkpoints', () => {
  let dataDir: string;
  let app: NestExpressApplication;

  beforeAll(() => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'tidemark-ckpt-retention-'));
  });

  afterAll(async () => {
    await app?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function eventually(what: string, check: () => Promise<boolean>): Promise<void> {
    for (let attempt = 0; attempt < 100; attempt++) {
      if (await check()) return;
      await sleep(20);
    }
    throw new Error(`timed out waiting until ${what}`);
  }

  it('keeps sealed segments until they are uploaded and a committed checkpoint covers them', async () => {
    const config = testConfig(dataDir, {
      TIDEMARK_WAL_SEGMENT_SIZE: '1024',
      TIDEMARK_WAL_RETENTION_SEGMENTS: '0',
      TIDEMARK_UPLOAD_MAX_DELAY_MS: '0',
    });
    app = await startApp(config);
    for (let i = 0; i < 6; i++) await append(app, 'agg_1', 4, 100);
    const sealed = (await walStats(app)).sealedSegments;
    expect(sealed).toBeGreaterThanOrEqual(2);

    // No checkpoint yet: retention (which runs on every seal) deletes nothing, even when asked again.
    expect(await app.get(SegmentedWal).cleanup()).toBe(0);
    expect(await walStats(app)).toMatchObject({ sealedSegments: sealed, deletedSegments: 0 });

    const taken = await checkpoint(app, { kind: 'full' });
    expect(taken.lsn).toBe((await walStats(app)).lastLsn);
    await eventually('the covered segments are deleted', async () => {
      const stats = await walStats(app);
      return stats.sealedSegments === 0 && stats.deletedSegments === sealed;
    });
    // Only after their upload was verified: the store holds every entry the deleted segments held.
    const packs = app.get(UploadedSegments).list();
    expect(packs[0]?.firstLsn).toBe(1);
    expect(Math.max(...packs.map((pack) => pack.lastLsn))).toBeGreaterThanOrEqual(
      (await walStats(app)).firstLsn - 1,
    );

    // Segments sealed after the checkpoint are not covered and stay.
    for (let i = 0; i < 4; i++) await append(app, 'agg_1', 4, 100);
    const later = (await walStats(app)).sealedSegments;
    expect(later).toBeGreaterThanOrEqual(1);
    expect(await app.get(SegmentedWal).cleanup()).toBe(0);
    expect((await walStats(app)).sealedSegments).toBe(later);

    // After a restart the guard is installed again, and the state is rebuilt from checkpoint + WAL.
    await app.close();
    app = await startApp(config);
    expect((await walStats(app)).sealedSegments).toBeGreaterThanOrEqual(later);
    await checkpoint(app, { kind: 'incremental' });
    await eventually('the newly covered segments are deleted', async () => {
      return (await walStats(app)).sealedSegments === 0;
    });
    const state = await app.get(IncrementalCheckpointSystem).currentState(['agg_1']);
    expect(state.components.get('agg_1')?.records.map((r) => r.key.toString())).toEqual([
      'key-0',
      'key-1',
      'key-2',
      'key-3',
    ]);
  });
});

describe('periodic checkpoints', () => {
  let dataDir: string;
  let app: NestExpressApplication;

  afterAll(async () => {
    await app?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('are taken on the configured interval once the app has started', async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'tidemark-ckpt-periodic-'));
    app = await startApp(testConfig(dataDir, { TIDEMARK_CHECKPOINT_INTERVAL_MS: '50' }));
    await append(app, 'window_processor_9', 3);
    let checkpoints: Summary[] = [];
    for (let attempt = 0; attempt < 100 && checkpoints.length === 0; attempt++) {
      await sleep(20);
      const res = await request(app.getHttpServer()).get('/v1/checkpoints').expect(200);
      checkpoints = (res.body as { checkpoints: Summary[] }).checkpoints;
    }
    expect(checkpoints[0]).toMatchObject({ kind: 'full', components: ['window_processor_9'] });
  });
});
