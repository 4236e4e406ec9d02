import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { raftBootstrap, RAFT_BOOTSTRAP_FILE } from '../../../src/node/raft-bootstrap-record';
import { silentLogger, type Logger } from '../../../src/lib/logger';

/** The membership Raft starts from is the first start's, whatever the settings say later. */
describe('the raft bootstrap record', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'tidemark-bootstrap-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const three = new Map([
    ['n1', 'h1:7400'],
    ['n2', 'h2:7400'],
    ['n3', 'h3:7400'],
  ]);

  it('records the first start, and later starts keep it (a changed list or join is warned about, not taken)', async () => {
    expect(await raftBootstrap(dir, { members: three, join: false }, silentLogger)).toEqual({
      members: three,
      join: false,
    });
    const warnings: unknown[] = [];
    const logger = {
      ...silentLogger,
      warn: (...args: unknown[]) => warnings.push(args),
    } as unknown as Logger;
    const moved = new Map([
      ['n1', 'h1:7400'],
      ['n4', 'h4:7400'],
    ]);
    expect(await raftBootstrap(dir, { members: moved, join: false }, logger)).toEqual({
      members: three,
      join: false,
    });
    expect(await raftBootstrap(dir, { members: three, join: true }, logger)).toEqual({
      members: three,
      join: false,
    });
    expect(warnings).toHaveLength(2);
  });

  it('lets an embedded node become a cluster member by its settings (its log is its own alone)', async () => {
    await raftBootstrap(dir, { members: new Map([['n1', '']]), join: false }, silentLogger);
    expect(await raftBootstrap(dir, { members: three, join: false }, silentLogger)).toEqual({
      members: three,
      join: false,
    });
    expect(JSON.parse(readFileSync(path.join(dir, RAFT_BOOTSTRAP_FILE), 'utf8')).members).toHaveLength(3);
  });

  it('refuses a damaged record, changing nothing', async () => {
    writeFileSync(path.join(dir, RAFT_BOOTSTRAP_FILE), '{"version": 1, "members": "x"}');
    await expect(raftBootstrap(dir, { members: three, join: false }, silentLogger)).rejects.toMatchObject({
      code: 'INVALID_STATE_DATA',
    });
    expect(readFileSync(path.join(dir, RAFT_BOOTSTRAP_FILE), 'utf8')).toBe('{"version": 1, "members": "x"}');
  });
});
