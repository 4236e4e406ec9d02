import type { EnvKind } from './env-vars';

/**
 * Turns one environment variable's text into the value its configuration key expects.
 * Parsing is strict: text that is not a number (or a boolean) is passed on unchanged, so the schema
 * refuses it with a message naming the key — never a silent NaN or `false`.
 */
export type EnvParse = { ok: true; value: unknown } | { ok: false; message: string };

const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
const TRUE = new Set(['true', '1', 'yes', 'on']);
const FALSE = new Set(['false', '0', 'no', 'off']);
const LEVEL_PAIR = /^([^=\s]+)\s*=\s*(\S+)$/;

export function parseEnvValue(kind: EnvKind, text: string): EnvParse {
  switch (kind) {
    case 'string':
      return { ok: true, value: text };
    case 'integer':
      return { ok: true, value: NUMBER.test(text.trim()) ? Number(text.trim()) : text };
    case 'boolean':
      return { ok: true, value: parseBoolean(text) };
    case 'levels':
      return parseModuleLevels(text);
  }
}

function parseBoolean(text: string): unknown {
  const normalized = text.trim().toLowerCase();
  if (TRUE.has(normalized)) return true;
  if (FALSE.has(normalized)) return false;
  return text;
}

/** `"wal=debug, http=warn"` → `{ wal: 'debug', http: 'warn' }`; the levels themselves are checked by the schema. */
export function parseModuleLevels(text: string): EnvParse {
  const levels: Record<string, string> = {};
  for (const piece of text.split(',')) {
    const pair = piece.trim();
    if (pair === '') continue;
    const match = LEVEL_PAIR.exec(pair);
    if (match === null) {
      return { ok: false, message: `expected "module=level" pairs separated by commas, got "${pair}"` };
    }
    levels[match[1]] = match[2];
  }
  return { ok: true, value: levels };
}
