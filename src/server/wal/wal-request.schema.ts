import { z } from 'zod';
import { type Change, type LogEntry, nowMicros } from '../../wal';
import { isBase64 } from '../http/base64';
import { BODY_INPUT, parseInput } from '../../lib/input-issues';

/**
 * The JSON form of `POST /v1/wal/entries`: keys and values are base64. Only the shape is checked here;
 * the WAL itself checks component ids, timestamps, sizes and sequences (and refuses the whole batch if one
 * is bad).
 */

const base64 = z
  .string({ invalid_type_error: 'expected a base64 string', required_error: 'expected a base64 string' })
  .refine(isBase64, 'expected base64');

const safeInteger = (what: string) =>
  z
    .number({ invalid_type_error: `expected ${what}`, required_error: `expected ${what}` })
    .int(`expected ${what}`)
    .nonnegative(`expected ${what}`)
    .max(Number.MAX_SAFE_INTEGER, `expected ${what}`);

// zod's record would drop a `__proto__` key without a word (it cannot be assigned as a plain property);
// the WAL refuses it in metadata anyway, so say so here rather than append the entry without it.
const metadataSchema = z.record(
  z.string().refine((key) => key !== '__proto__', 'metadata key __proto__ is not allowed'),
  z.string({ invalid_type_error: 'expected a string' }),
  { invalid_type_error: 'expected an object of strings' },
);

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
    metadata: metadataSchema.optional(),
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
  const request = parseInput(appendRequestSchema, body, BODY_INPUT, BODY);
  const timestamp = now();
  return request.entries.map((entry) => ({
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
