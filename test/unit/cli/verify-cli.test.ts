import { Command } from 'commander';
import { rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { registerVerify } from '../../../src/cli/verify.command';
import type { VerificationReport } from '../../../src/recovery/verification/verify-report';
import {
  blockKeyOf,
  blockPath,
  buildStore,
  copyStore,
  flipBit,
  ownBlocks,
  type BuiltStore,
} from '../../support/recovery/verification/verify-fixture';
import { removeDir, tempDir } from '../../support/wal/wal-fixtures';

/** `tidemark verify` through commander, in process: what it prints and the exit code it sets. */

interface Run {
  code: number | string | undefined;
  stdout: string;
  stderr: string;
}

class Exited extends Error {
  constructor(readonly code: number | undefined) {
    super(`process.exit(${code})`);
  }
}

async function run(...args: string[]): Promise<Run> {
  const program = new Command('tidemark');
  registerVerify(program);
  let stdout = '';
  let stderr = '';
  const out = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout += chunk.toString();
    return true;
  });
  const err = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += chunk.toString();
    return true;
  });
  const exit = jest.spyOn(process, 'exit').mockImplementation((code) => {
    throw new Exited(code === undefined || code === null ? undefined : Number(code));
  });
  process.exitCode = undefined;
  let code: Run['code'];
  try {
    await program.parseAsync(['node', 'tidemark', 'verify', ...args]);
    code = process.exitCode ?? 0;
  } catch (error) {
    if (!(error instanceof Exited)) throw error;
    code = error.code;
  } finally {
    out.mockRestore();
    err.mockRestore();
    exit.mockRestore();
    process.exitCode = undefined;
  }
  return { code, stdout, stderr };
}

let root: string;
let built: BuiltStore;
let store: BuiltStore;
let copies = 0;

beforeAll(async () => {
  root = tempDir('tidemark-verify-cli-');
  built = await buildStore(path.join(root, 'built'));
});

afterAll(() => removeDir(root));

beforeEach(() => {
  store = copyStore(built, path.join(root, `copy-${++copies}`));
});

afterEach(() => rmSync(store.dir, { recursive: true, force: true }));

const ids = () => [store.full, ...store.incrementals];

