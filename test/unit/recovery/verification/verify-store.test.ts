import { mkdirSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { rebuildCatalog } from '../../../../src/checkpoint/catalog/catalog-rebuild';
import { TidemarkError } from '../../../../src/lib/errors';
import type {
  VerificationLevel,
  VerificationReport,
  VerifyProgress,
} from '../../../../src/recovery/verification/verify-report';
import { verifyStore } from '../../../../src/recovery/verification/verify-store';
import { LocalFileStore, manifestKey } from '../../../../src/storage';
import { removeDir, tempDir } from '../../../support/wal/wal-fixtures';
import {
  blockKeyOf,
  blockPath,
  buildStore,
  copyStore,
  FIRST_FRAME_PAYLOAD_BYTE,
  flipBit,
  manifestPath,
  NODE_ID,
  ownBlocks,
  packFiles,
  PREFIX,
  rewriteManifest,
  TOTAL_ENTRIES,
  type BuiltStore,
} from '../../../support/recovery/verification/verify-fixture';

let root: string;
let built: BuiltStore;
let store: BuiltStore;
let copies = 0;

beforeAll(async () => {
  root = tempDir('tidemark-verify-');
  built = await buildStore(path.join(root, 'built'));
});

afterAll(() => removeDir(root));

beforeEach(() => {
  store = copyStore(built, path.join(root, `copy-${++copies}`));
});

afterEach(() => rmSync(store.dir, { recursive: true, force: true }));

const verify = (level: VerificationLevel, extra: { catalog?: boolean } = {}) =>
  (async () => {
    const local = new LocalFileStore({ basePath: store.dir, syncWrites: false });
    const catalog = extra.catalog ? (await rebuildCatalog(local, PREFIX)).catalog : undefined;
    return verifyStore({ store: local, prefix: PREFIX, catalog }, { level });
  })();

const ids = () => [store.full, ...store.incrementals];

function faultsOf(report: VerificationReport, id: number) {
  const entry = report.checkpoints.find((c) => c.id === id);
  if (!entry) throw new Error(`checkpoint ${id} is not in the report`);
  return entry.faults;
}

function faultyIds(report: VerificationReport): number[] {
  return report.checkpoints.filter((c) => c.status === 'fault').map((c) => c.id);
}

describe('verifyStore on an intact store', () => {
  it.each(['basic', 'standard', 'full'] as const)('finds nothing wrong at %s', async (level) => {
    const progress: VerifyProgress['phase'][] = [];
    const local = new LocalFileStore({ basePath: store.dir, syncWrites: false });
    const report = await verifyStore(
      { store: local, prefix: PREFIX },
      { level, onProgress: (p) => progress.push(p.phase) },
    );
    expect(report.other).toEqual([]);
    expect(report.checkpoints.flatMap((c) => c.faults)).toEqual([]);
    expect(report.walPacks.flatMap((p) => p.faults)).toEqual([]);
    expect(report).toMatchObject({ ok: true, level, source: 'store', prefix: PREFIX });
    expect(report.checkpoints.map((c) => [c.id, c.kind, c.parentId, c.status])).toEqual([
      [store.full, 'full', null, 'ok'],
      [store.incrementals[0], 'incremental', store.full, 'ok'],
      [store.incrementals[1], 'incremental', store.incrementals[0], 'ok'],
    ]);
    const { totals } = report;
    expect(totals).toMatchObject({ checkpoints: 3, faultyCheckpoints: 0, faultyWalPacks: 0, faults: 0 });
    expect(totals.blocks).toBeGreaterThan(3);
    expect(totals.walPacks).toBeGreaterThan(1);
    expect(report.walPacks[0]!.firstLsn).toBe(1);
    expect(report.walPacks[report.walPacks.length - 1]!.lastLsn).toBe(TOTAL_ENTRIES);
    expect(totals.blocksRead > 0).toBe(level !== 'basic');
    expect(totals.walEntries).toBe(level === 'full' ? TOTAL_ENTRIES : 0);
    expect(progress).toContain('manifests');
    expect(progress).toContain('blocks');
    expect(progress.includes('digests')).toBe(level === 'full');
    expect(progress[progress.length - 1]).toBe('done');
  });

  it("verifies the catalog's checkpoints when given a catalog", async () => {
    const report = await verify('full', { catalog: true });
    expect(report).toMatchObject({ ok: true, source: 'catalog' });
    expect(report.checkpoints.map((c) => c.id)).toEqual(ids());
  });
});

describe('each level detects what it promises, and a lower one does not claim to', () => {
  it('a missing block: basic finds it (NOT_FOUND naming the block), and the chain built on it is faulty', async () => {
    const [hash] = ownBlocks(store.dir, store.full, ids());
    unlinkSync(blockPath(store.dir, hash!));
    for (const level of ['basic', 'standard'] as const) {
      const report = await verify(level);
      expect(report.ok).toBe(false);
      expect(faultsOf(report, store.full)).toEqual([
        {
          code: 'NOT_FOUND',
          message: `checkpoint ${store.full} names block ${hash}: it is not in the store`,
          key: blockKeyOf(hash!),
        },
      ]);
      expect(faultsOf(report, store.incrementals[0])).toEqual([
        expect.objectContaining({
          code: 'INVALID_STATE_DATA',
          message: expect.stringContaining(`builds on checkpoint ${store.full}, which has faults`),
        }),
      ]);
      expect(faultyIds(report)).toEqual(ids());
    }
  });

  it('a flipped bit inside a block: standard finds it (CHECKSUM_MISMATCH), basic passes', async () => {
    const [hash] = ownBlocks(store.dir, store.incrementals[0], ids());
    flipBit(blockPath(store.dir, hash!), 30);
    expect((await verify('basic')).ok).toBe(true);
    for (const level of ['standard', 'full'] as const) {
      const report = await verify(level);
      expect(faultsOf(report, store.incrementals[0])).toEqual([
        {
          code: 'CHECKSUM_MISMATCH',
          message: expect.stringMatching(new RegExp(`^checkpoint ${store.incrementals[0]}: block ${hash}`)),
          key: blockKeyOf(hash!),
        },
      ]);
      expect(faultyIds(report)).toEqual(store.incrementals);
    }
  });

  it('a manifest whose component digest disagrees: full finds it (CHECKSUM_MISMATCH), standard passes', async () => {
    const id = store.incrementals[0];
    rewriteManifest(store.dir, id, (m) => {
      m.components.c1!.digest = 'ab'.repeat(32);
    });
    expect((await verify('basic')).ok).toBe(true);
    expect((await verify('standard')).ok).toBe(true);
    const report = await verify('full');
    expect(faultsOf(report, id)).toEqual([
      {
        code: 'CHECKSUM_MISMATCH',
        message: expect.stringMatching(
          new RegExp(
            `^checkpoint ${id}: component c1: the state rebuilt from the blocks has digest [0-9a-f]{64}, the manifest says ${'ab'.repeat(32)}$`,
          ),
        ),
        key: manifestKey(PREFIX, id),
      },
    ]);
    expect(faultsOf(report, store.full)).toEqual([]);
    expect(faultyIds(report)).toEqual(store.incrementals);
  });

  it("a full checkpoint's digest that disagrees is found too", async () => {
    rewriteManifest(store.dir, store.full, (m) => {
      m.components.c2!.digest = '00'.repeat(32);
    });
    expect((await verify('standard')).ok).toBe(true);
    const report = await verify('full');
    expect(faultsOf(report, store.full).map((f) => f.code)).toEqual(['CHECKSUM_MISMATCH']);
  });

  it('a broken chain (a parent manifest deleted): basic reports CHECKPOINT_NOT_FOUND naming it', async () => {
    const [first, second] = store.incrementals;
    unlinkSync(manifestPath(store.dir, first));
    const report = await verify('basic');
    expect(report.checkpoints.map((c) => c.id)).toEqual([store.full, second]);
    expect(faultsOf(report, second)).toEqual([
      {
        code: 'CHECKPOINT_NOT_FOUND',
        message: `checkpoint ${second} builds on checkpoint ${first}, which has no manifest in the store: its chain is broken`,
        key: manifestKey(PREFIX, first),
      },
    ]);
    expect(faultsOf(report, store.full)).toEqual([]);
  });

  it('a catalog checkpoint without its manifest is CHECKPOINT_NOT_FOUND itself, and so is its chain', async () => {
    const local = new LocalFileStore({ basePath: store.dir, syncWrites: false });
    const { catalog } = await rebuildCatalog(local, PREFIX);
    unlinkSync(manifestPath(store.dir, store.incrementals[0]));
    const report = await verifyStore({ store: local, prefix: PREFIX, catalog }, { level: 'basic' });
    expect(faultsOf(report, store.incrementals[0]).map((f) => f.code)).toEqual(['CHECKPOINT_NOT_FOUND']);
    expect(faultsOf(report, store.incrementals[1]).map((f) => f.code)).toEqual(['CHECKPOINT_NOT_FOUND']);
  });

  it('a corrupted WAL frame inside a pack: full finds it (CHECKSUM_MISMATCH naming the pack), basic and standard pass', async () => {
    const packs = packFiles(store.dir);
    const target = packs[1]!;
    flipBit(target.file, FIRST_FRAME_PAYLOAD_BYTE);
    expect((await verify('basic')).ok).toBe(true);
    expect((await verify('standard')).ok).toBe(true);
    const report = await verify('full');
    expect(report.checkpoints.every((c) => c.status === 'ok')).toBe(true);
    const faulty = report.walPacks.filter((p) => p.status === 'fault');
    expect(faulty.map((p) => p.key)).toEqual([target.key]);
    expect(faulty[0]!.faults).toEqual([
      {
        code: 'CHECKSUM_MISMATCH',
        message: expect.stringContaining(`WAL pack ${target.key}`),
        key: target.key,
      },
    ]);
    expect(faulty[0]!.faults[0]!.message).toContain('frame CRC mismatch');
  });

  it('a WAL pack missing from the middle: basic reports the LSN gap on the pack after it', async () => {
    const packs = packFiles(store.dir);
    unlinkSync(packs[1]!.file);
    const report = await verify('basic');
    const after = report.walPacks.find((p) => p.key === packs[2]!.key)!;
    expect(after.faults).toEqual([
      expect.objectContaining({
        code: 'INVALID_STATE_DATA',
        message: expect.stringContaining('are in no pack'),
      }),
    ]);
    expect(report.totals.faultyWalPacks).toBe(1);
  });
});

describe('manifest checks (basic)', () => {
  it('a manifest of an unknown format version is UNSUPPORTED_VERSION', async () => {
    rewriteManifest(store.dir, store.incrementals[1], (m) => {
      (m as { formatVersion: number }).formatVersion = 9;
    });
    const report = await verify('basic');
    const [fault] = faultsOf(report, store.incrementals[1]);
    expect(fault).toMatchObject({
      code: 'UNSUPPORTED_VERSION',
      key: manifestKey(PREFIX, store.incrementals[1]),
    });
    expect(report.checkpoints.find((c) => c.id === store.incrementals[1])!.kind).toBeUndefined();
  });

  it("a block whose stored size is not the manifest's is INVALID_STATE_DATA", async () => {
    const [hash] = ownBlocks(store.dir, store.full, ids());
    rewriteManifest(store.dir, store.full, (m) => {
      for (const c of Object.values(m.components))
        for (const b of c.blocks) if (b.hash === hash) b.storedBytes += 1;
      m.stats.storedBytes += 1;
    });
    const report = await verify('basic');
    expect(faultsOf(report, store.full)).toEqual([
      expect.objectContaining({ code: 'INVALID_STATE_DATA', key: blockKeyOf(hash!) }),
    ]);
  });

  it('a chain link that does not follow on (fromLsn) is INVALID_STATE_DATA', async () => {
    rewriteManifest(store.dir, store.incrementals[1], (m) => {
      m.fromLsn -= 1;
    });
    const report = await verify('basic');
    expect(faultsOf(report, store.incrementals[1])).toEqual([
      expect.objectContaining({
        code: 'INVALID_STATE_DATA',
        message: expect.stringContaining("is not its parent's LSN"),
      }),
    ]);
  });
  it('an object named like a manifest under a non-canonical key is reported under other', async () => {
    const stray = path.join(store.dir, PREFIX, 'checkpoints', '7');
    mkdirSync(stray);
    writeFileSync(path.join(stray, 'manifest.json'), '{}');
    const report = await verify('basic');
    expect(report.ok).toBe(false);
    expect(report.other).toEqual([
      expect.objectContaining({ code: 'INVALID_ARGUMENT', key: `${PREFIX}/checkpoints/7/manifest.json` }),
    ]);
    expect(report.totals.faults).toBe(1);
  });

  it("checks only one node's WAL packs when given a node id", async () => {
    const local = new LocalFileStore({ basePath: store.dir, syncWrites: false });
    const other = await verifyStore({ store: local, prefix: PREFIX, nodeId: 'node-2' }, { level: 'basic' });
    expect(other).toMatchObject({ ok: true, nodeId: 'node-2', walPacks: [] });
    const mine = await verifyStore({ store: local, prefix: PREFIX, nodeId: NODE_ID }, { level: 'basic' });
    expect(mine.walPacks.length).toBe(packFiles(store.dir).length);
  });
});

describe('errors', () => {
  it('rejects when the store cannot be reached, rather than reporting faults', async () => {
    const local = new LocalFileStore({ basePath: store.dir, syncWrites: false });
    const down = Object.assign(Object.create(local) as LocalFileStore, {
      head: () => Promise.reject(new TidemarkError('STORAGE_UNAVAILABLE', 'the store is down')),
    });
    await expect(verifyStore({ store: down, prefix: PREFIX }, { level: 'basic' })).rejects.toMatchObject({
      code: 'STORAGE_UNAVAILABLE',
    });
  });

  it('refuses an unknown level', async () => {
    const local = new LocalFileStore({ basePath: store.dir, syncWrites: false });
    await expect(
      verifyStore({ store: local, prefix: PREFIX }, { level: 'paranoid' as VerificationLevel }),
    ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});
