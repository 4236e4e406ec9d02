import * as fs from 'node:fs';
import type * as Yaml from 'yaml';
import type { ZodIssue } from 'zod';
import { echoInput, TidemarkError } from '../lib/errors';
import { configSchema, type TidemarkConfig } from './config.schema';
import { parseEnvValue } from './env-values';
import { CONFIG_FILE_ENV, ENV_VARS } from './env-vars';

export interface LoadConfigOptions {
  /** YAML file to read; wins over `TIDEMARK_CONFIG`. */
  configFile?: string;
  /** The environment to read; `process.env` unless given (tests pass their own). */
  env?: Readonly<Record<string, string | undefined>>;
}

export interface ConfigIssue {
  /** Dotted configuration key, e.g. `wal.segmentSize`. */
  key: string;
  /** Where the bad value came from: an environment variable's name or the YAML file's path. */
  source?: string;
  message: string;
}

type Raw = Record<string, unknown>;

/**
 * Loads the configuration: defaults, then the optional YAML file, then environment variables (the table in
 * `env-vars.ts`). This is the only place that reads `process.env`. Anything invalid throws one
 * `CONFIG_INVALID` error whose message names every bad key and where its value came from.
 */
export function loadConfig(options: LoadConfigOptions = {}): TidemarkConfig {
  const env = options.env ?? process.env;
  const file = options.configFile ?? nonEmpty(env[CONFIG_FILE_ENV]);
  const raw: Raw = file === undefined ? {} : readYaml(file);
  const sources = new Map<string, string>();
  const issues: ConfigIssue[] = [];

  for (const variable of ENV_VARS) {
    const text = nonEmpty(env[variable.name]);
    if (text === undefined) continue;
    const parsed = parseEnvValue(variable.kind, text);
    if (!parsed.ok) {
      issues.push({ key: variable.key, source: variable.name, message: parsed.message });
      continue;
    }
    const merge = variable.kind === 'levels';
    setPath(raw, variable.key, parsed.value, merge);
    // A per-module level names its own key, so a bad level in the YAML file is not blamed on LOG_LEVELS.
    const keys = merge && isPlainObject(parsed.value) ? Object.keys(parsed.value) : [''];
    for (const k of keys) sources.set(k === '' ? variable.key : `${variable.key}.${k}`, variable.name);
  }

  const result = configSchema.safeParse(raw);
  if (result.success && issues.length === 0) return result.data;
  if (!result.success) {
    for (const issue of result.error.issues) issues.push(...describe(issue, sources, file));
  }
  throw configInvalid(issues);
}

function nonEmpty(text: string | undefined): string | undefined {
  return text === undefined || text.trim() === '' ? undefined : text;
}

function readYaml(file: string): Raw {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : String(error);
    throw configInvalid([{ key: '(file)', source: file, message: reason }]);
  }
  const doc = loadYaml().parseDocument(text);
  if (doc.errors.length > 0) {
    throw configInvalid(doc.errors.map((e) => ({ key: '(file)', source: file, message: e.message })));
  }
  const value: unknown = doc.toJS();
  if (value === null || value === undefined) return {};
  if (!isPlainObject(value)) {
    throw configInvalid([{ key: '(file)', source: file, message: 'expected a mapping at the top level' }]);
  }
  return value;
}

function isPlainObject(value: unknown): value is Raw {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Sets `a.b.c` in `raw`; leaves a non-object in the way alone so the schema reports it. */
function setPath(raw: Raw, key: string, value: unknown, merge: boolean): void {
  const parts = key.split('.');
  let node = raw;
  for (const part of parts.slice(0, -1)) {
    if (node[part] === undefined) node[part] = {};
    const next = node[part];
    if (!isPlainObject(next)) return;
    node = next;
  }
  const last = parts[parts.length - 1];
  const existing = node[last];
  node[last] = merge && isPlainObject(existing) && isPlainObject(value) ? { ...existing, ...value } : value;
}

function describe(issue: ZodIssue, sources: Map<string, string>, file: string | undefined): ConfigIssue[] {
  const key = issue.path.join('.');
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((k) => {
      const full = key === '' ? k : `${key}.${k}`;
      return { key: full, source: sources.get(full) ?? file, message: 'unknown key' };
    });
  }
  return [
    { key: key === '' ? '(root)' : key, source: sourceOf(key, sources) ?? file, message: issue.message },
  ];
}

function sourceOf(key: string, sources: Map<string, string>): string | undefined {
  for (let probe = key; probe !== ''; probe = probe.slice(0, Math.max(probe.lastIndexOf('.'), 0))) {
    const source = sources.get(probe);
    if (source !== undefined) return source;
  }
  return undefined;
}

/** One issue as the message says it; keys, files and messages come from the user, so each is cut. */
export function formatConfigIssue(issue: ConfigIssue): string {
  const source = issue.source === undefined ? '' : ` (${echoInput(issue.source)})`;
  return `${echoInput(issue.key)}${source}: ${echoInput(issue.message.replace(/\s*\n\s*/g, ' '))}`;
}

/** At most this many issues are told; the count says how many there were. */
const TOLD_ISSUES = 10;

function configInvalid(issues: ConfigIssue[]): TidemarkError {
  const told = issues.slice(0, TOLD_ISSUES).map(formatConfigIssue);
  const more = issues.length > TOLD_ISSUES ? `; and ${issues.length - TOLD_ISSUES} more` : '';
  const message = `invalid configuration: ${told.join('; ')}${more}`;
  return new TidemarkError('CONFIG_INVALID', message, {
    details: {
      issues: issues.slice(0, TOLD_ISSUES),
      ...(issues.length > TOLD_ISSUES ? { count: issues.length } : {}),
    },
  });
}

// The YAML parser (some 70 modules) loads only when a configuration file is read, not with the library face.
function loadYaml(): typeof Yaml {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('yaml');
}
