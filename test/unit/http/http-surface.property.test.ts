import { ModulesContainer } from '@nestjs/core';
import fc from 'fast-check';
import request from 'supertest';
import { type Route, RouteTable } from '../../../src/server/http/route-table';
import { ECHO_LIMIT } from '../../../src/lib/errors';
import { encodeBatch, type LogEntry } from '../../../src/wal';
import { startQuietApp, T0_MICROS, type TestApp } from '../../support/http/http-app';

/**
 * The whole HTTP surface against arbitrary requests: every route the controllers declare and paths none
 * does, any method, content type, body, id and query string. Whatever is sent, the real app (nothing
 * stubbed, a temporary data directory, background timers off) must
 * - never answer 5xx, and answer every request (a deadline catches a hang);
 * - answer every 4xx with a problem+json body without a stack trace that repeats at most ECHO_LIMIT
 *   characters of anything long the caller sent;
 * - change nothing with a 4xx: the log, the checkpoints and the jobs read the same before and after;
 * - never serve a request whose body it does not parse (a media type other than JSON or octet-stream) as
 *   if it had no body.
 *
 * Runs: TIDEMARK_HTTP_PROPERTY_RUNS (default 200).
 */

const RUNS = Number(process.env.TIDEMARK_HTTP_PROPERTY_RUNS ?? '200');
/** Not a timing expectation: a request that has not finished by then is taken to hang. */
const HANG_DEADLINE_MS = 30_000;
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

type Method = (typeof METHODS)[number];

interface Probe {
  method: Method;
  path: string;
  query: string;
  contentType: string | undefined;
  body: Buffer | undefined;
  /** Long strings the request carries: none may come back longer than ECHO_LIMIT. */
  longInputs: string[];
}

/** The tiering timers (upload reconciliation, retention, GC) off, so only requests change what is read. */
const QUIET_TIERING = {
  tiering: {
    upload: { reconcileIntervalMs: 0 },
    retention: { intervalMs: 0 },
    gc: { intervalMs: 0, fullSweepIntervalMs: 0 },
  },
};

let test: TestApp;
const server = () => test.app.getHttpServer();

beforeAll(async () => {
  test = await startQuietApp({}, QUIET_TIERING);
  await jobsIdle();
});

afterAll(async () => {
  await test?.close();
});

// ---- what a request is made of ----

/**
 * Long input: a short piece repeated to 300-3,000 characters (now and then 8,000-20,000, past Node's 16 KiB
 * header limit); printable ASCII only where a header needs it.
 */
const longOf = (piece: fc.Arbitrary<string>) =>
  fc
    .tuple(
      piece,
      fc.oneof(
        { weight: 9, arbitrary: fc.integer({ min: 300, max: 3_000 }) },
        { weight: 1, arbitrary: fc.integer({ min: 8_000, max: 20_000 }) },
      ),
    )
    .map(([p, length]) => p.repeat(Math.ceil(length / p.length)).slice(0, length));
const longAscii = longOf(fc.string({ minLength: 1, maxLength: 6 }));
const longString = fc.oneof(longAscii, longOf(fc.string({ unit: 'binary', minLength: 1, maxLength: 3 })));
/** Inputs longer than this are checked for echoes: longer than any valid id, which may come back whole. */
const LONG_INPUT = 256;

const idText = fc.oneof(
  fc.constantFrom('1', '2', '3', '0', '-1', '1.5', '1e3', '0x10', ' 1', '99999999999999999999'),
  fc.constantFrom('..', '%2e%2e', '..%2F..%2Fetc%2Fpasswd', '%00', '%ZZ', '%', '__proto__', 'constructor'),
  fc.constantFrom('segment-upload.1', 'retention.1', 'no-such-job', 'é中🙂'),
  fc.string({ unit: 'binary', maxLength: 20 }),
  longString,
);

const queryKey = fc.oneof(
  fc.constantFrom('force', 'state', 'name', 'limit', 'checkpoint', 'lsn', 'time', 'components'),
  fc.constantFrom('__proto__', 'constructor', 'forse', 'a[b]', 'a[__proto__]', ''),
  fc.string({ unit: 'binary', maxLength: 10 }),
);
const queryValue = fc.oneof(
  fc.constantFrom('true', 'false', '1', '0', '', 'failed', 'retention', '5', '2024-05-01T12:00:00Z'),
  fc.constantFrom('1700000000000000', '-1', 'NaN', 'a,b', '__proto__', 'c0,c1'),
  fc.string({ unit: 'binary', maxLength: 12 }),
  longString,
);
const query = fc.array(fc.tuple(queryKey, queryValue), { maxLength: 4 });

