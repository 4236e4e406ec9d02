import request from 'supertest';
import { SegmentedWal, type LogRecord } from '../../../src/wal';
import { expectProblem, startQuietApp, type TestApp } from '../../support/http/http-app';

/**
 * Entries up to wal.maxEntryBytes as JSON (issue 10, item 8: base64 values over ~3.5 MiB were a 500, the
 * base64 regular expression overflowing the stack). On a quiet app of its own: nothing uploads the large
 * segment in the background while other tests move the WAL directory.
 */

let test: TestApp;
const server = () => test.app.getHttpServer();
const b64 = (text: string) => Buffer.from(text).toString('base64');

async function lastLsn(): Promise<number> {
  return ((await request(server()).get('/v1/wal').expect(200)).body as { lastLsn: number }).lastLsn;
}

async function readAll(fromLsn: number, toLsn: number): Promise<LogRecord[]> {
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

describe('large values (issue 10, item 8)', () => {
  it('appends an entry of almost wal.maxEntryBytes sent as JSON (base64 of ~21 MiB)', async () => {
    const value = Buffer.alloc(test.config.wal.maxEntryBytes - 1024, 0xa5);
    const before = await lastLsn();
    const res = await request(server())
      .post('/v1/wal/entries')
      .send({
        entries: [
          {
            componentId: 'big_1',
            sequence: 1,
            timestamp: 1_700_000_000_000_000,
            changes: [{ op: 'put', key: b64('k'), value: value.toString('base64') }],
          },
        ],
      });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ firstLsn: before + 1, count: 1 });
    const [record] = await readAll(before + 1, before + 1);
    const put = record.entry.changes[0];
    expect(put.op === 'put' && put.value.equals(value)).toBe(true);
  });

  it('refuses a value over wal.maxEntryBytes with a 400 problem, and a huge value that is not base64', async () => {
    const before = await lastLsn();
    const over = Buffer.alloc(test.config.wal.maxEntryBytes, 1).toString('base64');
    const entry = { componentId: 'big_1', sequence: 2, timestamp: 1_700_000_000_000_000 };
    const tooBig = await request(server())
      .post('/v1/wal/entries')
      .send({ entries: [{ ...entry, changes: [{ op: 'put', key: b64('k'), value: over }] }] });
    expectProblem(tooBig, 400, 'INVALID_ARGUMENT');
    expect((tooBig.body as { detail: string }).detail).toContain('over the limit');
    const notBase64 = await request(server())
      .post('/v1/wal/entries')
      .send({
        entries: [{ ...entry, changes: [{ op: 'put', key: b64('k'), value: `${over.slice(4)}!!!=` }] }],
      });
    expectProblem(notBase64, 400, 'INVALID_ARGUMENT');
    expect((notBase64.body as { detail: string }).detail).toContain(
      'entries[0].changes[0].value: expected base64',
    );
    expect(notBase64.text.length).toBeLessThan(2000);
    expect(await lastLsn()).toBe(before);
  });
});
