import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { ROOT } from '../../support/ensure-built';
import { runInProcess } from '../../support/cli/cli-harness';

/** Commander's own usage errors, told as the commands' own are: one line, exit 2 (found by the CLI surface test). */

const run = (...args: string[]) =>
  runInProcess(args, { env: { LOG_LEVEL: 'silent' }, cwd: tmpdir(), hangAfterMs: 30_000 });

describe('usage errors commander finds', () => {
  it.each([
    [['frob'], "unknown command 'frob'"],
    [['wal', 'frob'], "unknown command 'frob'"],
    [['wal', 'inspect'], "missing required argument 'path'"],
    [['wal', 'inspect', 'a', 'b'], "too many arguments for 'inspect'. Expected 1 argument but got 2."],
    [['verify', '--pth', 'x'], "unknown option '--pth' (did you mean --path?)"],
    [['verify', '--level'], "option '--level <level>' argument missing"],
  ])('%j exits 2 with one line', async (args, message) => {
    const { exits, stdout, stderr } = await run(...args);
    expect({ exits, stdout, stderr }).toEqual({
      exits: [2],
      stdout: '',
      stderr: `tidemark: INVALID_ARGUMENT: ${message}\n`,
    });
  });

  it('a command that needs a subcommand names them instead of printing its help on stderr with exit 1', async () => {
    expect(await run()).toEqual({
      exits: [2],
      stdout: '',
      stderr:
        'tidemark: INVALID_ARGUMENT: a command is missing: tidemark takes serve, wal, catalog, verify, recover (see tidemark --help)\n',
    });
    expect((await run('wal')).stderr).toBe(
      'tidemark: INVALID_ARGUMENT: a command is missing: tidemark wal takes inspect (see tidemark wal --help)\n',
    );
    expect((await run('help', 'frob')).stderr).toMatch(
      /^tidemark: INVALID_ARGUMENT: unknown command 'frob': tidemark takes serve, .*\n$/,
    );
  });

  it('repeats at most ECHO_LIMIT characters of an unknown word, its control characters escaped', async () => {
    const long = await run('verify', `--${'x'.repeat(10_000)}`);
    expect(long.exits).toEqual([2]);
    expect(long.stderr).toBe(
      `tidemark: INVALID_ARGUMENT: unknown option '--${'x'.repeat(126)}…' (10002 characters)\n`,
    );
    expect((await run('a\nb')).stderr).toBe("tidemark: INVALID_ARGUMENT: unknown command 'a\\nb'\n");
  });

  it('help and version still exit 0 on stdout', async () => {
    const help = await run('recover', '--help');
    expect(help.exits).toEqual([0]);
    expect(help.stdout).toMatch(/^Usage: tidemark recover \[options\]/);
    const { version } = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
      version: string;
    };
    expect(await run('--version')).toEqual({ exits: [0], stdout: `${version}\n`, stderr: '' });
  });
});
