import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { buildCliFixture, type CliFixture } from '../../support/cli/cli-surface.fixture';
import { runInProcess } from '../../support/cli/cli-harness';

/**
 * catalog rebuild does not empty a catalog on the word of a store that holds nothing (found by the CLI
 * surface test: with storage.backend Memory, or a prefix or directory holding no manifest, it wrote an
 * empty catalog over one listing every checkpoint, and exited 0).
 */

let f: CliFixture;
let copies = 0;

beforeAll(async () => {
  f = await buildCliFixture();
}, 120_000);

afterAll(() => {
  if (f) rmSync(f.root, { recursive: true, force: true });
});

function dataDirCopy(): string {
  const dir = path.join(f.root, `rebuild-${++copies}`);
  cpSync(f.dataDir, dir, { recursive: true });
  return dir;
}

const run = (args: string[], env: Record<string, string>) =>
  runInProcess(['catalog', 'rebuild', ...args], {
    env: { LOG_LEVEL: 'silent', TIDEMARK_WAL_PREALLOCATE: 'false', ...env },
    cwd: f.root,
    hangAfterMs: 30_000,
  });

describe('catalog rebuild from a store that holds nothing', () => {
  it.each([
    ['a prefix with no manifest', () => 'storage:\n  prefix: elsewhere\n'],
    [
      'an empty store directory',
      () => `storage:\n  backend: LocalFile\n  basePath: ${JSON.stringify(f.emptyDir)}\n`,
    ],
  ])('%s: refused, catalog.json unchanged, dry run or not', async (name, yaml) => {
    const dataDir = dataDirCopy();
    const config = path.join(dataDir, `${name.replace(/ /g, '-')}.yaml`);
    writeFileSync(config, yaml());
    const catalog = path.join(dataDir, 'catalog.json');
    const before = readFileSync(catalog, 'utf8');
    for (const args of [[], ['--dry-run']]) {
      const { exits, stdout, stderr } = await run(['--config', config, ...args], { DATA_DIR: dataDir });
      expect({ exits, stdout }).toEqual({ exits: [2], stdout: '' });
      expect(stderr).toMatch(
        /^tidemark: INVALID_ARGUMENT: the store holds no manifest under the prefix "\w+", but .*catalog\.json lists 2 checkpoint\(s\): is the storage configuration right\? Nothing written/,
      );
    }
    expect(readFileSync(catalog, 'utf8')).toBe(before);
  });

  it('a store in memory is refused, as verify refuses it', async () => {
    const dataDir = dataDirCopy();
    const before = readFileSync(path.join(dataDir, 'catalog.json'), 'utf8');
    const { exits, stderr } = await run(['--config', f.configs.memoryStore], { DATA_DIR: dataDir });
    expect(exits).toEqual([2]);
    expect(stderr).toBe(
      'tidemark: INVALID_ARGUMENT: the configured store is in memory (storage.backend Memory): nothing to rebuild the catalog from\n',
    );
    expect(readFileSync(path.join(dataDir, 'catalog.json'), 'utf8')).toBe(before);
  });

  it('an empty store still rebuilds a data directory with no catalog yet', async () => {
    const dataDir = dataDirCopy();
    rmSync(path.join(dataDir, 'catalog.json'));
    const config = path.join(dataDir, 'elsewhere.yaml');
    writeFileSync(config, 'storage:\n  prefix: elsewhere\n');
    const { exits, stdout } = await run(['--config', config], { DATA_DIR: dataDir });
    expect(exits).toEqual([0]);
    expect(stdout).toContain('manifests: 0 found');
  });
});
