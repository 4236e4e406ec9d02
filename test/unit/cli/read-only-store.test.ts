import { cpSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { buildCliFixture, type CliFixture } from '../../support/cli/cli-surface.fixture';
import { runInProcess } from '../../support/cli/cli-harness';
import { treeChanges, treeDigest } from '../../support/cli/tree-digest';

/**
 * recover and catalog rebuild only read the store: a local store directory is neither created nor emptied
 * of temporary files (a running node's puts in flight), and a rebuild does not make a data directory that
 * is not there (found by the CLI surface test: both prepared the store as a node does, and a rebuild on a
 * mistyped DATA_DIR made a new data directory with an empty catalog and exited 0).
 */

let f: CliFixture;
let copies = 0;

beforeAll(async () => {
  f = await buildCliFixture();
}, 120_000);

afterAll(() => {
  if (f) rmSync(f.root, { recursive: true, force: true });
});

const run = (args: string[], dataDir: string) =>
  runInProcess(args, {
    env: { LOG_LEVEL: 'silent', TIDEMARK_WAL_PREALLOCATE: 'false', DATA_DIR: dataDir },
    cwd: f.root,
    hangAfterMs: 30_000,
  });

/** A copy of the data directory whose store holds a temporary file of another process's put in flight. */
function dataDirWithPutInFlight(): { dataDir: string; temp: string } {
  const dataDir = path.join(f.root, `data-${++copies}`);
  cpSync(f.dataDir, dataDir, { recursive: true });
  const dir = path.join(dataDir, 'store', 'tidemark', 'checkpoints', '00000000000000000003');
  mkdirSync(dir, { recursive: true });
  const temp = path.join(dir, '.manifest.json.0123456789ab.1.tmp');
  writeFileSync(temp, 'half of a manifest');
  return { dataDir, temp };
}

describe('the store is only read', () => {
  it('recover leaves another process’s temporary files alone', async () => {
    const { dataDir, temp } = dataDirWithPutInFlight();
    const out = path.join(f.root, 'out-1');
    const run1 = await run(['recover', '--to', `checkpoint:${f.checkpoints[1]}`, '--out', out], dataDir);
    expect(run1.exits).toEqual([0]);
    expect(existsSync(temp)).toBe(true);
  });

  it('catalog rebuild --dry-run leaves them alone too (no lock: a node may be running)', async () => {
    const { dataDir, temp } = dataDirWithPutInFlight();
    expect((await run(['catalog', 'rebuild', '--dry-run'], dataDir)).exits).toEqual([0]);
    expect(existsSync(temp)).toBe(true);
  });

  it('recover does not create the store directory of a data directory without one', async () => {
    const empty = path.join(f.root, 'empty-data');
    mkdirSync(empty);
    const before = treeDigest(empty);
    const plan = await run(['recover', '--to', 'lsn:1', '--dry-run'], empty);
    expect(plan.exits).not.toEqual([0]);
    expect(treeChanges(before, treeDigest(empty))).toEqual([]);
  });
});

describe('catalog rebuild', () => {
  it('refuses a data directory that is not there, and creates nothing', async () => {
    const missing = path.join(f.root, 'no-such-data');
    const { exits, stdout, stderr } = await run(['catalog', 'rebuild'], missing);
    expect({ exits, stdout }).toEqual({ exits: [2], stdout: '' });
    expect(stderr).toBe(
      `tidemark: INVALID_ARGUMENT: the data directory ${missing} is not there (DATA_DIR or dataDir): nothing to rebuild the catalog of; create it first to rebuild one there\n`,
    );
    expect(existsSync(missing)).toBe(false);
    expect((await run(['catalog', 'rebuild'], f.file)).exits).toEqual([2]);
  });
});
