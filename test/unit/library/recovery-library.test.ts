/**
 * A stream processor embedding Tidemark recovers, verifies and exports its state through the package's
 * face alone: everything here comes from src/index.ts (what `import 'tidemark'` loads), nothing from
 * deeper paths.
 */
import { mkdtempSync, promises as fs, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import {
  CatalogFile,
  CheckpointCatalog,
  CheckpointMerger,
  IncrementalCheckpointSystem,
  LocalFileStore,
  RecoveryEngine,
  SegmentedWal,
  clear,
  del,
  formatVerificationReport,
  put,
  readStateDirectory,
  readStateFile,
  stateFileName,
  verifyStore,
  writeStateToDirectory,
  type LogEntry,
  type RecoveryProgress,
  type RecoveryResult,
  type Snapshot,
  type StateRecord,
} from '../../../src/index';

const PREFIX = 'tidemark';
const NODE_ID = 'node-1';

/** Deterministic entries over three components: mostly puts, a delete every 5th, a clear every 37th. */
function entries(from: number, count: number): LogEntry[] {
  return Array.from({ length: count }, (_, i) => {
    const n = from + i;
    const change =
      n % 37 === 0 ? clear() : n % 5 === 0 ? del(`key-${n % 11}`) : put(`key-${n % 11}`, `v${n}`);
    return {
      componentId: `window_${n % 3}`,
      sequence: n,
      timestamp: 1_700_000_000_000_000 + n,
      changes: [change],
    };
  });
}

/** The reference: the log replayed into maps; component → sorted `key=value`. */
function replay(log: readonly LogEntry[]): Record<string, string[]> {
  const state = new Map<string, Map<string, string>>();
  for (const entry of log) {
    const component = state.get(entry.componentId) ?? new Map<string, string>();
    state.set(entry.componentId, component);
    for (const change of entry.changes) {
      if (change.op === 'clear') component.clear();
      else if (change.op === 'delete') component.delete(String(change.key));
      else component.set(String(change.key), String(change.value));
    }
  }
  return plain(
    new Map(
      [...state].map(([id, records]) => [
        id,
        [...records].map(([key, value]) => ({ key: Buffer.from(key), value: Buffer.from(value) })),
      ]),
    ),
  );
}

function plain(state: Map<string, readonly { key: Buffer; value: Buffer }[]>): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [id, records] of [...state].sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (records.length === 0) continue;
    out[id] = records.map((r) => `${r.key.toString()}=${r.value.toString()}`).sort();
  }
  return out;
}

function stateOf(snapshot: Snapshot): Record<string, string[]> {
  return plain(new Map([...snapshot.components].map(([id, component]) => [id, component.records])));
}

describe('the library face: recovery, verification and the recovered-state files', () => {
  let dir: string;
  let wal: SegmentedWal;
  let store: LocalFileStore;
  let catalog: CheckpointCatalog;
  let merger: CheckpointMerger;
  let system: IncrementalCheckpointSystem;
  const log: LogEntry[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'tidemark-library-'));
    wal = await SegmentedWal.open(path.join(dir, 'wal'), { segmentSize: 4096, preallocate: false });
    store = new LocalFileStore({ basePath: path.join(dir, 'store') });
    catalog = await CheckpointCatalog.open(CatalogFile.inDataDir(dir));
    merger = new CheckpointMerger();
    system = await IncrementalCheckpointSystem.open(
      { wal, store, catalog, merger },
      { nodeId: NODE_ID, prefix: PREFIX, checkpointInterval: 0, cleanupInterval: 0, targetBlockSize: 1024 },
    );
    const append = async (batch: LogEntry[]) => {
      await wal.appendBatch(batch);
      log.push(...batch);
    };
    await append(entries(1, 200));
    await system.checkpoint({ kind: 'full' });
    await append(entries(201, 100));
    await system.checkpoint({ kind: 'incremental' });
    await append(entries(301, 50)); // the WAL tail after the newest checkpoint
  });

  afterAll(async () => {
    await system.stop();
    await merger.close();
    await wal.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function engine(): RecoveryEngine {
    return new RecoveryEngine({ store, prefix: PREFIX, nodeId: NODE_ID, catalog, wal }, merger, {
      maxParallelThreads: 1,
      verificationLevel: 'full',
    });
  }

  it('recovers to the end of the log, to an LSN and to a checkpoint with RecoveryEngine', async () => {
    const recovery = engine();
    try {
      const progress: RecoveryProgress[] = [];
      const latest = await recovery.recoverTo({ lsn: 350 }, undefined, {
        onProgress: (p) => progress.push(p),
      });
      expect(latest.lsn).toBe(350);
      expect(stateOf(latest.state)).toEqual(replay(log));
      expect(latest.components.map((c) => c.fromCheckpoint)).toEqual([2, 2, 2]);
      expect(progress[progress.length - 1]?.phase).toBe('done');

      const midway = await recovery.recoverTo({ lsn: 250 }, ['window_1']);
      expect(stateOf(midway.state)).toEqual(
        replay(log.slice(0, 250).filter((e) => e.componentId === 'window_1')),
      );

      const plan = await recovery.findRecoveryPath({ checkpointId: 1 });
      expect(plan.checkpoints.map((c) => c.id)).toEqual([1]);
      const first = await recovery.recoverFromFull(1);
      expect(stateOf(first.state)).toEqual(replay(log.slice(0, 200)));
    } finally {
      await recovery.close();
    }
  });

  it('verifies the store with the exported verifier', async () => {
    const report = await verifyStore({ store, prefix: PREFIX, nodeId: NODE_ID }, { level: 'full' });
    expect(report.ok).toBe(true);
    expect(report.totals).toMatchObject({ checkpoints: 2, faultyCheckpoints: 0, faults: 0 });
    expect(formatVerificationReport(report)).toContain('RESULT: OK');
  });

  it('writes the state to a directory and reads it back with the exported readers', async () => {
    const recovery = engine();
    let result: RecoveryResult;
    try {
      result = await recovery.recoverTo({ lsn: 350 });
    } finally {
      await recovery.close();
    }
    const out = path.join(dir, 'recovered');
    const written = await writeStateToDirectory(result, out);
    expect(written.lsn).toBe(350);

    const back = await readStateDirectory(out);
    expect(back.manifest).toEqual(written);
    expect(plain(new Map([...back.components].map(([id, c]) => [id, c.records])))).toEqual(replay(log));

    const file = path.join(out, stateFileName('window_0'));
    const component = readStateFile(await fs.readFile(file), file);
    expect(component.componentId).toBe('window_0');
    const fields = (records: readonly StateRecord[] = []) =>
      records.map(({ key, value, lsn, timestamp }) => [
        key.toString('hex'),
        value.toString('hex'),
        lsn,
        timestamp,
      ]);
    expect(fields(component.records)).toEqual(fields(result.state.components.get('window_0')?.records));
  });
});
