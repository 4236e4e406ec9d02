import request from 'supertest';
import type { CheckpointSummary } from '../../../src/checkpoint/catalog/checkpoint-summary';
import { readNdjson } from '../../../src/recovery/output/ndjson';
import { encodeBatch, SegmentedWal, type LogRecord } from '../../../src/wal';
import { expectProblem, startQuietApp, T0_MICROS, type TestApp } from '../../support/http/http-app';

/**
 * Names of Object.prototype's members through the JSON API: `__proto__`, `constructor`, `toString` are
 * valid component ids and ordinary metadata keys (JSON.parse and zod must neither drop nor mis-assign
 * them), except a `__proto__` metadata key, which the WAL refuses and the API refuses the same way.
 */

let test: TestApp;
const server = () => test.app.getHttpServer();
const b64 = (text: string) => Buffer.from(text).toString('base64');
const ODD_IDS = ['__proto__', 'constructor', 'toString', 'hasOwnProperty'];

async function lastLsn(): Promise<number> {
  return ((await request(server()).get('/v1/wal').expect(200)).body as { lastLsn: number }).lastLsn;
}

async function read(fromLsn: number, toLsn: number): Promise<LogRecord[]> {
  const records: LogRecord[] = [];
  for await (const record of test.app.get(SegmentedWal).read({ fromLsn, toLsn })) records.push(record);
  return records;
}

beforeAll(async () => {
  test = await startQuietApp();
});

afterAll(async () => {
  await test?.close();
});

describe('odd names through the JSON API', () => {
  it('appends entries of components named __proto__, constructor, toString, hasOwnProperty', async () => {
    const entries = ODD_IDS.map((componentId, i) => ({
      componentId,
      sequence: 1,
      timestamp: T0_MICROS + i,
      changes: [{ op: 'put', key: b64('k'), value: b64(`${componentId}-json`) }],
      metadata: { constructor: 'c', toString: 's', hasOwnProperty: 'h', valueOf: 'v' },
    }));
    const res = await request(server()).post('/v1/wal/entries').send({ entries }).expect(201);
    const { firstLsn, lastLsn } = res.body as { firstLsn: number; lastLsn: number };
    const records = await read(firstLsn, lastLsn);
    expect(records.map((r) => r.entry.componentId)).toEqual(ODD_IDS);
    for (const { entry } of records) {
      expect(Object.getPrototypeOf(entry.metadata)).toBe(Object.prototype);
      expect(Object.entries(entry.metadata!)).toEqual([
        ['constructor', 'c'],
        ['toString', 's'],
        ['hasOwnProperty', 'h'],
        ['valueOf', 'v'],
      ]);
      const put = entry.changes[0]!;
      expect(put.op === 'put' && put.value.toString()).toBe(`${entry.componentId}-json`);
    }
  });

  it('appends them as a binary batch too', async () => {
    const entries = ODD_IDS.map((componentId, i) => ({
      componentId,
      sequence: 2,
      timestamp: T0_MICROS + 10 + i,
      changes: [{ op: 'put' as const, key: 'k', value: `${componentId}-binary` }],
    }));
    const res = await request(server())
      .post('/v1/wal/entries')
      .set('content-type', 'application/octet-stream')
      .send(encodeBatch(entries))
      .expect(201);
    const { firstLsn, lastLsn } = res.body as { firstLsn: number; lastLsn: number };
    expect((await read(firstLsn, lastLsn)).map((r) => r.entry.componentId)).toEqual(ODD_IDS);
  });

  it('refuses a __proto__ metadata key (not drop it), as the WAL does, and writes nothing', async () => {
    const before = await lastLsn();
    const entry = { componentId: 'agg_1', sequence: 1, timestamp: T0_MICROS, changes: [{ op: 'clear' }] };
    const json = `{"entries":[${JSON.stringify(entry).slice(0, -1)},"metadata":{"__proto__":"x","a":"b"}}]}`;
    const res = await request(server())
      .post('/v1/wal/entries')
      .set('content-type', 'application/json')
      .send(json);
    const problem = expectProblem(res, 400, 'INVALID_ARGUMENT');
    expect(problem.detail).toContain('metadata key __proto__ is not allowed');
    expect(await lastLsn()).toBe(before);
  });

  it('refuses __proto__ as an unknown field of an entry, of the batch and of other bodies', async () => {
    const before = await lastLsn();
    const entry = `{"componentId":"agg_1","sequence":1,"timestamp":${T0_MICROS},"changes":[]`;
    for (const [route, text] of [
      ['/v1/wal/entries', `{"entries":[${entry},"__proto__":{"sequence":9}}]}`],
      ['/v1/wal/entries', `{"entries":[${entry}}],"__proto__":{"x":1}}`],
      ['/v1/checkpoints', '{"__proto__":{"kind":"full"}}'],
      ['/v1/gc', '{"__proto__":{"fullSweep":true}}'],
      ['/v1/recovery', '{"target":{"lsn":1},"__proto__":{"format":"binary"}}'],
      ['/v1/recovery', '{"target":{"lsn":1,"__proto__":{"time":1}}}'],
    ]) {
      const res = await request(server()).post(route).set('content-type', 'application/json').send(text);
      expect([route, expectProblem(res, 400, 'INVALID_ARGUMENT').detail]).toEqual([
        route,
        expect.stringContaining('__proto__'),
      ]);
    }
    expect(await lastLsn()).toBe(before);
    const checkpoints = await request(server()).get('/v1/checkpoints').expect(200);
    expect((checkpoints.body as { checkpoints: unknown[] }).checkpoints).toEqual([]);
  });

  it('checkpoints, plans and recovers those components by name', async () => {
    const full = (await request(server()).post('/v1/checkpoints').send({ kind: 'full' }).expect(201))
      .body as CheckpointSummary;
    expect(full.components).toEqual([...ODD_IDS].sort());
    const plan = await request(server())
      .get('/v1/recovery/plan')
      .query({ checkpoint: full.id, components: '__proto__,constructor' })
      .expect(200);
    expect((plan.body as { components: string[] }).components).toEqual(['__proto__', 'constructor']);
    const res = await request(server())
      .post('/v1/recovery')
      .send({ target: { checkpointId: full.id }, components: ['__proto__', 'toString'] })
      .buffer(true)
      .parse((stream, done) => {
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('end', () => done(null, Buffer.concat(chunks).toString('utf8')));
      })
      .expect(200);
    const streamed = readNdjson(res.body as string);
    expect(streamed.complete).toBe(true);
    expect([...streamed.state.keys()].sort()).toEqual(['__proto__', 'toString']);
    expect(streamed.state.get('__proto__')?.map((r) => r.value.toString())).toEqual(['__proto__-binary']);
  });
});
