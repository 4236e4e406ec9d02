import { z } from 'zod';
import { invalidArgument } from '../errors';
import { type Change, type LogEntry, nowMicros } from '../wal/entry';

/**
 * The JSON form of `POST /v1/wal/entries`: keys and values are base64. Only the shape is checked here;
 * the WAL itself checks component ids, sizes and sequences (and refuses the whole batch if one is bad).
 */

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const base64 = z.string({ invalid_type_error: 'expected a base64 string' }).regex(BASE64, 'expected base64');
const safeInteger = (what: string) =>
  z
    .number({ invalid_type_error: `expected ${what}`, required_error: `expected ${what}` })
    .int(`expected ${what}`)
    .nonnegative(`expected ${what}`)
    .max(Number.MAX_SAFE_INTEGER, `expected ${what}`);

const changeSchema = z.discriminatedUnion(
  'op',
  [
    z.object({ op: z.literal('put'), key: base64, value: base64 }).strict(),
    z.object({ op: z.literal('delete'), key: base64 }).strict(),
    z.object({ op: z.literal('clear') }).strict(),
  ],
  { errorMap: () => ({ message: 'expected op to be "put", "delete" or "clear"' }) },
);

const entrySchema = z
  .object({
    componentId: z.string({ required_error: 'expected a component id' }).min(1, 'expected a component id'),
    sequence: safeInteger('a non-negative integer'),
    timestamp: safeInteger('microseconds since the epoch').optional(),
    changes: z.array(changeSchema),
    metadata: z.record(z.string()).optional(),
  })
  .strict();

const BODY = 'expected a JSON object {"entries": [...]}';

export const appendRequestSchema = z
  .object(
    {
      entries: z
        .array(entrySchema, { required_error: 'expected an array of entries' })
        .min(1, 'expected at least one entry'),
    },
    { required_error: BODY, invalid_type_error: BODY },
  )
  .strict();

export type AppendRequest = z.infer<typeof appendRequestSchema>;

/** Validates a JSON body and turns it into log entries; throws INVALID_ARGUMENT naming each bad field. */
export function parseAppendRequest(body: unknown, now: () => number = nowMicros): LogEntry[] {
  const result = appendRequestSchema.safeParse(body);
  if (!result.success) {
    const issues = result.error.issues.map((issue) => ({
      path: formatPath(issue.path),
      message: issue.message,
    }));
    const message = issues.map((i) => (i.path === '' ? i.message : `${i.path}: ${i.message}`)).join('; ');
    throw invalidArgument(`invalid request body: ${message}`, { issues });
  }
  const timestamp = now();
  return result.data.entries.map((entry) => ({
    componentId: entry.componentId,
    sequence: entry.sequence,
    timestamp: entry.timestamp ?? timestamp,
    changes: entry.changes.map(toChange),
    ...(entry.metadata === undefined ? {} : { metadata: entry.metadata }),
  }));
}

function toChange(change: AppendRequest['entries'][number]['changes'][number]): Change {
  switch (change.op) {
    case 'put':
      return {
        op: 'put',
        key: Buffer.from(change.key, 'base64'),
        value: Buffer.from(change.value, 'base64'),
      };
    case 'delete':
      return { op: 'delete', key: Buffer.from(change.key, 'base64') };
    case 'clear':
      return { op: 'clear' };
  }
}

/** `['entries', 0, 'changes', 1, 'key']` → `entries[0].changes[1].key`. */
function formatPath(path: readonly (string | number)[]): string {
  return path.reduce<string>(
    (out, part) => (typeof part === 'number' ? `${out}[${part}]` : out === '' ? part : `${out}.${part}`),
    '',
  );
}
