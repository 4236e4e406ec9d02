import request from 'supertest';
import { expectProblem, startQuietApp, T0_MICROS, type TestApp } from '../../support/http/http-app';

/**
 * Issue 10, item 2: every route that takes (or could be sent) a body parses only the media types it names
 * and refuses the rest with 415, refuses unknown fields with 400, and takes an absent or empty body where
 * the body is optional. Routes with a query refuse unknown parameters. A refused request changes nothing.
 */

let test: TestApp;
const server = () => test.app.getHttpServer();

interface Observed {
  lastLsn: number;
  checkpoints: number[];
  jobs: string[];
}

async function observe(): Promise<Observed> {
  const wal = await request(server()).get('/v1/wal').expect(200);
  const checkpoints = await request(server()).get('/v1/checkpoints').expect(200);
  const jobs = await request(server()).get('/v1/jobs').expect(200);
  return {
    lastLsn: (wal.body as { lastLsn: number }).lastLsn,
    checkpoints: (checkpoints.body as { checkpoints: { id: number }[] }).checkpoints.map((c) => c.id),
    jobs: (jobs.body as { jobs: { id: string }[] }).jobs.map((j) => j.id),
  };
}

beforeAll(async () => {
  test = await startQuietApp();
  const entries = [
    {
      componentId: 'agg_1',
      sequence: 1,
      timestamp: T0_MICROS,
      changes: [{ op: 'put', key: 'aw==', value: 'dg==' }],
    },
  ];
  await request(server()).post('/v1/wal/entries').send({ entries }).expect(201);
  await request(server()).post('/v1/checkpoints').send({ kind: 'full' }).expect(201);
});

afterAll(async () => {
  await test?.close();
});

const BODY_ROUTES = [
  ['/v1/checkpoints', { kind: 'full' }],
  ['/v1/compaction', {}],
  ['/v1/retention', {}],
  ['/v1/gc', { fullSweep: true }],
  ['/v1/uploads', {}],
  ['/v1/recovery', { target: { lsn: 1 } }],
  [
    '/v1/wal/entries',
    { entries: [{ componentId: 'agg_1', sequence: 99, timestamp: T0_MICROS, changes: [{ op: 'clear' }] }] },
  ],
] as const;

describe('a media type the route does not parse', () => {
  const cases = BODY_ROUTES.flatMap(([route, body]) => [
    [route, 'text/plain', JSON.stringify(body)],
    [route, 'application/x-www-form-urlencoded', new URLSearchParams({ kind: 'full' }).toString()],
    [route, 'application/xml', '<kind>full</kind>'],
  ]);

  it.each(cases)('POST %s as %s is 415 and changes nothing', async (route, type, text) => {
    const before = await observe();
    const res = await request(server()).post(route).set('content-type', type).send(text);
    const problem = expectProblem(res, 415, 'INVALID_ARGUMENT');
    expect(problem.detail).toMatch(/application\/json/);
    expect(await observe()).toEqual(before);
  });

  it('a body with no content type at all is 415 too', async () => {
    const before = await observe();
    const res = await request(server())
      .post('/v1/checkpoints')
      .set('content-type', '')
      .send(Buffer.from('{"kind":"full"}'));
    expectProblem(res, 415, 'INVALID_ARGUMENT');
    expect(await observe()).toEqual(before);
  });

  it('DELETE /v1/checkpoints/:id takes no body: force in a body is not silently ignored', async () => {
    const before = await observe();
    const res = await request(server())
      .delete(`/v1/checkpoints/${before.checkpoints[0]}`)
      .send({ force: true });
    expectProblem(res, 400, 'INVALID_ARGUMENT');
    expect(await observe()).toEqual(before);
  });
});

describe('unknown fields', () => {
  it.each(BODY_ROUTES.map(([route, body]) => [route, { ...body, surprise: 1 }]))(
    'POST %s with an unknown field is 400 and changes nothing',
    async (route, body) => {
      const before = await observe();
      const res = await request(server()).post(route).send(body);
      const problem = expectProblem(res, 400, 'INVALID_ARGUMENT');
      expect(problem.detail).toContain('surprise');
      expect(await observe()).toEqual(before);
    },
  );

  it.each(BODY_ROUTES.map(([route]) => [route]))(
    'POST %s with a JSON array or number is 400',
    async (route) => {
      expectProblem(await request(server()).post(route).send([1, 2]), 400, 'INVALID_ARGUMENT');
      expectProblem(
        await request(server()).post(route).set('content-type', 'application/json').send('3'),
        400,
        'INVALID_ARGUMENT',
      );
    },
  );
});

describe('absent or empty bodies', () => {
  it.each(['/v1/compaction', '/v1/retention', '/v1/gc', '/v1/uploads'])(
    'POST %s takes no body, an empty body or {}',
    async (route) => {
      await request(server()).post(route).expect(202);
      await request(server()).post(route).set('content-type', 'text/plain').send('').expect(202);
      await request(server()).post(route).send({}).expect(202);
    },
  );

  it('POST /v1/checkpoints takes no body (kind auto)', async () => {
    await request(server()).post('/v1/checkpoints').expect(201);
    await request(server()).post('/v1/checkpoints').set('content-type', 'text/plain').send('').expect(201);
  });

  it.each(['/v1/recovery', '/v1/wal/entries'])('POST %s needs a body: 400 without one', async (route) => {
    const before = await observe();
    expectProblem(await request(server()).post(route), 400, 'INVALID_ARGUMENT');
    expect(await observe()).toEqual(before);
  });
});

describe('unknown query parameters', () => {
  it('DELETE /v1/checkpoints/:id?forse=true is 400, not a delete without force', async () => {
    const before = await observe();
    const res = await request(server()).delete(`/v1/checkpoints/${before.checkpoints[0]}?forse=true`);
    const problem = expectProblem(res, 400, 'INVALID_ARGUMENT');
    expect(problem.detail).toContain('forse');
    expect(await observe()).toEqual(before);
  });

  it('GET /v1/jobs and GET /v1/recovery/plan refuse unknown parameters', async () => {
    expectProblem(await request(server()).get('/v1/jobs?stat=failed'), 400, 'INVALID_ARGUMENT');
    expectProblem(await request(server()).get('/v1/recovery/plan?lsn=1&level=1'), 400, 'INVALID_ARGUMENT');
  });

  it('a parameter given twice is 400', async () => {
    const before = await observe();
    const res = await request(server()).delete(
      `/v1/checkpoints/${before.checkpoints[0]}?force=false&force=true`,
    );
    expectProblem(res, 400, 'INVALID_ARGUMENT');
    expectProblem(await request(server()).get('/v1/jobs?limit=1&limit=2'), 400, 'INVALID_ARGUMENT');
    expect(await observe()).toEqual(before);
  });
});
