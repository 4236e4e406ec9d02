import type { NestExpressApplication } from '@nestjs/platform-express';
import { mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import request from 'supertest';
import { createApp } from '../../../src/server/create-app';
import { loadConfig, type TidemarkConfig } from '../../../src/config';
import { encodeBatch, SegmentedWal, type LogEntry, type LogRecord } from '../../../src/wal';

/** The real Nest app on a temporary data directory: real WAL, real fsync, requests through supertest. */

let dataDir: string;
let config: TidemarkConfig;
let app: NestExpressApplication;

const b64 = (text: string) => Buffer.from(text).toString('base64');
const server = () => app.getHttpServer();

async function lastLsn(): Promise<number> {
  const res = await request(server()).get('/v1/wal').expect(200);
  return (res.body as { lastLsn: number }).lastLsn;
}

async function readAll(fromLsn: number, toLsn: number): Promise<LogRecord[]> {
  const records: LogRecord[] = [];
  for await (const record of app.get(SegmentedWal).read({ fromLsn, toLsn })) records.push(record);
  return records;
}

function expectProblem(res: request.Response, status: number, code: string): void {
  expect(res.status).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  const body = JSON.parse(res.text) as Record<string, unknown>;
  expect(body).toMatchObject({ type: `urn:tidemark:error:${code}`, status, code });
  expect(typeof body.title).toBe('string');
  expect(typeof body.detail).toBe('string');
  expect(typeof body.details).toBe('object');
  expect(res.text).not.toMatch(/\bat .*\.(ts|js):\d+/); // no stack traces
}

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'tidemark-http-'));
  config = loadConfig({
    env: { DATA_DIR: dataDir, LOG_LEVEL: 'silent', TIDEMARK_WAL_SEGMENT_SIZE: '65536' },
  });
  app = await createApp(config);
  await app.init();
});