const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'Application/JSON',
  'application/json; charset=latin1',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/octet-stream',
  'application/xml',
  'garbage',
  ';;',
  '',
];
const contentType = fc.oneof(
  { weight: 4, arbitrary: fc.constant('application/json') },
  { weight: 1, arbitrary: fc.constant(undefined) },
  { weight: 3, arbitrary: fc.constantFrom(...CONTENT_TYPES) },
  { weight: 1, arbitrary: longAscii.map((s) => `text/${s.trim()}`) },
);

const componentId = fc.oneof(
  fc.constantFrom('agg_1', 'join_2', '__proto__', 'constructor', 'toString', 'x'.repeat(255)),
  fc.constantFrom('', 'a b', 'a/b', '../x', 'x'.repeat(256), 'é'),
);
const base64Text = fc.oneof(
  fc.uint8Array({ maxLength: 24 }).map((b) => Buffer.from(b).toString('base64')),
  fc.constantFrom('!!', 'a', '===='),
);
const change = fc.oneof(
  fc.record({ op: fc.constant('put'), key: base64Text, value: base64Text }),
  fc.record({ op: fc.constant('delete'), key: base64Text }),
  fc.constant({ op: 'clear' }),
  fc.record({ op: fc.constantFrom('upsert', '', '__proto__') }),
);
const timestamp = fc.oneof(
  fc.integer({ min: 0, max: 1_000_000_000 }).map((n) => T0_MICROS + n),
  fc.constantFrom(1_796_422_532_118, 0, 1, -1, 1.5, Number.MAX_SAFE_INTEGER, 2 ** 60),
);
const entry = fc.record(
  {
    componentId,
    sequence: fc.oneof(fc.integer({ min: 1, max: 2 ** 40 }), fc.constantFrom(-1, 0, 1.5, 2 ** 60)),
    timestamp,
    changes: fc.array(change, { maxLength: 3 }),
    metadata: fc.dictionary(
      fc.constantFrom('source', 'constructor', 'toString', ''),
      fc.string({ maxLength: 5 }),
      {
        maxKeys: 2,
      },
    ),
  },
  { requiredKeys: ['componentId', 'sequence', 'changes'] },
);

/** Bodies that are, or nearly are, what some route takes. */
const routeBody = fc.oneof(
  fc.record({ kind: fc.constantFrom('full', 'incremental', 'auto', 'partial', '', 3) }, { requiredKeys: [] }),
  fc.record({ fullSweep: fc.constantFrom(true, false, 'yes', 1, null) }, { requiredKeys: [] }),
  fc.record({ entries: fc.array(entry, { maxLength: 4 }) }),
  fc.record(
    {
      target: fc.oneof(
        fc.record({ checkpointId: fc.constantFrom(1, 2, 0, 999, 1.5) }),
        fc.record({ lsn: fc.constantFrom(0, 1, 5, -1, 10 ** 9) }),
        fc.record({ time: fc.constantFrom(T0_MICROS, '2024-05-01T12:00:00Z', 'yesterday', -5) }),
        fc.constant({}),
      ),
      components: fc.array(componentId, { maxLength: 3 }),
      format: fc.constantFrom('ndjson', 'binary', 'xml'),
    },
    { requiredKeys: ['target'] },
  ),
  fc.constant({}),
);

const jsonText = fc.oneof(
  routeBody.map((value) => JSON.stringify(value)),
  routeBody.chain((value) =>
    fc
      .constantFrom('surprise', '__proto__', 'constructor')
      .map((key) => JSON.stringify({ ...value, [key]: 1 })),
  ),
  routeBody.map((value) =>
    JSON.stringify(value).replace(/^\{/, '{"__proto__":{"kind":"full","fullSweep":true},'),
  ),
  fc.jsonValue().map((value) => JSON.stringify(value)),
  fc.constantFrom('', '{', '[]', 'null', '3', '"kind=full"', '{"kind":"full"', 'kind=full', '\u0000'),
  longString.map((s) => JSON.stringify({ entries: [{ componentId: s, sequence: 1, changes: [] }] })),
  longString.map((s) => JSON.stringify({ [s]: s })),
);

const binaryBody = fc.oneof(
  fc
    .array(
      fc.record({
        componentId: fc.constantFrom('agg_1', '__proto__'),
        sequence: fc.integer({ min: 1, max: 2 ** 40 }),
        timestamp: fc.constantFrom(T0_MICROS, 1_796_422_532_118, 0),
      }),
      { minLength: 1, maxLength: 3 },
    )
    .map((entries) =>
      encodeBatch(entries.map((e): LogEntry => ({ ...e, changes: [{ op: 'put', key: 'k', value: 'v' }] }))),
    ),
  fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes)),
  fc.constant(
    encodeBatch([{ componentId: 'agg_1', sequence: 1, timestamp: T0_MICROS, changes: [] }]).subarray(0, 12),
  ),
);

