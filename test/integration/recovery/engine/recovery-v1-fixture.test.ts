import { cpSync, readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import type { RecoveryTarget } from '../../../../src/recovery';
import { LocalFileStore } from '../../../../src/storage';
import {
  Engines,
  NODE_ID,
  PREFIX,
  replayState,
  simpleEntries,
  stateOf,
} from '../../../support/recovery/recovery-fixtures';
import { removeDir, tempDir } from '../../../support/wal/wal-fixtures';

/**
 * Checkpoints written before block format 2 stay restorable: test/fixtures/v1-checkpoints holds a store
 * written by the code of f5d0ffa (block format 1) — a full checkpoint at LSN 100, an incremental at 180
 * (puts, deletes, a clear) and the WAL to 240, from `simpleEntries(1, 240)` — and today's engine recovers
 * every target from it to exactly the replay of the log.
 */
const FIXTURE = path.join(__dirname, '..', '..', '..', 'fixtures', 'v1-checkpoints');

describe('recovery from block format 1 (a store written by an earlier version)', () => {
  const engines = new Engines();
  let root: string;

  beforeEach(() => {
    root = tempDir('tidemark-v1-fixture-');
    cpSync(path.join(FIXTURE, 'store'), root, { recursive: true });
  });

  afterEach(async () => {
    await engines.closeAll();
    removeDir(root);
  });

  it('the fixture holds format-1 blocks only', () => {
    const blocks = path.join(root, PREFIX, 'blocks');
    const versions = readdirSync(blocks).flatMap((dir) =>
      readdirSync(path.join(blocks, dir)).map((file) => readFileSync(path.join(blocks, dir, file))[4]),
    );
    expect(versions.length).toBeGreaterThan(0);
    expect(new Set(versions)).toEqual(new Set([1]));
  });

  it.each([1, 2])('recovers every target to the replay of the log (%i threads)', async (threads) => {
    const store = new LocalFileStore({ basePath: root, syncWrites: false });
    await store.init();
    const entries = simpleEntries(1, 240);
    const engine = engines.make({ store, prefix: PREFIX, nodeId: NODE_ID }, { maxParallelThreads: threads });
    const targets: [RecoveryTarget, number][] = [
      [{ checkpointId: 1 }, 100],
      [{ checkpointId: 2 }, 180],
      [{ lsn: 50 }, 50],
      [{ lsn: 130 }, 130],
      [{ lsn: 240 }, 240],
    ];
    for (const [target, prefix] of targets) {
      const result = await engine.recoverTo(target);
      expect({ target, lsn: result.lsn }).toEqual({ target, lsn: prefix });
      expect(stateOf(result.state)).toEqual(replayState(entries.slice(0, prefix)));
    }
    const plan = await engine.findRecoveryPath({ lsn: 240 });
    expect(plan.checkpoints.map((c) => c.id)).toEqual([1, 2]);
  });
});
