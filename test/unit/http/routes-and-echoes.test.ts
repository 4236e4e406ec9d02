import request from 'supertest';
import { ECHO_LIMIT } from '../../../src/lib/errors';
import { expectProblem, startQuietApp, T0_MICROS, type TestApp } from '../../support/http/http-app';

/**
 * Issue 10, item 13: a known path with a method it does not take is 405 with `Allow` (not 404 "Cannot PUT"),
 * and no error repeats more than ECHO_LIMIT characters of what the caller sent.
 */

let test: TestApp;
const server = () => test.app.getHttpServer();

beforeAll(async () => {
  test = await startQuietApp();
});

afterAll(async () => {
  await test?.close();
});

describe('405 Method Not Allowed', () => {
  it.each([
    ['put', '/v1/wal', 'GET, HEAD'],
    ['post', '/v1/wal/segments', 'GET, HEAD'],
    ['delete', '/v1/wal/entries', 'POST'],
    ['get', '/v1/wal/entries', 'POST'],
    ['put', '/v1/checkpoints', 'GET, HEAD, POST'],
    ['patch', '/v1/checkpoints/7', 'DELETE, GET, HEAD'],
    ['post', '/v1/jobs/some-job', 'GET, HEAD'],
    ['get', '/v1/gc', 'POST'],
    ['get', '/v1/recovery', 'POST'],
    ['delete', '/v1/recovery/plan', 'GET, HEAD'],
    ['post', '/health', 'GET, HEAD'],
    ['put', '/v1/wal/', 'GET, HEAD'],
  ] as const)('%s %s is 405 with Allow: %s', async (method, path, allow) => {
    const res = await request(server())[method](path);
    const problem = expectProblem(res, 405, 'INVALID_ARGUMENT');
    expect(res.headers.allow).toBe(allow);
    expect(problem.details).toEqual({ method: method.toUpperCase(), allow: allow.split(', ') });
  });

  it('an unknown path is still 404', async () => {
    expectProblem(await request(server()).put('/v1/nope'), 404, 'NOT_FOUND');
    expectProblem(await request(server()).get('/v1/checkpoints/1/extra'), 404, 'NOT_FOUND');
    expectProblem(await request(server()).get('/'), 404, 'NOT_FOUND');
  });
});

describe('errors repeat at most ECHO_LIMIT characters of the input', () => {
  const huge = 'x'.repeat(10_240);
  const tooMuch = huge.slice(0, ECHO_LIMIT + 1);

  function expectCapped(res: request.Response, status: number): void {
    expectProblem(res, status, status === 404 ? 'NOT_FOUND' : 'INVALID_ARGUMENT');
    expect(res.text).not.toContain(tooMuch);
    // Where a piece is repeated, the cut is said, with the length of what was sent.
    if (res.text.includes(huge.slice(0, 16))) expect(res.text).toMatch(/…\\?"? \(\d+ characters\)/);
  }

  it('in paths: an unknown route, a job id, a checkpoint id', async () => {
    expectCapped(await request(server()).get(`/v1/${huge}`), 404);
    expectCapped(await request(server()).get(`/v1/jobs/${huge}`), 404);
    expectCapped(await request(server()).get(`/v1/checkpoints/${huge}`), 400);
    expectCapped(await request(server()).delete(`/v1/checkpoints/${huge}`), 400);
  });

  it('in query strings: values and parameter names', async () => {
    expectCapped(await request(server()).delete(`/v1/checkpoints/1?force=${huge}`), 400);
    expectCapped(await request(server()).delete(`/v1/checkpoints/1?${huge}=1`), 400);
    expectCapped(await request(server()).get(`/v1/recovery/plan?lsn=${huge}`), 400);
    expectCapped(await request(server()).get(`/v1/recovery/plan?time=${huge}`), 400);
    expectCapped(await request(server()).get(`/v1/recovery/plan?lsn=1&components=${huge}`), 400);
    expectCapped(await request(server()).get(`/v1/recovery/plan?${huge}=1`), 400);
    expectCapped(await request(server()).get(`/v1/jobs?state=${huge}`), 400);
    expectCapped(await request(server()).get(`/v1/jobs?${huge}=1`), 400);
  });

  it('in bodies: ids, keys, unknown field names, enum values, times, content types', async () => {
    const entry = { componentId: 'ok_1', sequence: 1, timestamp: T0_MICROS, changes: [{ op: 'clear' }] };
    const wal = (body: object) => request(server()).post('/v1/wal/entries').send(body);
    expectCapped(await wal({ entries: [{ ...entry, componentId: huge }] }), 400);
    expectCapped(await wal({ entries: [{ ...entry, metadata: { [huge]: 1 } }] }), 400);
    expectCapped(await wal({ entries: [{ ...entry, [huge]: 1 }] }), 400);
    expectCapped(await wal({ [huge]: 1 }), 400);
    expectCapped(await request(server()).post('/v1/checkpoints').send({ kind: huge }), 400);
    expectCapped(
      await request(server())
        .post('/v1/checkpoints')
        .send({ [huge]: 1 }),
      400,
    );
    expectCapped(
      await request(server())
        .post('/v1/gc')
        .send({ [huge]: true }),
      400,
    );
    expectCapped(
      await request(server())
        .post('/v1/recovery')
        .send({ target: { time: huge } }),
      400,
    );
    expectCapped(
      await request(server())
        .post('/v1/recovery')
        .send({ target: { lsn: 1 }, components: [huge] }),
      400,
    );
    expectCapped(
      await request(server()).post('/v1/checkpoints').set('content-type', `text/${huge}`).send('x'),
      415,
    );
  });
});

describe('requests Node refuses before any route (found by the property test)', () => {
  it('headers over 16 KiB are 431 as a problem, not a bare status line', async () => {
    const res = await request(server()).get('/v1/wal').set('x-filler', 'f'.repeat(17_000));
    expectProblem(res, 431, 'INVALID_ARGUMENT');
    expect(res.text).not.toContain('f'.repeat(ECHO_LIMIT + 1));
    const longUrl = await request(server()).get(`/v1/jobs/${'j'.repeat(17_000)}`);
    expectProblem(longUrl, 431, 'INVALID_ARGUMENT');
  });
});