const body = fc.oneof(
  { weight: 1, arbitrary: fc.constant(undefined) },
  { weight: 4, arbitrary: jsonText.map((text) => Buffer.from(text, 'utf8')) },
  { weight: 1, arbitrary: binaryBody },
);

// ---- the request ----

function probeFor(routes: readonly Route[]): fc.Arbitrary<Probe> {
  const unknownPath = fc.constantFrom(
    '/',
    '/v1',
    '/v2/wal',
    '/v1/nope',
    '/v1/wal/entries/extra',
    '/v1/checkpoints/1/2',
    '/v1/../v1/wal',
    '/%2e%2e/etc/passwd',
    '/V1/WAL',
    '/v1//wal',
    '/v1/wal/',
  );
  const anyMethod = fc.constantFrom(...METHODS);
  // Mostly a route's own method (so requests get past routing), else any method.
  const known = fc.tuple(fc.constantFrom(...routes), idText).chain(([route, id]) =>
    fc.record({
      method: fc.oneof(
        { weight: 3, arbitrary: fc.constant(route.method as Method) },
        { weight: 1, arbitrary: anyMethod },
      ),
      path: fc.constant(route.path.replace(/:[^/]+/g, () => encodeURIComponentLoosely(id))),
    }),
  );
  const unknown = fc.record({
    method: anyMethod,
    path: fc.oneof(
      unknownPath,
      longString.map((s) => `/v1/${encode(s)}`),
    ),
  });
  const target = fc.oneof({ weight: 5, arbitrary: known }, { weight: 1, arbitrary: unknown });
  return fc
    .record({ target, query, contentType, body })
    .map(({ target: { method, path }, query: pairs, ...others }) => {
      const rest = { method, path, ...others };
      const queryText = pairs.map(([k, v]) => `${encode(k)}=${encode(v)}`).join('&');
      const longInputs = [
        ...pairs.flat(),
        ...decodedSegments(rest.path),
        rest.contentType ?? '',
        ...(rest.body ? longStringsIn(rest.body.toString('utf8')) : []),
      ].filter((s) => s.length > LONG_INPUT);
      return {
        ...rest,
        query: queryText,
        longInputs,
        [fc.toStringMethod]: () => describeProbe({ ...rest, query: queryText }),
      };
    });
}

/** A short account of a request, for a counterexample (long strings cut). */
function describeProbe(probe: Omit<Probe, 'longInputs'>): string {
  const cut = (text: string) => (text.length > 80 ? `${text.slice(0, 80)}…(${text.length})` : text);
  const body =
    probe.body === undefined ? 'no body' : `body ${cut(JSON.stringify(probe.body.toString('latin1')))}`;
  return `${probe.method} ${cut(probe.path)}?${cut(probe.query)} [${cut(String(probe.contentType))}] ${body}`;
}

/** Percent-encoding (a lone surrogate, which has no UTF-8 form, sent as U+FFFD). */
function encode(text: string): string {
  return encodeURIComponent(text.replace(/[\uD800-\uDFFF]/gu, '\uFFFD'));
}

/** Most ids go percent-encoded; a few raw (`%ZZ`, `..`), as a client could send them. */
function encodeURIComponentLoosely(id: string): string {
  return /^[%.]|^[A-Za-z0-9_.~-]*$/.test(id) ? id : encode(id);
}

function decodedSegments(path: string): string[] {
  return path.split('/').map((segment) => {
    try {
      return decodeURIComponent(segment);
    } catch {
      return segment;
    }
  });
}

/** Strings inside a JSON text (keys and values), or the text itself when it is not JSON. */
function longStringsIn(text: string): string[] {
  try {
    const found: string[] = [];
    JSON.parse(text, (key: string, value: unknown) => {
      found.push(key);
      if (typeof value === 'string') found.push(value);
      return value;
    });
    return found;
  } catch {
    return [text];
  }
}

async function send(probe: Probe): Promise<request.Response> {
  const url = probe.query === '' ? probe.path : `${probe.path}?${probe.query}`;
  const method = probe.method.toLowerCase() as Lowercase<Method>;
  let req = request(server())[method](url).timeout({ deadline: HANG_DEADLINE_MS });
  req =
    probe.contentType === undefined ? req.unset('Content-Type') : req.set('Content-Type', probe.contentType);
  if (probe.body !== undefined) req = req.send(probe.body);
  // Read any answer whole as text, whatever its type (NDJSON and binary recoveries included).
  return req.buffer(true).parse((res, done) => {
    const chunks: Buffer[] = [];
    res.on('data', (chunk: Buffer) => chunks.push(chunk));
    res.on('end', () => done(null, Buffer.concat(chunks).toString('utf8')));
  });
}

