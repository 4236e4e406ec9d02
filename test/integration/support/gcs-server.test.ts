import { crc32c } from '@node-rs/crc32';
import { createHash } from 'node:crypto';
import { request } from 'node:http';
import { startGcsServer, type GcsTestServer } from '../../support/gcs-server';

/** The GCS test server, spoken to in raw HTTP: what it answers must be what GCS answers. */

let server: GcsTestServer;
const BUCKET = 'server-test';

beforeAll(async () => {
  server = await startGcsServer();
  server.createBucket(BUCKET);
});

afterAll(async () => {
  await server.stop();
});

const objectPath = (name: string) => `/storage/v1/b/${BUCKET}/o/${encodeURIComponent(name)}`;
const uploadPath = (query: string) => `/upload/storage/v1/b/${BUCKET}/o?${query}`;

function call(path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${server.endpoint}${path}`, init);
}

async function json(response: Response): Promise<Record<string, unknown>> {
  return (await response.json()) as Record<string, unknown>;
}

function multipartBody(
  metadata: object,
  data: Buffer,
  boundary = 'b0undary',
): { body: Buffer; type: string } {
  const body = Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Type: application/json\r\n\r\n${JSON.stringify(metadata)}\r\n`),
    Buffer.from(`--${boundary}\r\nContent-Type: application/octet-stream\r\n\r\n`),
    data,
    Buffer.from(`\r\n--${boundary}--`),
  ]);
  return { body, type: `multipart/related; boundary=${boundary}` };
}

function multipartUpload(name: string, data: Buffer, query = '', metadata: object = {}): Promise<Response> {
  const { body, type } = multipartBody({ name, ...metadata }, data);
  return call(uploadPath(`uploadType=multipart${query}`), {
    method: 'POST',
    headers: { 'Content-Type': type },
    body,
  });
}

function mediaUpload(name: string, data: string, query = ''): Promise<Response> {
  return call(uploadPath(`uploadType=media&name=${encodeURIComponent(name)}${query}`), {
    method: 'POST',
    body: data,
  });
}

/** Base64 big-endian CRC32C and base64 MD5, computed here independently of the server. */
function hashes(data: Buffer): { crc32c: string; md5Hash: string } {
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32c(data));
  return { crc32c: crc.toString('base64'), md5Hash: createHash('md5').update(data).digest('base64') };
}

async function generationOf(name: string): Promise<string> {
  return String((await json(await call(objectPath(name)))).generation);
}

