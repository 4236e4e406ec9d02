import fc from 'fast-check';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { ECHO_LIMIT } from '../../../src/lib/errors';
import { cliCase, type CliCase } from '../../support/cli/cli-surface.arbitraries';
import { buildCliFixture, type CliFixture } from '../../support/cli/cli-surface.fixture';
import { ensureBuilt } from '../../support/ensure-built';
import { runInProcess, runSpawned, type CliRun } from '../../support/cli/cli-harness';
import { treeChanges, treeDigest } from '../../support/cli/tree-digest';

/**
 * The CLI's whole surface against arbitrary command lines (cli-surface.arbitraries.ts): wal inspect,
 * catalog rebuild, verify, recover, unknown commands and options, help and version, with valid, nearly
 * valid, empty, huge and unicode values, paths that are not there or not what they should be, and broken
 * configuration files. Every run, whatever it is given:
 * - ends, exactly once (a deadline catches a hang), with 0, 1 or 2 — 2 exactly when the caller asked
 *   wrongly (and before any work is done), 1 when the work failed, 0 when it was done;
 * - on a non-zero exit prints exactly one line `tidemark: CODE: message` on stderr (after warnings, one
 *   line each), never INTERNAL, with no stack trace unless `--debug`, repeating at most ECHO_LIMIT
 *   characters of any argument; nothing but warnings on success;
 * - writes nothing when it fails (the fixture and the run's scratch directory read the same before and
 *   after), and when it succeeds only what it was asked to write (--out, catalog.json).
 * Most runs go through commander in process (cli/run-cli.ts, as the binary builds it); a handful spawn the
 * built binary for what only a process shows: --debug, --version, exit codes, a clean end.
 *
 * Runs: TIDEMARK_CLI_PROPERTY_RUNS (default 300) in process, and 16 spawned.
 */

const RUNS = Number(process.env.TIDEMARK_CLI_PROPERTY_RUNS ?? '300');
/** Not a timing expectation: a run that has not ended by then is taken to hang. */
const HANG_AFTER_MS = 30_000;
const ONE_LINE = /^tidemark: ([A-Z_]+): [^\n]+\n$/;
const WARNINGS = /^(tidemark: warning: [^\n]+\n)+/;
const EXIT_OF = { ok: 0, fail: 1, usage: 2, 'late-usage': 2 } as const;
/** Cut at ECHO_LIMIT, an argument may still meet its own characters around it (`'` + `''''…`): some slack. */
const ECHOED_AT_MOST = ECHO_LIMIT + 16;

let f: CliFixture;
let fixtureDigest: Map<string, string>;
let runs = 0;

beforeAll(async () => {
  f = await buildCliFixture();
  mkdirSync(path.join(f.root, 'runs'));
  fixtureDigest = treeDigest(f.root, ['runs']);
}, 120_000);

afterAll(() => {
  if (f) rmSync(f.root, { recursive: true, force: true });
});

/** A run's scratch directory, laid out as cli-surface.arbitraries.ts says, and the case made concrete. */
function prepare(c: CliCase): { scratch: string; args: string[]; env: Record<string, string>; cwd: string } {
  const scratch = mkdtempSync(path.join(f.root, 'runs', `${++runs}-`));
  const concrete = (text: string) => text.replaceAll('{S}', scratch);
  const cwd = path.join(scratch, 'cwd');
  mkdirSync(cwd);
  mkdirSync(path.join(scratch, 'empty'));
  if (c.goodDataDir === '{S}/data') cpSync(f.dataDir, path.join(scratch, 'data'), { recursive: true });
  writeFileSync(
    path.join(scratch, 'good.yaml'),
    `dataDir: ${JSON.stringify(concrete(c.goodDataDir || f.dataDir))}\n`,
  );
  const env: Record<string, string> = { LOG_LEVEL: 'silent', TIDEMARK_WAL_PREALLOCATE: 'false' };
  for (const [name, value] of Object.entries(c.env)) env[name] = concrete(value);
  return { scratch, args: c.args.map(concrete), env, cwd };
}

