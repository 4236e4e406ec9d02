import * as path from 'node:path';
import { rebuildCatalog } from '../../../../src/checkpoint/catalog/catalog-rebuild';
import { readStateDirectory, writeStateToDirectory } from '../../../../src/recovery/output/directory-writer';
import { verifyStore } from '../../../../src/recovery/verification/verify-store';
import { LocalFileStore } from '../../../../src/storage';
import { put, type LogEntry } from '../../../../src/wal';
import { removeDir, tempDir } from '../../../support/wal/wal-fixtures';
import type { TestNode } from '../../../support/tiering/tiering-node-fixture';
import {
  Engines,
  NODE_ID,
  PREFIX,
  nodeBackend,
  openRecoveryNode,
  replayState,
  stateOf,
} from '../../../support/recovery/recovery-fixtures';

/**
 * Component ids are user input and valid ids include the names of Object.prototype's members. Every
 * lookup keyed by them (manifests, catalog, recovery, outputs) must treat them as plain names.
 */
const ODD_IDS = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', '__defineGetter__'];

function entries(from: number, count: number): LogEntry[] {
  const out: LogEntry[] = [];
  for (let s = from; s < from + count; s++) {
    const id = ODD_IDS[s % ODD_IDS.length]!;
    out.push({
      componentId: id,
      sequence: s,
      timestamp: 1_700_000_000_000_000 + s,
      changes: [put(`k${s % 5}`, `${id}-${s}`)],
    });
  }
  return out;
}

describe('component ids named like Object.prototype members', () => {
  const engines = new Engines();
  let root: string;
  let node: TestNode | undefined;

  beforeEach(() => {
    root = tempDir('tidemark-odd-ids-');
  });

  afterEach(async () => {
    await node?.close();
    node = undefined;
    await engines.closeAll();
    removeDir(root);
  });

  it('are checkpointed, listed, verified, recovered and written out like any other', async () => {
    const store = new LocalFileStore({ basePath: path.join(root, 'store') });
    node = await openRecoveryNode(path.join(root, 'node'), store);
    const log = entries(1, 60);
    await node.wal.appendBatch(log.slice(0, 30));
    const full = await node.system.checkpoint({ kind: 'full' });
    await node.wal.appendBatch(log.slice(30));
    const incremental = await node.system.checkpoint({ kind: 'incremental' });
    expect(full.components).toEqual([...ODD_IDS].sort());
    expect(incremental.components).toEqual([...ODD_IDS].sort());

    const expected = replayState(log);
    expect(Object.keys(expected).sort()).toEqual([...ODD_IDS].sort());
    expect(stateOf(await node.system.loadCheckpoint(incremental.id))).toEqual(expected);

    const engine = engines.make(nodeBackend(node, store), { maxParallelThreads: 1 });
    const recovered = await engine.recoverTo({ checkpointId: incremental.id });
    expect(stateOf(recovered.state)).toEqual(expected);
    const one = await engine.recoverTo({ lsn: 60 }, ['constructor']);
    expect(stateOf(one.state)).toEqual(replayState(log, ['constructor']));

    const out = path.join(root, 'out');
    const written = await writeStateToDirectory(recovered, out);
    expect(Object.keys(written.files).sort()).toEqual([...ODD_IDS].sort());
    const read = await readStateDirectory(out);
    expect([...read.components.keys()].sort()).toEqual([...ODD_IDS].sort());
    expect(stateOf({ lsn: recovered.lsn, components: read.components })).toEqual(expected);

    const report = await verifyStore({ store, prefix: PREFIX, nodeId: NODE_ID }, { level: 'full' });
    expect(report.totals.faults).toBe(0);
    const rebuilt = await rebuildCatalog(store, PREFIX);
    expect(rebuilt.catalog.list().map((c) => c.id)).toEqual([full.id, incremental.id]);

    // A restart loads the state from the newest checkpoint: every odd id comes back.
    await node.close();
    node = await openRecoveryNode(path.join(root, 'node'), store);
    expect(stateOf(await node.system.currentState())).toEqual(expected);
  });
});