describe('tidemark verify', () => {
  it('prints one line per checkpoint, the WAL packs and the totals, and exits 0 when everything checks', async () => {
    const { code, stdout, stderr } = await run('--path', store.dir, '--level', 'full');
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const lines = stdout.trimEnd().split('\n');
    expect(lines[0]).toBe(
      `verify ${store.dir}: prefix tidemark, level full, checkpoints from the store, WAL of every node`,
    );
    expect(lines).toContain('checkpoints (3)');
    expect(
      lines.some((l) => new RegExp(`^\\s+${store.full}\\s+full\\s+parent -\\s+lsn 600\\s+OK$`).test(l)),
    ).toBe(true);
    expect(
      lines.some((l) =>
        new RegExp(
          `^\\s+${store.incrementals[1]}\\s+incremental\\s+parent ${store.incrementals[0]}\\s+lsn 1200\\s+OK$`,
        ).test(l),
      ),
    ).toBe(true);
    expect(
      lines.some((l) => /^\s+tidemark\/wal\/node-1\/\d{20}-\d{20}\.seg\s+LSN 1–\d+\s.*entries\s+OK$/.test(l)),
    ).toBe(true);
    expect(lines.find((l) => l.startsWith('totals: '))).toMatch(
      /^totals: 3 checkpoints \(0 with faults\), \d+ blocks of [\d.]+ KiB \(\d+ reads checked, [\d.]+ KiB read with the WAL packs\), \d+ WAL packs \(0 with faults\), 1400 WAL entries checked; /,
    );
    expect(lines[lines.length - 1]).toBe('RESULT: OK');
  });

  it('exits 1 and names the checkpoint, the code and the object on a fault (default level: standard)', async () => {
    const [hash] = ownBlocks(store.dir, store.incrementals[0], ids());
    flipBit(blockPath(store.dir, hash!), 30);
    const basic = await run('--path', store.dir, '--level', 'basic');
    expect(basic.code).toBe(0);

    const { code, stdout } = await run('--path', store.dir);
    expect(code).toBe(1);
    const lines = stdout.trimEnd().split('\n');
    const at = lines.findIndex((l) => new RegExp(`^\\s+${store.incrementals[0]}\\s+incremental\\s`).test(l));
    expect(lines[at]).toMatch(/FAULT: CHECKSUM_MISMATCH$/);
    expect(lines[at + 1]).toContain(
      `CHECKSUM_MISMATCH  ${blockKeyOf(hash!)}: checkpoint ${store.incrementals[0]}: block`,
    );
    expect(lines[lines.length - 1]).toMatch(/^RESULT: FAULT — \d+ faults?$/);
  });

  it('prints the report as JSON with --json', async () => {
    const { code, stdout } = await run('--path', store.dir, '--level', 'basic', '--json');
    expect(code).toBe(0);
    const report = JSON.parse(stdout) as VerificationReport;
    expect(report).toMatchObject({ ok: true, level: 'basic', prefix: 'tidemark', source: 'store' });
    expect(report.checkpoints.map((c) => c.id)).toEqual(ids());
    expect(report.walPacks.length).toBe(report.totals.walPacks);
  });

  it('reads the configured store (a local directory from the config file)', async () => {
    const config = path.join(root, 'tidemark.yaml');
    writeFileSync(config, `storage:\n  backend: LocalFile\n  basePath: ${JSON.stringify(store.dir)}\n`);
    const { code, stdout } = await run('--config', config, '--level', 'basic', '--node', 'node-1');
    expect(code).toBe(0);
    expect(stdout.split('\n')[0]).toBe(
      `verify ${store.dir}: prefix tidemark, level basic, checkpoints from the store, WAL of node node-1`,
    );
  });

  describe('usage and configuration errors exit 2', () => {
    // STORE stands for the test's store directory.
    it.each([
      [
        ['--path', '/nonexistent/tidemark-store'],
        /^tidemark: INVALID_ARGUMENT: \/nonexistent\/tidemark-store is not a directory\n$/,
      ],
      [
        ['--path', 'STORE', '--level', 'paranoid'],
        /^tidemark: INVALID_ARGUMENT: --level must be one of basic, standard, full; got "paranoid"\n$/,
      ],
      [['--path', 'STORE', '--prefix', '../x'], /^tidemark: INVALID_ARGUMENT: /],
      [
        ['--path', 'STORE', '--threads', 'many'],
        /^tidemark: INVALID_ARGUMENT: verification threads must be an integer/,
      ],
      [['--config', '/nonexistent/tidemark.yaml'], /^tidemark: CONFIG_INVALID: /],
    ])('%j', async (args, message) => {
      const { code, stdout, stderr } = await run(...args.map((a) => (a === 'STORE' ? store.dir : a)));
      expect({ code, stdout }).toEqual({ code: 2, stdout: '' });
      expect(stderr).toMatch(message);
    });

    it('a data directory given for the store directory gets a hint', async () => {
      const { code, stderr } = await run('--path', path.dirname(built.dir));
      expect(code).toBe(2);
      expect(stderr).toContain(`try --path ${built.dir}`);
    });

    it('--path with --config', async () => {
      const { code, stderr } = await run('--path', store.dir, '--config', 'x.yaml');
      expect(code).toBe(2);
      expect(stderr).toContain('--path and --config exclude each other');
    });

    it("commander's own (an unknown option)", async () => {
      const { code, stderr } = await run('--path', store.dir, '--frobnicate');
      expect(code).toBe(2);
      expect(stderr).toContain("unknown option '--frobnicate'");
    });
  });
});
