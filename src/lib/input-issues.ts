import { z, type ZodIssue, type ZodType } from 'zod';
import { invalidArgument, quoteInput, type TidemarkError } from './errors';

/**
 * Request bodies and query strings checked against a zod schema, with one way of reporting what is wrong:
 * INVALID_ARGUMENT naming each bad field (`entries[1].changes[0].value: expected base64`), never repeating
 * more than a bounded piece of what the caller sent (zod's own messages for unknown keys and enum values
 * quote the input in full), and listing at most MAX_ISSUES issues (a batch of 10,000 bad entries is one
 * problem, not 10,000).
 */

export interface InputIssue {
  path: string;
  message: string;
}

/** What is being checked: `request body` with fields, or `query` with parameters. */
export interface InputKind {
  subject: string;
  field: string;
}

export const BODY_INPUT: InputKind = { subject: 'request body', field: 'field' };
export const QUERY_INPUT: InputKind = { subject: 'query', field: 'parameter' };

const MAX_ISSUES = 10;
const MAX_KEYS_NAMED = 5;

/** The parsed value, or INVALID_ARGUMENT; `help` (the expected shape) is added when a field is unknown. */
export function parseInput<T>(
  schema: ZodType<T, z.ZodTypeDef, unknown>,
  input: unknown,
  kind: InputKind,
  help?: string,
): T {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw invalidInput(result.error.issues, kind, help);
}

function invalidInput(zodIssues: readonly ZodIssue[], kind: InputKind, help?: string): TidemarkError {
  const issues = zodIssues.slice(0, MAX_ISSUES).map((issue): InputIssue => ({
    path: formatPath(issue.path),
    message: describe(issue, kind),
  }));
  const more = zodIssues.length - issues.length;
  const unknown = zodIssues.some((issue) => issue.code === z.ZodIssueCode.unrecognized_keys);
  const text = issues.map((i) => (i.path === '' ? i.message : `${i.path}: ${i.message}`)).join('; ');
  const message =
    `invalid ${kind.subject}: ${text}` +
    (more > 0 ? `; and ${more} more` : '') +
    (unknown && help !== undefined ? ` (${help})` : '');
  return invalidArgument(message, { issues, ...(more > 0 ? { moreIssues: more } : {}) });
}

function describe(issue: ZodIssue, kind: InputKind): string {
  switch (issue.code) {
    case z.ZodIssueCode.unrecognized_keys: {
      const named = issue.keys.slice(0, MAX_KEYS_NAMED).map(quoteInput).join(', ');
      const more =
        issue.keys.length > MAX_KEYS_NAMED ? ` and ${issue.keys.length - MAX_KEYS_NAMED} more` : '';
      return `unknown ${kind.field}${issue.keys.length === 1 ? '' : 's'} ${named}${more}`;
    }
    case z.ZodIssueCode.invalid_enum_value:
      // zod's default message quotes the value received; a schema's own message does not.
      return issue.message.startsWith('Invalid enum value')
        ? `expected one of ${issue.options.map((option) => JSON.stringify(option)).join(', ')}`
        : issue.message;
    default:
      return issue.message;
  }
}

const PLAIN_KEY = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** `['entries', 0, 'metadata', 'a b']` → `entries[0].metadata["a b"]`; long keys cut. */
export function formatPath(path: readonly (string | number)[]): string {
  return path.reduce<string>((out, part) => {
    if (typeof part === 'number') return `${out}[${part}]`;
    if (PLAIN_KEY.test(part) && part.length <= 64) return out === '' ? part : `${out}.${part}`;
    return `${out}[${quoteInput(part)}]`;
  }, '');
}