/** The value of the last `--name value` or `--name=value`. */
function lastValue(args: readonly string[], name: string): string | undefined {
  let value: string | undefined;
  args.forEach((arg, i) => {
    if (arg === name) value = args[i + 1];
    else if (arg.startsWith(`${name}=`)) value = arg.slice(name.length + 1);
  });
  return value;
}

/** What a successful run may have written under its scratch directory (relative paths). */
function allowedWrites(args: readonly string[], scratch: string, cwd: string): (p: string) => boolean {
  if (args.includes('--dry-run') || args.some((a) => ['--help', '-h', '--version', '-V'].includes(a))) {
    return () => false;
  }
  if (args.includes('recover')) {
    const out = path.relative(scratch, path.resolve(cwd, lastValue(args, '--out') ?? ''));
    // The directory, what is in it, and the parents it needed.
    return (p) => p === out || p.startsWith(`${out}${path.sep}`) || out.startsWith(`${p}${path.sep}`);
  }
  if (args.includes('rebuild')) return (p) => path.basename(p) === 'catalog.json';
  return () => false;
}

function check(
  c: CliCase,
  args: readonly string[],
  run: CliRun,
  changes: string[],
  allowed: (p: string) => boolean,
) {
  const problems: string[] = [];
  const code = run.exits[0];
  if (run.exits.length !== 1) problems.push(`ended ${run.exits.length} times: ${JSON.stringify(run.exits)}`);
  if (code !== 0 && code !== 1 && code !== 2) problems.push(`exit code ${code}`);
  if (c.expect !== 'any' && code !== EXIT_OF[c.expect]) {
    problems.push(`expected exit ${EXIT_OF[c.expect]} (${c.expect}), got ${code}`);
  }
  // Warnings (a recovery that cannot read the local WAL) may come first, each one line.
  const stderr = run.stderr.replace(WARNINGS, '');
  if (code !== 0) {
    const first = stderr.split('\n')[0] ?? '';
    const match = ONE_LINE.exec(c.debug ? `${first}\n` : stderr);
    if (!match) problems.push('stderr is not one line "tidemark: CODE: message"');
    else if (match[1] === 'INTERNAL') problems.push('an INTERNAL error');
  } else if (stderr !== '') {
    problems.push('stderr on success');
  }
  if (!c.debug && /\n\s+at /.test(run.stderr)) problems.push('a stack trace without --debug');
  // With --debug, the stack that follows the failure line may repeat anything. Quoted as JSON, a `\` or
  // `"` shows as two characters: count it as the one it was.
  const warnings = run.stderr.length - stderr.length;
  const told = run.stderr
    .slice(0, c.debug ? warnings + stderr.indexOf('\n') + 1 : undefined)
    .replace(/\\(["\\])/g, '$1');
  for (const arg of args) {
    if (arg.length > ECHOED_AT_MOST && told.includes(arg.slice(0, ECHOED_AT_MOST))) {
      problems.push(`repeats more than ${ECHO_LIMIT} characters of an argument of ${arg.length}`);
    }
  }
  const written = code === 0 ? changes.filter((p) => !allowed(p)) : changes;
  if (written.length > 0) problems.push(`wrote ${JSON.stringify(written.slice(0, 5))}`);
  if (process.exitCode !== undefined) problems.push(`set process.exitCode to ${process.exitCode}`);
  if (problems.length > 0) {
    const cut = (s: string) => (s.length > 600 ? `${s.slice(0, 600)}… (${s.length} characters)` : s);
    throw new Error(
      [
        `tidemark ${cut(JSON.stringify(args))}`,
        `env ${JSON.stringify(c.env)}`,
        ...problems.map((p) => `- ${p}`),
        `exits ${JSON.stringify(run.exits)}; stderr: ${cut(JSON.stringify(run.stderr))}`,
        `stdout: ${cut(JSON.stringify(run.stdout))}`,
      ].join('\n'),
    );
  }
}

/** Runs a case in its own scratch directory, checks every rule, and returns the run with `{S}` put back. */
async function runCase(c: CliCase, spawned = false): Promise<CliRun> {
  const { scratch, args, env, cwd } = prepare(c);
  try {
    const before = treeDigest(scratch);
    const options = { env, cwd, hangAfterMs: HANG_AFTER_MS };
    const run = await (spawned ? runSpawned(args, options) : runInProcess(args, options));
    const changes = treeChanges(before, treeDigest(scratch));
    const fixture = treeChanges(fixtureDigest, treeDigest(f.root, ['runs']));
    const written = [...fixture.map((p) => `(fixture) ${p}`), ...changes];
    check(c, args, run, written, allowedWrites(args, scratch, cwd));
    const symbolic = (text: string) => text.replaceAll(scratch, '{S}');
    return { exits: run.exits, stdout: symbolic(run.stdout), stderr: symbolic(run.stderr) };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** A case written out: the args, DATA_DIR, and what it must end with. */
function fixed(args: string[], expect: CliCase['expect'], dataDir?: string): CliCase {
  return {
    args,
    env: dataDir === undefined ? {} : { DATA_DIR: dataDir },
    expect,
    debug: args.includes('--debug'),
    goodDataDir: dataDir ?? '',
  };
}

/** What only a process shows: --debug's stack, --version, exit codes, an end with nothing left running. */
function spawnedCases(): CliCase[] {
  const store = path.join(f.dataDir, 'store');
  const missing = path.join(f.root, 'nope');
  return [
    fixed(['--version'], 'ok'),
    fixed(['-V'], 'ok'),
    fixed(['--help'], 'ok'),
    fixed([], 'usage'),
    fixed(['frob'], 'usage'),
    fixed(['x'.repeat(10_000)], 'usage'),
    fixed(['wal'], 'usage'),
    fixed(['help', 'frob'], 'usage'),
    fixed(['verify', '--pth', store], 'usage'),
    fixed(['--debug', 'wal', 'inspect', missing], 'usage'),
    fixed(['wal', 'inspect', missing, '--debug'], 'usage'),
    fixed(['--debug', 'recover', '--to', 'lsn:1', '--dry-run', '--config', f.configs.badYaml], 'usage'),
    fixed(['wal', 'inspect', f.corruptSegment], 'fail'),
    // Worker threads (the build has the block worker) and the WAL: the process must still end.
    fixed(['verify', '--path', store, '--level', 'full', '--threads', '2'], 'ok'),
    fixed(['recover', '--to', `lsn:${f.lastLsn}`, '--threads', '2', '--out', '{S}/out'], 'ok', f.dataDir),
    fixed(['catalog', 'rebuild'], 'ok', '{S}/data'),
  ];
}

describe('the CLI surface', () => {
  it('in process: any command line ends once with 0, 1 or 2, one line on failure, nothing written', async () => {
    await fc.assert(
      fc.asyncProperty(cliCase(f), async (c) => {
        await runCase(c);
      }),
      { numRuns: RUNS },
    );
  }, 600_000);

  describe('spawned: node dist/cli.js', () => {
    beforeAll(() => ensureBuilt(), 300_000);

    it('keeps the same rules, and says what the in-process run says', async () => {
      for (const c of spawnedCases()) {
        const spawned = await runCase(c, true);
        const inProcess = await runCase(c);
        const firstLine = (run: CliRun) => run.stderr.split('\n')[0];
        expect({ args: c.args, exits: spawned.exits, stderr: firstLine(spawned) }).toEqual({
          args: c.args,
          exits: inProcess.exits,
          stderr: firstLine(inProcess),
        });
        if (c.args.some((a) => ['--version', '-V', '--help'].includes(a))) {
          expect(spawned.stdout).toBe(inProcess.stdout);
        }
        if (c.debug) expect(spawned.stderr).toMatch(/\n\s+at /);
      }
    }, 300_000);
  });
});
