import { cpSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { buildCliFixture, type CliFixture } from '../../support/cli/cli-surface.fixture';
import { runInProcess } from '../../support/cli/cli-harness';
import { treeChanges, treeDigest } from '../../support/cli/tree-digest';

/**
 * recover reads a node's WAL without repairing it (found by the CLI surface test: a dry run on a data
 * directory whose WAL a crash left torn cut the tail off the node's segment — opening the WAL repairs it,
 * as the node does when it starts). When opening would write, the local WAL is not read, with a warning.
 */

let f: CliFixture;
let copies = 0;

beforeAll(async () => {
  f = await buildCliFixture();
}, 120_000);

afterAll(() => {
  if (f) rmSync(f.root, { recursive: true, force: true });
});

const recover = (dataDir: string, ...args: string[]) =>
  runInProcess(['recover', ...args], {
    env: { LOG_LEVEL: 'silent', TIDEMARK_WAL_PREALLOCATE: 'false', DATA_DIR: dataDir },
    cwd: f.root,
    hangAfterMs: 30_000,
  });

function copyOf(dataDir: string): string {
  const copy = path.join(f.root, `copy-${++copies}`);
  cpSync(dataDir, copy, { recursive: true });
  return copy;
}

describe('recover leaves the local WAL as it found it', () => {
  it.each([
    ['a torn tail', () => copyOf(f.tornDataDir), /a torn tail at offset \d+ \(open cuts it\)/],
    [
      'temporary files a crash left',
      () => {
        const dir = copyOf(f.dataDir);
        writeFileSync(path.join(dir, 'wal', '00000000000000000099.wal.tmp'), 'half a segment');
        return dir;
      },
      /temporary files a crash left/,
    ],
    [
      'no segment at all',
      () => {
        const dir = copyOf(f.dataDir);
        for (const name of readdirSync(path.join(dir, 'wal'))) rmSync(path.join(dir, 'wal', name));
        return dir;
      },
      /it holds no segment \(open starts one\)/,
    ],
  ])('%s: not read, with a warning; nothing written', async (_, make, why) => {
    const dataDir = make();
    const before = treeDigest(dataDir);
    const { exits, stderr } = await recover(dataDir, '--to', `checkpoint:${f.checkpoints[1]}`, '--dry-run');
    expect(exits).toEqual([0]);
    expect(stderr).toMatch(
      /^tidemark: warning: opening the WAL would change it: .*; the local WAL is not read/,
    );
    expect(stderr).toMatch(why);
    expect(treeChanges(before, treeDigest(dataDir))).toEqual([]);
  });

  it('a WAL a node closed cleanly is read, and left as it was', async () => {
    const dataDir = copyOf(f.dataDir);
    const before = treeDigest(dataDir);
    const { exits, stdout, stderr } = await recover(dataDir, '--to', `lsn:${f.lastLsn}`, '--dry-run');
    expect({ exits, stderr }).toEqual({ exits: [0], stderr: '' });
    expect(stdout).toMatch(/WAL replay: LSN \d+ to \d+: 1 local segment/);
    expect(treeChanges(before, treeDigest(dataDir))).toEqual([]);
  });
});
