import * as path from 'node:path';
import { CheckpointCatalog } from '../../../src/checkpoint/catalog/catalog';
import { IncrementalCheckpointSystem } from '../../../src/checkpoint/incremental-checkpoint-system';
import { CheckpointMerger } from '../../../src/checkpoint/merge/checkpoint-merger';
import { MemoryStore } from '../../../src/storage';
import { put, SegmentedWal } from '../../../src/wal';
import { removeDir, tempDir } from '../../support/wal/wal-fixtures';

/** The periodic checkpoint (what the timer runs) skips an idle node; an explicit request never skips. */
describe('IncrementalCheckpointSystem.periodicCheckpoint', () => {
  let dir: string;
  let wal: SegmentedWal;
  let merger: CheckpointMerger;
  let system: IncrementalCheckpointSystem;
  let sequence = 0;

  const append = (count: number) =>
    wal.appendBatch(
      Array.from({ length: count }, () => ({
        componentId: 'window_1',
        sequence: ++sequence,
        timestamp: 1_700_000_000_000_000 + sequence,
        changes: [put(`k${sequence % 7}`, `v${sequence}`)],
      })),
    );

  beforeEach(async () => {
    dir = tempDir('tidemark-periodic-');
    wal = await SegmentedWal.open(path.join(dir, 'wal'), { preallocate: false });
    merger = new CheckpointMerger();
    system = await IncrementalCheckpointSystem.open(
      { wal, store: new MemoryStore(), catalog: new CheckpointCatalog(), merger },
      { checkpointInterval: 0 },
    );
  });

  afterEach(async () => {
    await system.stop();
    await merger.close();
    await wal.close();
    removeDir(dir);
  });

  it('takes nothing on an empty log, one checkpoint per stretch with entries, none while idle', async () => {
    expect(await system.periodicCheckpoint()).toBeUndefined();
    await append(5);
    const first = await system.periodicCheckpoint();
    expect(first).toMatchObject({ kind: 'full', lsn: 5 });
    for (let i = 0; i < 3; i++) expect(await system.periodicCheckpoint()).toBeUndefined();
    await append(1);
    expect(await system.periodicCheckpoint()).toMatchObject({
      kind: 'incremental',
      lsn: 6,
      parentId: first!.id,
    });
    expect(await system.periodicCheckpoint()).toBeUndefined();
    expect(system.list().map((c) => c.lsn)).toEqual([5, 6]);
  });

  it('an explicit checkpoint is taken even when nothing changed', async () => {
    await append(3);
    await system.checkpoint();
    const again = await system.checkpoint({ kind: 'auto' });
    expect(again).toMatchObject({ kind: 'incremental', lsn: 3 });
    expect(await system.periodicCheckpoint()).toBeUndefined();
  });
});