// ---- what is observed ----

interface Observed {
  wal: unknown;
  segments: unknown;
  checkpoints: unknown;
  jobs: unknown;
}

async function getJson(path: string): Promise<unknown> {
  const res = await request(server()).get(path).timeout({ deadline: HANG_DEADLINE_MS });
  expect(res.status).toBe(200);
  return res.body;
}

async function observe(): Promise<Observed> {
  return {
    wal: await getJson('/v1/wal'),
    segments: await getJson('/v1/wal/segments'),
    checkpoints: await getJson('/v1/checkpoints'),
    jobs: await getJson('/v1/jobs'),
  };
}

/**
 * Waits for the work a 2xx set going in the background to finish — jobs it enqueued, a cluster checkpoint it
 * began (its cut lands after the 202) — so it does not change what the next 4xx is compared with.
 */
async function jobsIdle(): Promise<void> {
  for (let attempt = 0; attempt < 1_000; attempt++) {
    const { jobs } = (await getJson('/v1/jobs')) as { jobs: { state: string }[] };
    const cluster = (await getJson('/v1/cluster')) as { checkpoints: { pending: number[] } };
    const jobsDone = jobs.every((job) => job.state === 'completed' || job.state === 'failed');
    if (jobsDone && cluster.checkpoints.pending.length === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error('background jobs did not finish');
}

/** Methods whose routes read a body (GET and HEAD routes ignore one). */
function readsBody(method: Method): boolean {
  return method === 'POST' || method === 'PUT' || method === 'PATCH' || method === 'DELETE';
}

function sendsUnparsedBody(probe: Probe): boolean {
  const type = (probe.contentType ?? '').split(';')[0]!.trim().toLowerCase();
  const parsed = type === 'application/json' || type === 'application/octet-stream';
  return probe.body !== undefined && probe.body.length > 0 && !parsed;
}

function stringsOf(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) for (const item of value) stringsOf(item, out);
  else if (value !== null && typeof value === 'object')
    for (const item of Object.values(value)) stringsOf(item, out);
  return out;
}

function checkProblem(probe: Probe, res: request.Response): void {
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  if (probe.method === 'HEAD') return; // no body
  const text = res.body as string;
  expect(text).not.toMatch(/\bat .*\.(ts|js):\d+/);
  const problem = JSON.parse(text) as Record<string, unknown>;
  expect(problem).toMatchObject({
    status: res.status,
    type: expect.stringMatching(/^urn:tidemark:error:[A-Z_]+$/),
  });
  expect(typeof problem.title).toBe('string');
  expect(typeof problem.detail).toBe('string');
  expect(typeof problem.details).toBe('object');
  const answered = stringsOf(problem);
  for (const input of probe.longInputs) {
    const tooMuch = input.slice(0, ECHO_LIMIT + 1);
    const escaped = JSON.stringify(tooMuch).slice(1, -1);
    for (const s of answered) {
      expect(
        s.includes(tooMuch) || s.includes(escaped) ? `echoes ${input.length} characters` : 'capped',
      ).toBe('capped');
    }
  }
}

describe('the HTTP surface', () => {
  it('answers any request without 5xx or a hang; a 4xx is a problem and changes nothing', async () => {
    const { routes } = RouteTable.fromModules(test.app.get(ModulesContainer));
    expect(routes.map((r) => r.path)).toEqual(
      expect.arrayContaining(['/health', '/v1/wal/entries', '/v1/checkpoints/:id', '/v1/recovery']),
    );
    let before = await observe();
    await fc.assert(
      fc.asyncProperty(probeFor(routes), async (probe) => {
        const res = await send(probe);
        const label = `${probe.method} ${probe.path.slice(0, 200)} → ${res.status} ${String(res.body).slice(0, 300)}`;
        expect([label, res.status < 500]).toEqual([label, true]);
        if (readsBody(probe.method) && sendsUnparsedBody(probe)) {
          // A body the app does not parse is refused, never dropped and the request served without it.
          expect([label, res.status >= 400]).toEqual([label, true]);
        }
        if (res.status >= 400) {
          checkProblem(probe, res);
          expect(await observe()).toEqual(before);
        } else {
          await jobsIdle();
          before = await observe();
        }
      }),
      { numRuns: RUNS },
    );
  });
});
