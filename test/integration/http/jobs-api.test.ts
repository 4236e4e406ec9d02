import type { NestExpressApplication } from '@nestjs/platform-express';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import request from 'supertest';
import { createApp } from '../../../src/server/create-app';
import { loadConfig, type TidemarkConfig } from '../../../src/config';
import type { JobRecord } from '../../../src/jobs/job-queue';
import { startRedis, type TestRedis } from '../../support/redis-server';

function testConfig(dataDir: string, env: Record<string, string> = {}): TidemarkConfig {
  return loadConfig({
    env: {
      DATA_DIR: dataDir,
      LOG_LEVEL: 'silent',
      TIDEMARK_CHECKPOINT_INTERVAL_MS: '0',
      TIDEMARK_WAL_PREALLOCATE: 'false',
      TIDEMARK_WAL_SEGMENT_SIZE: '2048',
      TIDEMARK_UPLOAD_MAX_DELAY_MS: '3600000',
      ...env,
    },
  });
}

async function startApp(config: TidemarkConfig): Promise<NestExpressApplication> {
  const app = await createApp(config);
  await app.init();
  return app;
}

async function appendSome(app: NestExpressApplication, from: number, count: number): Promise<void> {
  const entries = Array.from({ length: count }, (_, i) => ({
    componentId: 'agg',
    sequence: from + i,
    changes: [{ op: 'put', key: Buffer.from(`k${i % 20}`).toString('base64'), value: 'eHl6'.repeat(30) }],
  }));
  await request(app.getHttpServer()).post('/v1/wal/entries').send({ entries }).expect(201);
}

async function finished(app: NestExpressApplication, id: string): Promise<JobRecord> {
  for (let attempt = 0; attempt < 500; attempt++) {
    const res = await request(app.getHttpServer())
      .get(`/v1/jobs/${encodeURIComponent(id)}`)
      .expect(200);
    const job = res.body as JobRecord;
    if (job.state === 'completed' || job.state === 'failed') return job;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`job ${id} did not finish`);
}

/** The same API whichever queue runs the jobs: in process (embedded), or BullMQ WorkerHosts on Redis. */
function describeJobsApi(mode: string, env: () => Record<string, string>): void {
  describe(`jobs API (${mode})`, () => {
    let dataDir: string;
    let app: NestExpressApplication;

    beforeAll(async () => {
      dataDir = mkdtempSync(path.join(tmpdir(), 'tidemark-jobs-api-'));
      app = await startApp(testConfig(dataDir, env()));
    });

    afterAll(async () => {
      await app?.close();
      rmSync(dataDir, { recursive: true, force: true });
    });

    it('uploads pending segments on POST /v1/uploads and shows the job', async () => {
      for (let batch = 0; batch < 10; batch++) await appendSome(app, 1 + batch * 20, 20);
      const res = await request(app.getHttpServer()).post('/v1/uploads').expect(202);
      const job = await finished(app, (res.body as JobRecord).id);
      expect(job).toMatchObject({ name: 'segment-upload', state: 'completed', attemptsMade: 1 });
      const uploaded = (job.result as { uploaded: unknown[] }).uploaded;
      expect(uploaded.length).toBeGreaterThan(0);
      const list = await request(app.getHttpServer()).get('/v1/jobs?name=segment-upload').expect(200);
      expect((list.body as { jobs: JobRecord[] }).jobs.map((j) => j.id)).toContain(job.id);
    });

    it('runs compaction, retention and GC on demand (202 with the job)', async () => {
      await request(app.getHttpServer()).post('/v1/checkpoints').send({ kind: 'full' }).expect(201);
      for (const [route, name, body] of [
        ['/v1/compaction', 'checkpoint-compaction', undefined],
        ['/v1/retention', 'retention', undefined],
        ['/v1/gc', 'garbage-collection', { fullSweep: true }],
      ] as const) {
        const req = request(app.getHttpServer()).post(route);
        const res = await (body === undefined ? req : req.send(body)).expect(202);
        const job = await finished(app, (res.body as JobRecord).id);
        expect(job).toMatchObject({ name, state: 'completed' });
        expect(job.result).not.toHaveProperty('skipped'); // this node holds the maintenance lease
      }
    });

    it('answers problems for unknown jobs and bad requests', async () => {
      const missing = await request(app.getHttpServer()).get('/v1/jobs/no-such-job').expect(404);
      expect(missing.body).toMatchObject({ code: 'NOT_FOUND' });
      const badFilter = await request(app.getHttpServer()).get('/v1/jobs?state=sleeping').expect(400);
      expect(badFilter.body).toMatchObject({ code: 'INVALID_ARGUMENT' });
      const badGc = await request(app.getHttpServer()).post('/v1/gc').send({ sweep: 'all' }).expect(400);
      expect(badGc.body).toMatchObject({ code: 'INVALID_ARGUMENT' });
    });
  });
}

describeJobsApi('in process', () => ({}));

let redis: TestRedis | undefined;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.dispose();
});
describeJobsApi('BullMQ on Redis', () => ({ REDIS_URL: redis!.url }));