describe('objects', () => {
  it('stores a multipart upload and describes it as GCS does', async () => {
    const data = Buffer.from('hello, bucket');
    const response = await multipartUpload('m/hello.txt', data, '', { contentType: 'text/plain' });
    expect(response.status).toBe(200);
    const resource = await json(response);
    expect(resource).toMatchObject({
      kind: 'storage#object',
      name: 'm/hello.txt',
      bucket: BUCKET,
      size: String(data.length),
      contentType: 'text/plain',
      metageneration: '1',
      ...hashes(data),
    });
    expect(resource.generation).toMatch(/^\d+$/);
    expect(Number.isNaN(Date.parse(String(resource.updated)))).toBe(false);
    expect(await json(await call(objectPath('m/hello.txt')))).toEqual(resource);

    const media = await call(`${objectPath('m/hello.txt')}?alt=media`);
    expect(media.status).toBe(200);
    expect(Buffer.from(await media.arrayBuffer()).equals(data)).toBe(true);
    const { crc32c: crc, md5Hash } = hashes(data);
    expect(media.headers.get('x-goog-hash')).toBe(`crc32c=${crc},md5=${md5Hash}`);
    expect(media.headers.get('x-goog-generation')).toBe(resource.generation);
  });

  it('answers a Range with 206 and Content-Range, clipped; 416 from the end on', async () => {
    await mediaUpload('m/digits', '0123456789');
    const ranged = async (range: string) => {
      const response = await call(`${objectPath('m/digits')}?alt=media`, { headers: { Range: range } });
      return {
        status: response.status,
        range: response.headers.get('content-range'),
        body: await response.text(),
      };
    };
    expect(await ranged('bytes=1-3')).toEqual({ status: 206, range: 'bytes 1-3/10', body: '123' });
    expect(await ranged('bytes=5-')).toEqual({ status: 206, range: 'bytes 5-9/10', body: '56789' });
    expect(await ranged('bytes=8-100')).toEqual({ status: 206, range: 'bytes 8-9/10', body: '89' });
    expect(await ranged('bytes=-3')).toEqual({ status: 206, range: 'bytes 7-9/10', body: '789' });
    const past = await ranged('bytes=10-');
    expect(past.status).toBe(416);
    expect(past.range).toBe('bytes */10');
    expect(JSON.parse(past.body)).toMatchObject({ error: { code: 416 } });
  });

  it('enforces ifGenerationMatch on writes and deletes, raising the generation on each write', async () => {
    expect((await mediaUpload('m/fenced', 'v1', '&ifGenerationMatch=0')).status).toBe(200);
    const refused = await mediaUpload('m/fenced', 'v1 again', '&ifGenerationMatch=0');
    expect(refused.status).toBe(412);
    expect(await json(refused)).toEqual({
      error: {
        code: 412,
        message: expect.any(String),
        errors: [{ domain: 'global', reason: 'conditionNotMet', message: expect.any(String) }],
      },
    });
    const first = await generationOf('m/fenced');
    expect((await mediaUpload('m/fenced', 'v2', `&ifGenerationMatch=${first}`)).status).toBe(200);
    const second = await generationOf('m/fenced');
    expect(BigInt(second)).toBeGreaterThan(BigInt(first));
    expect((await mediaUpload('m/fenced', 'stale', `&ifGenerationMatch=${first}`)).status).toBe(412);
    expect(
      (await multipartUpload('m/fenced', Buffer.from('stale'), `&ifGenerationMatch=${first}`)).status,
    ).toBe(412);
    expect(await (await call(`${objectPath('m/fenced')}?alt=media`)).text()).toBe('v2');

    expect(
      (await call(`${objectPath('m/fenced')}?ifGenerationMatch=${first}`, { method: 'DELETE' })).status,
    ).toBe(412);
    expect(
      (await call(`${objectPath('m/fenced')}?ifGenerationMatch=${second}`, { method: 'DELETE' })).status,
    ).toBe(204);
    const gone = await call(objectPath('m/fenced'), { method: 'DELETE' });
    expect(gone.status).toBe(404);
    expect(await json(gone)).toMatchObject({ error: { message: `No such object: ${BUCKET}/m/fenced` } });
  });

  it('refuses an upload whose bytes do not match the checksum it states, storing nothing', async () => {
    const data = Buffer.from('checked');
    const wrong = hashes(Buffer.from('something else')).crc32c;
    expect((await multipartUpload('m/checked', data, '', { crc32c: wrong })).status).toBe(400);
    expect((await call(objectPath('m/checked'))).status).toBe(404);
    expect((await multipartUpload('m/checked', data, '', hashes(data))).status).toBe(200);
  });

  it('stores nothing from an upload whose request was cut off mid-body', async () => {
    const before = server.requests['uploads.multipart'];
    const { body, type } = multipartBody({ name: 'm/cut' }, Buffer.alloc(100_000, 1));
    const url = new URL(`${server.endpoint}${uploadPath('uploadType=multipart')}`);
    const req = request(url, {
      method: 'POST',
      headers: { 'Content-Type': type, 'Content-Length': body.length },
    });
    req.on('error', () => undefined);
    req.write(body.subarray(0, 50_000));
    while (server.requests['uploads.multipart'] === before)
      await new Promise((resolve) => setImmediate(resolve));
    req.destroy();
    expect((await call(objectPath('m/cut'))).status).toBe(404);
  });

  it('tells a missing bucket from a missing object, and creates buckets', async () => {
    const noBucket = await call('/storage/v1/b/no-such-bucket/o/x');
    expect(noBucket.status).toBe(404);
    expect(await json(noBucket)).toMatchObject({
      error: { message: 'The specified bucket does not exist.' },
    });
    expect((await call('/storage/v1/b/no-such-bucket')).status).toBe(404);
    const created = await call('/storage/v1/b?project=test', {
      method: 'POST',
      body: JSON.stringify({ name: 'made-by-post' }),
    });
    expect(created.status).toBe(200);
    expect(await json(await call('/storage/v1/b/made-by-post'))).toMatchObject({
      kind: 'storage#bucket',
      name: 'made-by-post',
    });
    expect(
      (
        await call('/storage/v1/b?project=test', {
          method: 'POST',
          body: JSON.stringify({ name: 'made-by-post' }),
        })
      ).status,
    ).toBe(409);
  });
});