afterAll(async () => {
  await app?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('POST /v1/wal/entries', () => {
  it('appends a JSON batch and answers with its LSNs', async () => {
    const res = await request(server())
      .post('/v1/wal/entries')
      .send({
        entries: [
          {
            componentId: 'window_processor_1',
            sequence: 1,
            timestamp: 1_700_000_000_000_000,
            changes: [{ op: 'put', key: b64('k1'), value: b64('v1') }],
            metadata: { source: 'test' },
          },
          { componentId: 'window_processor_1', sequence: 2, changes: [{ op: 'delete', key: b64('k1') }] },
          { componentId: 'join_2', sequence: 7, changes: [{ op: 'clear' }] },
        ],
      })
      .expect(201);
    const { firstLsn, lastLsn, count } = res.body as { firstLsn: number; lastLsn: number; count: number };
    expect(count).toBe(3);
    expect(lastLsn - firstLsn).toBe(2);

    const records = await readAll(firstLsn, lastLsn);
    expect(records.map((r) => r.lsn)).toEqual([firstLsn, firstLsn + 1, lastLsn]);
    const [first, second, third] = records.map((r) => r.entry);
    expect(first).toMatchObject({
      componentId: 'window_processor_1',
      sequence: 1,
      timestamp: 1_700_000_000_000_000,
    });
    expect(first.metadata).toEqual({ source: 'test' });
    expect(first.changes).toHaveLength(1);
    const put = first.changes[0];
    expect(put.op === 'put' && [put.key.toString(), put.value.toString()]).toEqual(['k1', 'v1']);
    expect(second.changes[0]).toMatchObject({ op: 'delete' });
    expect(second.timestamp).toBeGreaterThan(0); // defaulted to now
    expect(third).toMatchObject({ componentId: 'join_2', sequence: 7, changes: [{ op: 'clear' }] });
  });

  it('appends a binary batch sent as application/octet-stream', async () => {
    const entries: LogEntry[] = [
      {
        componentId: 'agg_3',
        sequence: 1,
        timestamp: 1_700_000_000_000_001,
        changes: [{ op: 'put', key: 'a', value: Buffer.alloc(300, 7) }],
      },
      {
        componentId: 'agg_3',
        sequence: 2,
        timestamp: 1_700_000_000_000_002,
        changes: [{ op: 'delete', key: 'a' }],
      },
    ];
    const before = await lastLsn();
    const res = await request(server())
      .post('/v1/wal/entries')
      .set('content-type', 'application/octet-stream')
      .send(encodeBatch(entries))
      .expect(201);
    expect(res.body).toEqual({ firstLsn: before + 1, lastLsn: before + 2, count: 2 });
    const records = await readAll(before + 1, before + 2);
    expect(records.map((r) => r.entry.componentId)).toEqual(['agg_3', 'agg_3']);
    const put = records[0].entry.changes[0];
    expect(put.op === 'put' && put.value.equals(Buffer.alloc(300, 7))).toBe(true);
  });

  const good = { componentId: 'ok_1', sequence: 100, changes: [{ op: 'clear' }] };
  const badJson: [string, unknown][] = [
    ['no entries field', {}],
    ['an empty batch', { entries: [] }],
    [
      'a key that is not base64',
      { entries: [{ ...good, changes: [{ op: 'put', key: '!!', value: b64('v') }] }] },
    ],
    ['an unknown op', { entries: [{ ...good, changes: [{ op: 'upsert', key: b64('k') }] }] }],
    ['a negative sequence', { entries: [{ ...good, sequence: -1 }] }],
    ['a fractional timestamp', { entries: [{ ...good, timestamp: 1.5 }] }],
    ['an unknown field', { entries: [{ ...good, extra: true }] }],
    ['a good entry then a bad component id', { entries: [good, { ...good, componentId: 'bad id/..' }] }],
    [
      'a good entry then an over-long component id',
      { entries: [good, { ...good, componentId: 'x'.repeat(300) }] },
    ],
    [
      'a sequence that does not rise',
      {
        entries: [
          { ...good, componentId: 'seq_1', sequence: 5 },
          { ...good, componentId: 'seq_1', sequence: 5 },
        ],
      },
    ],
  ];

  it.each(badJson)('refuses %s with a 400 problem and writes nothing', async (_name, body) => {
    const before = await lastLsn();
    const res = await request(server())
      .post('/v1/wal/entries')
      .send(body as object);
    expectProblem(res, 400, 'INVALID_ARGUMENT');
    expect(await lastLsn()).toBe(before);
  });

  it('names the bad field', async () => {
    const res = await request(server())
      .post('/v1/wal/entries')
      .send({ entries: [good, { ...good, changes: [{ op: 'put', key: b64('k') }] }] });
    expectProblem(res, 400, 'INVALID_ARGUMENT');
    expect((res.body as { detail: string }).detail).toContain('entries[1].changes[0].value');
  });

  it('refuses malformed JSON as a 400 problem', async () => {
    const before = await lastLsn();
    const res = await request(server())
      .post('/v1/wal/entries')
      .set('content-type', 'application/json')
      .send('{"entries": [');
    expectProblem(res, 400, 'INVALID_ARGUMENT');
    expect(await lastLsn()).toBe(before);
  });

  it('refuses another media type with 415', async () => {
    const res = await request(server())
      .post('/v1/wal/entries')
      .set('content-type', 'text/plain')
      .send('hello');
    expectProblem(res, 415, 'INVALID_ARGUMENT');
  });

  it('refuses an empty or undecodable binary batch and writes nothing', async () => {
    const before = await lastLsn();
    const empty = await request(server())
      .post('/v1/wal/entries')
      .set('content-type', 'application/octet-stream');
    expectProblem(empty, 400, 'INVALID_ARGUMENT');
    const garbage = await request(server())
      .post('/v1/wal/entries')
      .set('content-type', 'application/octet-stream')
      .send(Buffer.from('definitely not a batch'));
    expect([400, 422]).toContain(garbage.status);
    expect(garbage.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(['INVALID_ARGUMENT', 'DESERIALIZATION_ERROR']).toContain((garbage.body as { code: string }).code);
    expect(await lastLsn()).toBe(before);
  });
});

describe('timestamps (issue 10, item 12)', () => {
  const inMs = {
    componentId: 'clock_1',
    sequence: 1,
    timestamp: 1_796_422_532_118,
    changes: [{ op: 'clear' }],
  };

  it('refuses a timestamp in milliseconds sent as JSON, saying microseconds were expected', async () => {
    const before = await lastLsn();
    const res = await request(server())
      .post('/v1/wal/entries')
      .send({ entries: [inMs] });
    expectProblem(res, 400, 'INVALID_ARGUMENT');
    expect((res.body as { detail: string }).detail).toMatch(
      /timestamp 1796422532118 looks like milliseconds; expected microseconds since the epoch/,
    );
    expect(await lastLsn()).toBe(before);
  });

  it('refuses it in a binary batch too', async () => {
    const before = await lastLsn();
    const res = await request(server())
      .post('/v1/wal/entries')
      .set('content-type', 'application/octet-stream')
      .send(encodeBatch([{ ...inMs, changes: [{ op: 'clear' }] }]));
    expectProblem(res, 400, 'INVALID_ARGUMENT');
    expect((res.body as { detail: string }).detail).toMatch(/looks like milliseconds/);
    expect(await lastLsn()).toBe(before);
  });
});

describe('GET /v1/wal and /v1/wal/segments', () => {
  it('reports the log', async () => {
    const res = await request(server()).get('/v1/wal').expect(200);
    expect(res.body).toMatchObject({
      dir: config.wal.dir,
      firstLsn: expect.any(Number),
      lastLsn: expect.any(Number),
      nextLsn: expect.any(Number),
      segments: expect.any(Number),
      bytes: expect.any(Number),
      fsync: {
        count: expect.any(Number),
        p50Micros: expect.any(Number),
        p99Micros: expect.any(Number),
        maxMicros: expect.any(Number),
      },
    });
    const body = res.body as { lastLsn: number; nextLsn: number; segments: number };
    expect(body.nextLsn).toBe(body.lastLsn + 1);
    expect(body.segments).toBeGreaterThanOrEqual(1);
  });

  it('lists the segments in LSN order', async () => {
    await app.get(SegmentedWal).seal();
    const res = await request(server()).get('/v1/wal/segments').expect(200);
    const { segments } = res.body as { segments: Record<string, unknown>[] };
    expect(segments.length).toBeGreaterThanOrEqual(1);
    for (const segment of segments) {
      expect(segment).toMatchObject({
        name: expect.any(String),
        firstLsn: expect.any(Number),
        lastLsn: expect.any(Number),
        entryCount: expect.any(Number),
        sizeBytes: expect.any(Number),
        sealed: expect.any(Boolean),
      });
    }
    expect(segments.some((s) => s.sealed === true && (s.entryCount as number) > 0)).toBe(true);
    const firsts = segments.map((s) => s.firstLsn as number);
    expect(firsts).toEqual([...firsts].sort((a, b) => a - b));
  });
});

describe('GET /health', () => {
  it('is up while the WAL directory is writable', async () => {
    const res = await request(server()).get('/health').expect(200);
    expect(res.body).toMatchObject({ status: 'ok', info: { walDir: { status: 'up', dir: config.wal.dir } } });
  });

  it('is down (503, Terminus body) while the WAL directory is gone', async () => {
    const moved = `${config.wal.dir}.moved`;
    renameSync(config.wal.dir, moved);
    try {
      const res = await request(server()).get('/health').expect(503);
      expect(res.body).toMatchObject({ status: 'error', error: { walDir: { status: 'down' } } });
    } finally {
      renameSync(moved, config.wal.dir);
    }
    await request(server()).get('/health').expect(200);
  });
});

describe('other routes', () => {
  it('answer 404 as a problem', async () => {
    expectProblem(await request(server()).get('/v1/nope'), 404, 'NOT_FOUND');
  });
});

describe('body limit', () => {
  it('refuses a body over server.bodyLimit with a 413 problem', async () => {
    const smallDir = mkdtempSync(path.join(tmpdir(), 'tidemark-http-limit-'));
    const small = await createApp(
      loadConfig({ env: { DATA_DIR: smallDir, LOG_LEVEL: 'silent', TIDEMARK_BODY_LIMIT: '1024' } }),
    );
    try {
      await small.init();
      const entries = [
        {
          componentId: 'big',
          sequence: 1,
          changes: [{ op: 'put', key: b64('k'), value: b64('v'.repeat(2048)) }],
        },
      ];
      const json = await request(small.getHttpServer()).post('/v1/wal/entries').send({ entries });
      expectProblem(json, 413, 'INVALID_ARGUMENT');
      const binary = await request(small.getHttpServer())
        .post('/v1/wal/entries')
        .set('content-type', 'application/octet-stream')
        .send(Buffer.alloc(2048));
      expectProblem(binary, 413, 'INVALID_ARGUMENT');
      expect((await request(small.getHttpServer()).get('/v1/wal').expect(200)).body).toMatchObject({
        lastLsn: 0,
      });
    } finally {
      await small.close();
      rmSync(smallDir, { recursive: true, force: true });
    }
  });
});

describe('shutdown', () => {
  it('closes the WAL, so the directory can be opened again with every entry', async () => {
    const before = await lastLsn();
    await app.close();
    const wal = await SegmentedWal.open(config.wal.dir);
    try {
      expect(wal.stats().lastLsn).toBe(before);
    } finally {
      await wal.close();
    }
    app = await createApp(config);
    await app.init();
    expect(await lastLsn()).toBe(before);
  });
});
