import { z } from 'zod';
import { BODY_INPUT, parseInput } from '../lib/input-issues';
import { invalidArgument, quoteInput } from '../lib/errors';
import type { RecoveryTarget } from './recovery-types';

/**
 * Parsing of recovery requests, shared by the REST API and `tidemark recover`: targets (a checkpoint, an
 * LSN, or a time as ISO 8601 or µs since the epoch), component lists and output formats. Anything wrong is
 * INVALID_ARGUMENT naming the field.
 */

const DECIMAL = /^(0|[1-9][0-9]*)$/;
/** `2024-05-01T12:00:00Z`, `…T12:00:00.123456+02:00`: a date, a time and a zone (never local time). */
const ISO_TIME = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2})?)(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/i;
const COMPONENT_ID = /^[A-Za-z0-9._:-]{1,255}$/;
const TIME_HELP = 'an ISO 8601 time with a zone (2024-05-01T12:00:00Z) or microseconds since the epoch';

export const OUTPUT_FORMATS = ['ndjson', 'binary'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

function integer(text: string, what: string, min: number): number {
  const value = DECIMAL.test(text.trim()) ? Number(text.trim()) : NaN;
  if (!Number.isSafeInteger(value) || value < min) {
    throw invalidArgument(`${what} must be an integer of at least ${min}, got ${quoteInput(text)}`);
  }
  return value;
}

/** A time as µs since the epoch: a decimal integer (µs), or ISO 8601 with a zone (fractions to the µs). */
export function parseTime(text: string, what = 'time'): number {
  const trimmed = text.trim();
  if (DECIMAL.test(trimmed)) return integer(trimmed, what, 0);
  const match = ISO_TIME.exec(trimmed);
  const ms = match ? Date.parse(`${match[1]}${match[3]}`) : NaN;
  if (!match || Number.isNaN(ms) || ms < 0) {
    throw invalidArgument(`${what} must be ${TIME_HELP}, got ${quoteInput(text)}`);
  }
  const micros = Number((match[2] ?? '').padEnd(6, '0').slice(0, 6));
  return ms * 1000 + micros;
}

/** `tidemark recover --to`: `checkpoint:N`, `lsn:N`, `time:<µs>`, or an ISO 8601 time. */
export function parseTargetSpec(spec: string): RecoveryTarget {
  const text = spec.trim();
  const colon = text.indexOf(':');
  const kind = colon > 0 ? text.slice(0, colon).toLowerCase() : '';
  const rest = text.slice(colon + 1);
  if (kind === 'checkpoint') return { checkpointId: integer(rest, 'checkpoint id', 1) };
  if (kind === 'lsn') return { lsn: integer(rest, 'LSN', 0) };
  if (kind === 'time') return { time: parseTime(rest) };
  if (ISO_TIME.test(text)) return { time: parseTime(text) };
  throw invalidArgument(
    `a target is checkpoint:N, lsn:N, time:<µs> or an ISO 8601 time with a zone, got ${quoteInput(spec)}`,
  );
}

/** `a,b,c` → ids (spaces around commas ignored); each a valid component id. */
export function parseComponentList(text: string): string[] {
  const ids = text
    .split(',')
    .map((id) => id.trim())
    .filter((id) => id !== '');
  if (ids.length === 0) throw invalidArgument('components: expected a comma-separated list of ids');
  for (const id of ids) checkComponentId(id);
  return [...new Set(ids)];
}

function checkComponentId(id: string): void {
  if (!COMPONENT_ID.test(id)) {
    throw invalidArgument(
      `components: ${quoteInput(id)} is not a component id (1-255 characters of [A-Za-z0-9._:-])`,
    );
  }
}

const PLAN_KEYS = ['checkpoint', 'clusterCheckpoint', 'lsn', 'time', 'components'];

/**
 * What a caller may ask to recover to: a target of this node's, or a committed cluster checkpoint — which
 * the service resolves to this node's own checkpoint in it (its ack) before recovering.
 */
export type RequestedTarget = RecoveryTarget | { clusterCheckpointId: number };

/** `GET /v1/recovery/plan?checkpoint=N | clusterCheckpoint=N | lsn=N | time=…&components=a,b`. */
export function parsePlanQuery(query: unknown): { target: RequestedTarget; components?: string[] } {
  const q = (query ?? {}) as Record<string, unknown>;
  for (const [key, value] of Object.entries(q)) {
    if (!PLAN_KEYS.includes(key)) {
      throw invalidArgument(`unknown query parameter ${quoteInput(key)} (known: ${PLAN_KEYS.join(', ')})`);
    }
    if (typeof value !== 'string') throw invalidArgument(`query parameter ${key} must be given once`);
  }
  const given = ['checkpoint', 'clusterCheckpoint', 'lsn', 'time'].filter((key) => q[key] !== undefined);
  if (given.length !== 1) {
    throw invalidArgument(
      'give exactly one target: ?checkpoint=N, ?clusterCheckpoint=N, ?lsn=N or ?time=<ISO 8601 or µs>',
    );
  }
  const text = q[given[0]!] as string;
  const target: RequestedTarget =
    given[0] === 'checkpoint'
      ? { checkpointId: integer(text, 'checkpoint', 1) }
      : given[0] === 'clusterCheckpoint'
        ? { clusterCheckpointId: integer(text, 'clusterCheckpoint', 1) }
        : given[0] === 'lsn'
          ? { lsn: integer(text, 'lsn', 0) }
          : // A `+` of a zone offset left unescaped in a query string arrives as a space.
            { time: parseTime(text.replace(/ (\d{2}:\d{2})$/, '+$1')) };
  const components = q.components === undefined ? undefined : parseComponentList(q.components as string);
  return { target, ...(components ? { components } : {}) };
}

const count = (what: string, min: number) =>
  z
    .number({ invalid_type_error: `expected ${what}`, required_error: `expected ${what}` })
    .int(`expected ${what}`)
    .min(min, `expected ${what}`)
    .max(Number.MAX_SAFE_INTEGER, `expected ${what}`);

const TARGET =
  'expected {"checkpointId": N}, {"clusterCheckpointId": N}, {"lsn": N} or {"time": "<ISO 8601>" | µs}';

const targetSchema = z.union(
  [
    z.object({ checkpointId: count('a positive checkpoint id', 1) }).strict(),
    z.object({ clusterCheckpointId: count('a positive cluster checkpoint id', 1) }).strict(),
    z.object({ lsn: count('a non-negative LSN', 0) }).strict(),
    z.object({ time: z.union([count('µs since the epoch', 0), z.string()]) }).strict(),
  ],
  { errorMap: () => ({ message: TARGET }) },
);

const BODY =
  'expected a JSON object {"target": {...}, "components"?: [ids], "format"?: "ndjson" | "binary", "stream"?: boolean}';

const recoverRequestSchema = z
  .object(
    {
      target: targetSchema,
      components: z
        .array(z.string({ invalid_type_error: 'expected a component id' }), {
          invalid_type_error: 'expected an array of component ids',
        })
        .min(1, 'expected at least one component id (leave components out for all)')
        .optional(),
      format: z
        .enum(OUTPUT_FORMATS, { errorMap: () => ({ message: 'expected "ndjson" or "binary"' }) })
        .optional(),
      stream: z.boolean({ invalid_type_error: 'expected true or false' }).optional(),
    },
    { invalid_type_error: BODY, required_error: BODY },
  )
  .strict();

export interface RecoverRequest {
  target: RequestedTarget;
  components?: string[];
  format: OutputFormat;
  /** Send each component as soon as it is whole, rather than the whole state once recovered. */
  stream: boolean;
}

/** The body of `POST /v1/recovery`. */
export function parseRecoverRequest(body: unknown): RecoverRequest {
  const request = parseInput(
    recoverRequestSchema,
    Buffer.isBuffer(body) || body === undefined ? null : body,
    BODY_INPUT,
    BODY,
  );
  const { target, components, format, stream } = request;
  for (const id of components ?? []) checkComponentId(id);
  const parsed: RequestedTarget =
    'time' in target
      ? { time: typeof target.time === 'string' ? parseTime(target.time, 'target.time') : target.time }
      : target;
  return {
    target: parsed,
    ...(components ? { components: [...new Set(components)] } : {}),
    format: format ?? 'ndjson',
    stream: stream ?? false,
  };
}