describe('resumable uploads', () => {
  const KiB = 1024;
  const data = Buffer.from(Array.from({ length: 700 * KiB }, (_, i) => (i * 7) % 251));

  async function startSession(name: string, query = ''): Promise<string> {
    const response = await call(uploadPath(`uploadType=resumable&name=${encodeURIComponent(name)}${query}`), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: '{}',
    });
    expect(response.status).toBe(200);
    const location = response.headers.get('location') ?? '';
    expect(location).toMatch(/upload_id=/);
    return location;
  }

  function put(session: string, contentRange: string, body: Buffer = Buffer.alloc(0)): Promise<Response> {
    return fetch(session, { method: 'PUT', headers: { 'Content-Range': contentRange }, body });
  }

  it('takes chunks, persisting whole 256 KiB units of each, and completes on the last', async () => {
    const session = await startSession('r/chunked');
    const first = await put(session, `bytes 0-${300 * KiB - 1}/*`, data.subarray(0, 300 * KiB));
    expect(first.status).toBe(308);
    expect(first.headers.get('range')).toBe(`bytes=0-${256 * KiB - 1}`); // the rest must be sent again
    const status = await put(session, 'bytes */*');
    expect(status.status).toBe(308);
    expect(status.headers.get('range')).toBe(`bytes=0-${256 * KiB - 1}`);
    const overlapping = await put(
      session,
      `bytes ${200 * KiB}-${600 * KiB - 1}/*`,
      data.subarray(200 * KiB, 600 * KiB),
    );
    expect(overlapping.headers.get('range')).toBe(`bytes=0-${512 * KiB - 1}`);
    const last = await put(
      session,
      `bytes ${512 * KiB}-${data.length - 1}/${data.length}`,
      data.subarray(512 * KiB),
    );
    expect(last.status).toBe(200);
    expect(await json(last)).toMatchObject({ name: 'r/chunked', size: String(data.length), ...hashes(data) });
    expect(
      Buffer.from(await (await call(`${objectPath('r/chunked')}?alt=media`)).arrayBuffer()).equals(data),
    ).toBe(true);
    expect((await put(session, 'bytes */*')).status).toBe(200); // a finished session reports the object
  });

  it('refuses a chunk that starts past what is persisted', async () => {
    const session = await startSession('r/gap');
    expect(
      (await put(session, `bytes ${256 * KiB}-${512 * KiB - 1}/*`, data.subarray(0, 256 * KiB))).status,
    ).toBe(400);
  });

  it("accepts the Node client's single-request form, bytes 0-*/*, and an empty object by bytes */0", async () => {
    const whole = await startSession('r/single');
    expect((await put(whole, 'bytes 0-*/*', data)).status).toBe(200);
    expect(await json(await call(objectPath('r/single')))).toMatchObject({ size: String(data.length) });
    const empty = await startSession('r/empty');
    expect((await put(empty, 'bytes */0')).status).toBe(200);
    expect(await json(await call(objectPath('r/empty')))).toMatchObject({ size: '0' });
  });

  it('checks preconditions again when a session completes: of two creators only the first wins', async () => {
    const a = await startSession('r/race', '&ifGenerationMatch=0');
    const b = await startSession('r/race', '&ifGenerationMatch=0');
    expect((await put(a, `bytes 0-2/3`, Buffer.from('aaa'))).status).toBe(200);
    const lost = await put(b, `bytes 0-2/3`, Buffer.from('bbb'));
    expect(lost.status).toBe(412);
    expect(await json(lost)).toMatchObject({ error: { errors: [{ reason: 'conditionNotMet' }] } });
    expect(await (await call(`${objectPath('r/race')}?alt=media`)).text()).toBe('aaa');
    const late = await call(uploadPath('uploadType=resumable&name=r%2Frace&ifGenerationMatch=0'), {
      method: 'POST',
    });
    expect(late.status).toBe(412); // checked when the session starts, too
  });

  it('cancels a session with DELETE (499), after which it is gone', async () => {
    const session = await startSession('r/cancelled');
    expect((await fetch(session, { method: 'DELETE' })).status).toBe(499);
    expect((await put(session, 'bytes */*')).status).toBe(404);
    expect((await call(objectPath('r/cancelled'))).status).toBe(404);
  });
});

