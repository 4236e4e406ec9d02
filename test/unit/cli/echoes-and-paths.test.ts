import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { ECHO_LIMIT } from '../../../src/lib/errors';
import { buildCliFixture, type CliFixture } from '../../support/cli/cli-surface.fixture';
import { runInProcess, type CliRun } from '../../support/cli/cli-harness';

/**
 * Found by the CLI surface test: failure lines repeated a 10 KB path, prefix or configuration key whole and
 * let a YAML error's excerpt run over several lines; paths that name nothing (too long, under a file) were
 * failures (exit 1, an INTERNAL error for recover --out) instead of the caller's mistake; recover read any
 * directory given as --path as an empty store, and checked --out only after the whole recovery.
 */

let f: CliFixture;
let root: string;

beforeAll(async () => {
  f = await buildCliFixture();
  root = path.join(f.root, 'echoes');
  mkdirSync(root);
}, 120_000);

afterAll(() => {
  if (f) rmSync(f.root, { recursive: true, force: true });
});

const run = (...args: string[]) =>
  runInProcess(args, {
    env: { LOG_LEVEL: 'silent', TIDEMARK_WAL_PREALLOCATE: 'false', DATA_DIR: f.dataDir },
    cwd: root,
    hangAfterMs: 30_000,
  });

const long = (n = 10_000) => path.join(f.root, 'x'.repeat(n));

/** Exit 2, one line, and no more than ECHO_LIMIT characters of `input`. */
function expectUsage(result: CliRun, input: string, message: RegExp): void {
  expect({ exits: result.exits, stdout: result.stdout }).toEqual({ exits: [2], stdout: '' });
  expect(result.stderr).toMatch(/^tidemark: [A-Z_]+: [^\n]+\n$/);
  expect(result.stderr).toMatch(message);
  if (input.length > ECHO_LIMIT) expect(result.stderr).not.toContain(input.slice(0, ECHO_LIMIT + 1));
}

describe('a path that names nothing is the caller’s mistake, and is not repeated whole', () => {
  it('wal inspect', async () => {
    const path10k = long();
    expectUsage(
      await run('wal', 'inspect', path10k),
      path10k,
      /no such file or directory \(the name is too long\)/,
    );
    expectUsage(
      await run('wal', 'inspect', path.join(f.file, 'x')),
      '',
      /no such file or directory \(a part of the path is a file\)/,
    );
  });

  it('verify --path, --prefix, --node', async () => {
    const path10k = long();
    expectUsage(await run('verify', '--path', path10k), path10k, /… \(\d+ characters\) is not a directory/);
    const store = path.join(f.dataDir, 'store');
    const prefix = 'p'.repeat(5_000);
    expectUsage(
      await run('verify', '--path', store, '--prefix', prefix),
      prefix,
      /--prefix "p+…" \(5000 characters\) is no key prefix/,
    );
    expectUsage(
      await run('verify', '--path', store, '--node', 'a/b'),
      '',
      /--node "a\/b" is no node id: contains "\/"/,
    );
    const node = 'n'.repeat(5_000);
    expectUsage(
      await run('verify', '--path', store, '--node', node),
      node,
      /is no node id: path segment longer than/,
    );
  });

  it('recover --path, --level, --threads', async () => {
    const path10k = long();
    expectUsage(
      await run('recover', '--to', 'lsn:1', '--dry-run', '--path', path10k),
      path10k,
      /is not a directory/,
    );
    const level = 'l'.repeat(5_000);
    expectUsage(
      await run('recover', '--to', 'lsn:1', '--dry-run', '--level', level),
      level,
      /--level must be/,
    );
    const threads = '1'.repeat(5_000);
    expectUsage(
      await run('recover', '--to', 'lsn:1', '--dry-run', '--threads', threads),
      threads,
      /--threads must be/,
    );
  });
});

describe('recover --path is a store', () => {
  it('a data directory given for its store is refused with a hint, not read as an empty store', async () => {
    const result = await run('recover', '--to', 'time:1', '--dry-run', '--path', f.dataDir);
    expectUsage(result, '', new RegExp(`try --path ${path.join(f.dataDir, 'store')}`));
    expectUsage(
      await run('recover', '--to', 'time:1', '--dry-run', '--path', f.notesDir),
      '',
      /holds nothing under the prefix "tidemark"/,
    );
  });
});

describe('recover --out is checked before any work, dry run included', () => {
  it.each([
    ['a file', () => f.file, /--out .* is a file, not a directory/],
    ['under a file', () => path.join(f.file, 'x'), /--out .*: a part of the path is a file/],
    ['too long', () => long(), /--out .*: the name is too long/],
    ['empty', () => '', /--out is empty/],
    ['not empty', () => f.notesDir, /--out .* is not empty/],
  ])('%s', async (_, out, message) => {
    for (const mode of [
      ['--to', `checkpoint:${f.checkpoints[0]}`],
      ['--to', 'checkpoint:999'],
      ['--to', 'lsn:1', '--dry-run'],
    ]) {
      expectUsage(await run('recover', ...mode, '--out', out()), out(), message);
    }
  });

  it('writes nothing, parents included, when the recovery then fails', async () => {
    const out = path.join(root, 'new', 'a', 'b');
    const result = await run('recover', '--to', 'checkpoint:999', '--out', out);
    expect(result.exits).toEqual([1]);
    expect(existsSync(path.join(root, 'new'))).toBe(false);
  });
});

describe('configuration errors', () => {
  const config = (name: string, text: string) => {
    const file = path.join(root, name);
    writeFileSync(file, text);
    return file;
  };

  it('a YAML error is one line', async () => {
    const file = config('bad.yaml', 'storage:\n  backend: [LocalFile\n  prefix: {x: y: z}\n');
    const result = await run('verify', '--config', file);
    expectUsage(
      result,
      '',
      new RegExp(`^tidemark: CONFIG_INVALID: invalid configuration: \\(file\\) \\(${file}\\): `),
    );
  });

  it('names at most ECHO_LIMIT characters of a key, a file, a value; the first ten issues and a count', async () => {
    const key = 'k'.repeat(1_000); // YAML takes plain keys of up to 1024 characters
    expectUsage(await run('verify', '--config', config('long-key.yaml', `${key}: 1\n`)), key, /unknown key/);
    const path10k = long();
    expectUsage(await run('verify', '--config', path10k), path10k, /^tidemark: CONFIG_INVALID: /);
    const many = Array.from({ length: 20 }, (_, i) => `unknown${i}: 1`).join('\n');
    const result = await run('verify', '--config', config('many.yaml', `${many}\n`));
    expectUsage(result, '', /unknown9 \([^)]*\): unknown key; and 10 more\n$/);
  });
});
