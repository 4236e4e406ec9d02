import { cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { buildCliFixture, type CliFixture } from '../../support/cli/cli-surface.fixture';
import { runInProcess } from '../../support/cli/cli-harness';

/**
 * A command whose work fails prints its report on stdout and exits 1 — and says why in one line on stderr,
 * for a caller who reads only stderr and the exit code (found by the CLI surface test: wal inspect, verify,
 * catalog rebuild and an optimistic recover exited 1 with nothing on stderr).
 */

let f: CliFixture;

beforeAll(async () => {
  f = await buildCliFixture();
}, 120_000);

afterAll(() => {
  if (f) rmSync(f.root, { recursive: true, force: true });
});

const run = (args: string[], env: Record<string, string> = {}) =>
  runInProcess(args, {
    env: { LOG_LEVEL: 'silent', TIDEMARK_WAL_PREALLOCATE: 'false', ...env },
    cwd: f.root,
    hangAfterMs: 30_000,
  });

describe('exit 1 with its reason on stderr', () => {
  it('wal inspect: a corrupt segment, a file that is no segment', async () => {
    const corrupt = await run(['wal', 'inspect', f.corruptSegment]);
    expect(corrupt.exits).toEqual([1]);
    expect(corrupt.stdout).toContain('CORRUPTION FOUND');
    expect(corrupt.stderr).toMatch(
      /^tidemark: CHECKSUM_MISMATCH: 1 of 1 segment\(s\) fail the checks; corrupt\.wal: CHECKSUM_MISMATCH at offset \d+: [^\n]+\n$/,
    );
    const file = await run(['wal', 'inspect', f.file]);
    expect(file.exits).toEqual([1]);
    expect(file.stderr).toMatch(
      /^tidemark: [A-Z_]+: 1 of 1 segment\(s\) fail the checks; file\.txt: [^\n]+\n$/,
    );
    expect(file.stderr).not.toContain('file.txt: file.txt:'); // the read error names the file already
  });

  it('verify: a block one byte short', async () => {
    const { exits, stdout, stderr } = await run(['verify', '--path', f.corruptStore, '--level', 'basic']);
    expect(exits).toEqual([1]);
    expect(stdout).toMatch(/RESULT: FAULT/);
    expect(stderr).toMatch(
      /^tidemark: [A-Z_]+: \d+ fault\(s\): \d checkpoint\(s\), 0 WAL pack\(s\); first: checkpoint \d+: [^\n]+\n$/,
    );
  });

  it('catalog rebuild: a manifest that is not one', async () => {
    const dataDir = path.join(f.root, 'rebuild-data');
    cpSync(f.dataDir, dataDir, { recursive: true });
    const bad = path.join(dataDir, 'store', 'tidemark', 'checkpoints', '00000000000000000099');
    mkdirSync(bad);
    writeFileSync(path.join(bad, 'manifest.json'), 'not json');
    const { exits, stdout, stderr } = await run(['catalog', 'rebuild'], { DATA_DIR: dataDir });
    expect(exits).toEqual([1]);
    expect(stdout).toContain('problem: tidemark/checkpoints/00000000000000000099/manifest.json');
    expect(stderr).toBe(
      'tidemark: DESERIALIZATION_ERROR: 1 manifest(s) with a problem, the catalog was written without what was left out; ' +
        `first: tidemark/checkpoints/00000000000000000099/manifest.json: ${/problem: [^:]+: DESERIALIZATION_ERROR: (.*) \(left out\)/.exec(stdout)?.[1]}\n`,
    );
  });

  it('recover, optimistic: a component that could not be recovered', async () => {
    const out = path.join(f.root, 'optimistic-out');
    const { exits, stdout, stderr } = await run(
      ['recover', '--to', `checkpoint:${f.checkpoints[1]}`, '--path', f.corruptStore, '--out', out],
      { TIDEMARK_RECOVERY_OPTIMISTIC: 'true' },
    );
    expect(exits).toEqual([1]);
    expect(stdout).toMatch(/FAILED/);
    expect(stderr).toMatch(/^tidemark: [A-Z_]+: \d of \d component\(s\) failed; first: \w+: [^\n]+\n$/);
  });
});