describe('listing', () => {
  const names = ['l/a-c', 'l/a/b/c', 'l/a.b', 'l/a0', 'l/a/1', 'l/é', 'l/\uE000', 'l/😀', 'l/日本/語'];
  const byUtf8 = (list: string[]) => [...list].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));

  beforeAll(async () => {
    for (const name of names) await mediaUpload(name, name);
  });

  async function listAll(query: string): Promise<{ items: string[]; prefixes: string[]; pages: number }> {
    const items: string[] = [];
    const prefixes: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await json(
        await call(
          `/storage/v1/b/${BUCKET}/o?${query}${token === undefined ? '' : `&pageToken=${encodeURIComponent(token)}`}`,
        ),
      );
      pages++;
      items.push(...((page.items ?? []) as { name: string }[]).map((item) => item.name));
      prefixes.push(...((page.prefixes ?? []) as string[]));
      token = page.nextPageToken as string | undefined;
    } while (token !== undefined);
    return { items, prefixes, pages };
  }

  it('lists by UTF-8 bytes, a page at a time, never an entry twice', async () => {
    expect((await listAll('prefix=l/')).items).toEqual(byUtf8(names));
    const paged = await listAll('prefix=l/&maxResults=2');
    expect(paged.items).toEqual(byUtf8(names));
    expect(paged.pages).toBe(Math.ceil(names.length / 2));
  });

  it('collapses names below a delimiter into prefixes, counted against maxResults', async () => {
    const all = await listAll('prefix=l/&delimiter=/');
    expect(all.items).toEqual(byUtf8(names.filter((name) => name.split('/').length === 2)));
    expect(all.prefixes).toEqual(['l/a/', 'l/日本/']);
    const paged = await listAll('prefix=l/&delimiter=/&maxResults=1');
    expect(paged).toEqual({ ...all, pages: all.items.length + all.prefixes.length });
  });

  it('matches the prefix as plain text', async () => {
    expect((await listAll('prefix=l/a')).items).toEqual(
      byUtf8(names.filter((name) => name.startsWith('l/a'))),
    );
    expect((await listAll('prefix=l/zzz')).items).toEqual([]);
  });
});

describe('the server itself', () => {
  it('keeps its data and its port across stop and start, and counts requests by kind', async () => {
    const own = await startGcsServer();
    try {
      own.createBucket('kept');
      const upload = await fetch(`${own.endpoint}/upload/storage/v1/b/kept/o?uploadType=media&name=k`, {
        method: 'POST',
        body: 'survives',
      });
      expect(upload.status).toBe(200);
      const port = own.port;
      await own.stop();
      await expect(fetch(`${own.endpoint}/storage/v1/b/kept/o/k`)).rejects.toThrow();
      await own.start();
      expect(own.port).toBe(port);
      expect(await (await fetch(`${own.endpoint}/storage/v1/b/kept/o/k?alt=media`)).text()).toBe('survives');
      expect(own.requests['uploads.media']).toBe(1);
      expect(own.requests['objects.download']).toBe(1);
      own.resetRequests();
      expect(own.requests['objects.download']).toBe(0);
    } finally {
      await own.stop();
    }
  });

  it('answers injected faults instead of the next matching requests, then serves again', async () => {
    await mediaUpload('f/k', 'v');
    server.injectFault({ status: 503, count: 2, kinds: ['objects.get'] });
    const failed = await call(objectPath('f/k'));
    expect(failed.status).toBe(503);
    expect(await json(failed)).toMatchObject({ error: { code: 503, errors: [{ reason: 'backendError' }] } });
    expect((await call(`${objectPath('f/k')}?alt=media`)).status).toBe(200); // another kind: served
    expect((await call(objectPath('f/k'))).status).toBe(503);
    expect((await call(objectPath('f/k'))).status).toBe(200);
  });

  it('refuses what it cannot parse with 400, and what it does not implement with 501', async () => {
    expect(
      (await call(uploadPath('uploadType=multipart'), { method: 'POST', body: 'no boundary' })).status,
    ).toBe(400);
    expect((await call(uploadPath('uploadType=media'), { method: 'POST', body: 'no name' })).status).toBe(
      400,
    );
    expect((await call(`/storage/v1/b/${BUCKET}/o?maxResults=lots`)).status).toBe(400);
    expect((await call('/storage/v1/b/x/o/y', { method: 'PATCH' })).status).toBe(501);
  });
});
