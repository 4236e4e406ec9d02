import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { CheckpointCatalog } from '../../../src/checkpoint/catalog/catalog';
import { CATALOG_FILE_NAME, CatalogFile } from '../../../src/checkpoint/catalog/catalog-file';
import { rebuildCatalog } from '../../../src/checkpoint/catalog/catalog-rebuild';
import { runCatalogRebuild } from '../../../src/cli/catalog-rebuild-run';
import type { Manifest } from '../../../src/checkpoint/manifest/manifest';
import { encodeManifest } from '../../../src/checkpoint/manifest/manifest-codec';
import { TidemarkError, type ErrorCode } from '../../../src/lib/errors';
import { LocalFileStore, manifestKey, MemoryStore, type ObjectStore } from '../../../src/storage';
import { SegmentedWal } from '../../../src/wal';
import { block, fullManifest, hashOf, incrementalManifest } from '../../support/checkpoint/manifest-fixtures';

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'tidemark-catalog-'));
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const open = () => CheckpointCatalog.open(CatalogFile.inDataDir(dir));

async function rejection(promise: Promise<unknown>): Promise<TidemarkError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof TidemarkError) return error;
    throw error;
  }
  throw new Error('expected a rejection');
}

function expectCode(error: TidemarkError, code: ErrorCode): void {
  expect({ code: error.code, message: error.message }).toEqual({ code, message: expect.any(String) });
}

/** Allocates an id from the catalog and commits the manifest `make` builds for it. */
async function commitNew(catalog: CheckpointCatalog, make: (id: number) => Manifest): Promise<Manifest> {
  const manifest = make(await catalog.nextCheckpointId());
  await catalog.commit(manifest);
  return manifest;
}

/** full 1 ← 2 ← 3, full 4 ← 5: two chains. */
async function twoChains(catalog: CheckpointCatalog): Promise<Manifest[]> {
  const m1 = await commitNew(catalog, (id) => fullManifest(id, { blocks: { w: [block('a'), block('b')] } }));
  const m2 = await commitNew(catalog, (id) => incrementalManifest(id, m1, { blocks: { w: [block('c')] } }));
  const m3 = await commitNew(catalog, (id) => incrementalManifest(id, m2, { blocks: { w: [block('d')] } }));
  const m4 = await commitNew(catalog, (id) =>
    fullManifest(id, { lsn: m3.lsn, blocks: { w: [block('a'), block('b'), block('e')] } }),
  );
  const m5 = await commitNew(catalog, (id) => incrementalManifest(id, m4, { blocks: { w: [block('f')] } }));
  return [m1, m2, m3, m4, m5];
}

describe('CheckpointCatalog: ids', () => {
  it('hands out rising ids that survive a restart', async () => {
    const catalog = await open();
    expect([await catalog.nextCheckpointId(), await catalog.nextCheckpointId()]).toEqual([1, 2]);
    await catalog.commit(fullManifest(2));
    const reopened = await open();
    expect(await reopened.nextCheckpointId()).toBe(3);
    expect(reopened.get(2)?.status).toBe('committed');
  });

  it('never reuses an id allocated before a crash that came before its commit', async () => {
    const first = await open();
    const allocated = await first.nextCheckpointId();
    // The process dies here: no commit; the next process reopens the file.
    const second = await open();
    const next = await second.nextCheckpointId();
    expect(next).toBeGreaterThan(allocated);
    expect(second.get(allocated)).toBeUndefined();
  });

  it('persists the id before handing it out: concurrent allocations are distinct and all durable', async () => {
    const catalog = await open();
    const ids = await Promise.all(Array.from({ length: 20 }, () => catalog.nextCheckpointId()));
    expect(new Set(ids).size).toBe(20);
    expect((await open()).highestAllocatedId).toBe(Math.max(...ids));
  });

  it('refuses to commit an id twice, committed or deleted', async () => {
    const catalog = await open();
    const m1 = await commitNew(catalog, (id) => fullManifest(id));
    expectCode(await rejection(catalog.commit(m1)), 'PRECONDITION_FAILED');
    await catalog.remove(m1.checkpointId);
    expectCode(await rejection(catalog.commit(m1)), 'PRECONDITION_FAILED');
  });

  it('raises the id counter past a committed id it did not hand out', async () => {
    const catalog = await open();
    await catalog.commit(fullManifest(7));
    expect(await catalog.nextCheckpointId()).toBe(8);
  });
});

describe('CheckpointCatalog: fencing', () => {
  it('advances a persisted token on each start', async () => {
    expect(await (await open()).advanceToken()).toBe(1);
    expect(await (await open()).advanceToken()).toBe(2);
    expect((await open()).highestToken).toBe(2);
  });

  it('refuses a commit under a token below the highest seen with FENCED, and changes nothing', async () => {
    const catalog = await open();
    const stale = await catalog.advanceToken();
    const fresh = await catalog.advanceToken();
    const id = await catalog.nextCheckpointId();
    const error = await rejection(catalog.commit(fullManifest(id, { fencingToken: stale })));
    expectCode(error, 'FENCED');
    expect(error.details).toEqual({ token: stale, highestToken: fresh });
    expect(catalog.get(id)).toBeUndefined();
    expect(() => catalog.checkToken(stale)).toThrow(/stale/);
    await catalog.commit(fullManifest(id, { fencingToken: fresh }));
  });

  it('learns a higher token from a commit', async () => {
    const catalog = await open();
    await catalog.commit(fullManifest(1, { fencingToken: 9 }));
    expect(catalog.highestToken).toBe(9);
    expectCode(await rejection(catalog.commit(fullManifest(2, { fencingToken: 8 }))), 'FENCED');
    expect((await open()).highestToken).toBe(9);
  });
});

describe('CheckpointCatalog: commits and chains', () => {
  it('summarises a checkpoint, with its dedup and compression figures', async () => {
    const catalog = await open();
    const manifest = fullManifest(1, {
      blocks: { b: [block('x', 100)], a: [block('y', 300)] },
      newBytes: 100,
    });
    const summary = await catalog.commit(manifest);
    expect(summary).toMatchObject({
      id: 1,
      kind: 'full',
      parentId: null,
      baseId: 1,
      depth: 0,
      components: ['a', 'b'],
      logicalBytes: 1200,
      storedBytes: 400,
      newBytes: 100,
      dedupRatio: 0.75,
      compressionRatio: 3,
      blockCount: 2,
      fencingToken: 1,
      status: 'committed',
    });
    expect(catalog.get(1)).toEqual(summary);
  });

  it('refuses an incremental whose parent is missing or does not match it', async () => {
    const catalog = await open();
    const m1 = fullManifest(1);
    await catalog.commit(m1);
    const orphan = incrementalManifest(3, fullManifest(2));
    expectCode(await rejection(catalog.commit(orphan)), 'CHECKPOINT_NOT_FOUND');
    const wrongLsn = { ...incrementalManifest(3, m1), fromLsn: m1.lsn - 1 };
    expectCode(await rejection(catalog.commit(wrongLsn)), 'INVALID_STATE_DATA');
    expect(catalog.list()).toHaveLength(1);
  });

  it('refuses a manifest the codec would refuse', async () => {
    const catalog = await open();
    expectCode(await rejection(catalog.commit({ ...fullManifest(1), depth: 2 })), 'INVALID_STATE_DATA');
  });

  it('answers chain, latest, latestFull, dependents and chains', async () => {
    const catalog = await open();
    await twoChains(catalog);
    expect(catalog.chain(3).map((s) => s.id)).toEqual([1, 2, 3]);
    expect(catalog.chain(4).map((s) => s.id)).toEqual([4]);
    expect(catalog.dependents(1)).toEqual([2, 3]);
    expect(catalog.dependents(2)).toEqual([3]);
    expect(catalog.dependents(3)).toEqual([]);
    expect(catalog.latest()?.id).toBe(5);
    expect(catalog.latestFull()?.id).toBe(4);
    expect(catalog.chains()).toEqual([
      { baseId: 1, ids: [1, 2, 3], length: 2 },
      { baseId: 4, ids: [4, 5], length: 1 },
    ]);
    expect(catalog.list().map((s) => s.id)).toEqual([1, 2, 3, 4, 5]);
    expectCode(
      catchSync(() => catalog.chain(99)),
      'CHECKPOINT_NOT_FOUND',
    );
  });

  it('prefers, at equal LSN, the shallower checkpoint as latest', async () => {
    const catalog = await open();
    const [, , m3] = await twoChains(catalog);
    // Checkpoint 4 (full) has the LSN of 3; 5 builds on 4. Without 5, 4 beats 3.
    await catalog.remove(5);
    expect(catalog.latest()?.id).toBe(4);
    expect(catalog.latest()?.lsn).toBe(m3.lsn);
  });
});

function catchSync(fn: () => unknown): TidemarkError {
  try {
    fn();
  } catch (error) {
    if (error instanceof TidemarkError) return error;
    throw error;
  }
  throw new Error('expected a throw');
}

describe('CheckpointCatalog: remove', () => {
  it('refuses to remove a checkpoint others depend on, unless forced', async () => {
    const catalog = await open();
    await twoChains(catalog);
    const error = await rejection(catalog.remove(1));
    expectCode(error, 'DEPENDENT_CHECKPOINTS');
    expect(error.details).toEqual({ checkpointId: 1, dependents: [2, 3] });
    expect(error.message).toContain('2, 3');
    expect(catalog.get(1)?.status).toBe('committed');

    const forced = await catalog.remove(2, { force: true });
    expect(forced.brokenDependents).toEqual([3]);
    expect(forced.unreferencedBlocks).toEqual([hashOf('c')]);
    expectCode(
      catchSync(() => catalog.chain(3)),
      'CHECKPOINT_NOT_FOUND',
    );
    // 3 is still committed (its manifest and blocks are there) but can no longer be restored.
    expect(catalog.get(3)?.status).toBe('committed');
    expect([1, 2, 3].map((id) => catalog.isRestorable(id))).toEqual([true, false, false]);
    expect(catalog.latestRestorable()?.id).not.toBe(3);
  });

  it('removes leaves first, then the base; deleted checkpoints stay listed as deleted', async () => {
    const catalog = await open();
    await twoChains(catalog);
    await catalog.remove(3);
    await catalog.remove(2);
    const result = await catalog.remove(1);
    expect(result.brokenDependents).toEqual([]);
    // a and b are still named by checkpoint 4.
    expect(result.unreferencedBlocks).toEqual([]);
    expect(catalog.blockRefs(hashOf('a'))).toEqual([4]);
    expect(catalog.list().map((s) => s.id)).toEqual([4, 5]);
    expect(catalog.list({ includeDeleted: true }).map((s) => [s.id, s.status])).toEqual([
      [1, 'deleted'],
      [2, 'deleted'],
      [3, 'deleted'],
      [4, 'committed'],
      [5, 'committed'],
    ]);
    expectCode(await rejection(catalog.remove(1)), 'CHECKPOINT_NOT_FOUND');
    expect((await open()).toData()).toEqual(catalog.toData());
  });
});

describe('CheckpointCatalog: blocks', () => {
  it('knows the blocks committed manifests name, and which checkpoints name them', async () => {
    const catalog = await open();
    await twoChains(catalog);
    expect(catalog.hasBlock(hashOf('a'))).toBe(true);
    expect(catalog.hasBlock(hashOf('zzz'))).toBe(false);
    expect(catalog.blockRefs(hashOf('a'))).toEqual([1, 4]);
    expect(catalog.blockRefs(hashOf('f'))).toEqual([5]);
    expect(catalog.blockCount).toBe(6);
    expect(catalog.unreferencedBlocks()).toEqual([]);
  });

  it('records written blocks before their manifest commits, and forgets unreferenced ones for GC', async () => {
    const catalog = await open();
    catalog.addBlock(hashOf('pending'), 10);
    catalog.addBlock(hashOf('named'), 20);
    expect(catalog.hasBlock(hashOf('pending'))).toBe(true);
    expect(catalog.blockRefs(hashOf('pending'))).toEqual([]);
    await catalog.commit(fullManifest(1, { blocks: { w: [block('named', 20)] } }));
    expect(catalog.unreferencedBlocks()).toEqual([hashOf('pending')]);
    // Pending blocks are saved with the next mutation.
    expect((await open()).hasBlock(hashOf('pending'))).toBe(true);

    expect(await catalog.forgetBlocks([hashOf('pending'), hashOf('named')])).toEqual([hashOf('pending')]);
    expect(catalog.hasBlock(hashOf('pending'))).toBe(false);
    expect(catalog.hasBlock(hashOf('named'))).toBe(true);
    expect((await open()).hasBlock(hashOf('pending'))).toBe(false);
  });

  it('refuses a block hash that is not 64 lowercase hex digits (it would make the file unloadable)', async () => {
    const catalog = await open();
    expectCode(
      catchSync(() => catalog.addBlock('ABC', 1)),
      'INVALID_ARGUMENT',
    );
    expectCode(
      catchSync(() => catalog.addBlock(hashOf('x'), -1)),
      'INVALID_ARGUMENT',
    );
    expect(catalog.blockCount).toBe(0);
  });
});

describe('catalog file', () => {
  it('a missing file is an empty catalog', async () => {
    const catalog = await open();
    expect(catalog.list()).toEqual([]);
    expect(catalog.highestAllocatedId).toBe(0);
    expect(catalog.highestToken).toBe(0);
  });

  it('a corrupt file is a clear error that points at catalog rebuild', async () => {
    writeFileSync(path.join(dir, CATALOG_FILE_NAME), '{"formatVersion": 1, "highestAllocatedId": ');
    const error = await rejection(open());
    expectCode(error, 'DESERIALIZATION_ERROR');
    expect(error.message).toContain('tidemark catalog rebuild');

    writeFileSync(path.join(dir, CATALOG_FILE_NAME), JSON.stringify({ formatVersion: 1, highestToken: 'x' }));
    expect((await rejection(open())).message).toMatch(/corrupt.*tidemark catalog rebuild/);
  });

  it('refuses an unknown format version', async () => {
    writeFileSync(path.join(dir, CATALOG_FILE_NAME), JSON.stringify({ formatVersion: 2 }));
    const error = await rejection(open());
    expectCode(error, 'UNSUPPORTED_VERSION');
    expect(error.message).toContain('format version 2; this build reads 1');
  });

  it('refuses a file whose block references name no committed checkpoint', async () => {
    const catalog = await open();
    await catalog.commit(fullManifest(1));
    const data = catalog.toData();
    data.checkpoints = [];
    writeFileSync(path.join(dir, CATALOG_FILE_NAME), JSON.stringify(data));
    expect((await rejection(open())).message).toMatch(/referenced by checkpoint 1.*tidemark catalog rebuild/);
  });

  it('leaves the old file intact when a write fails, and undoes the commit in memory', async () => {
    const catalog = await open();
    await catalog.commit(fullManifest(1));
    const before = readFileSync(path.join(dir, CATALOG_FILE_NAME));
    // A directory where the temporary file goes: opening it for writing fails (EISDIR), even as root.
    const temp = path.join(dir, `.${CATALOG_FILE_NAME}.tmp`);
    mkdirSync(temp);
    const error = await rejection(catalog.commit(fullManifest(2)));
    expectCode(error, 'IO_ERROR');
    expect(readFileSync(path.join(dir, CATALOG_FILE_NAME)).equals(before)).toBe(true);
    expect(catalog.get(2)).toBeUndefined();
    expect(catalog.hasBlock(hashOf('full-2-a'))).toBe(false);
    expectCode(await rejection(catalog.nextCheckpointId()), 'IO_ERROR');

    rmSync(temp, { recursive: true });
    await catalog.commit(fullManifest(2));
    // The failed allocation's id (3) is never handed out.
    expect(await catalog.nextCheckpointId()).toBe(4);
    expect((await open()).list().map((s) => s.id)).toEqual([1, 2]);
  });
});

async function storeManifests(store: ObjectStore, manifests: Manifest[]): Promise<void> {
  for (const m of manifests) {
    await store.put(manifestKey('tm', m.checkpointId), encodeManifest(m), { ifNoneMatch: '*' });
  }
}

describe('rebuildCatalog', () => {
  it.each<[string, () => ObjectStore]>([
    ['memory store', () => new MemoryStore()],
    ['local directory store', () => new LocalFileStore({ basePath: path.join(dir, 'store') })],
  ])('rebuilds from a %s the catalog the commits built', async (_name, makeStore) => {
    const store = makeStore();
    const catalog = await open();
    await catalog.advanceToken();
    const manifests = await twoChains(catalog);
    await storeManifests(store, manifests);
    const result = await rebuildCatalog(store, 'tm');
    expect(result.problems).toEqual([]);
    expect(result.manifests).toBe(5);
    expect(result.catalog.toData()).toEqual(catalog.toData());
    expect(await result.catalog.nextCheckpointId()).toBe(6);
  });

  it('reports a bad manifest, a fenced leftover and a broken chain; keeps the rest', async () => {
    const store = new MemoryStore();
    const m1 = fullManifest(1, { fencingToken: 2 });
    const m2 = incrementalManifest(2, m1);
    const m3 = incrementalManifest(3, m2);
    const fenced = fullManifest(4, { fencingToken: 1 });
    const m5 = fullManifest(5, { fencingToken: 3 });
    await storeManifests(store, [m1, m3, fenced, m5]);
    await store.put(manifestKey('tm', 2), Buffer.from('{"formatVersion": 1, "checkpointId": 2'));
    await store.put(manifestKey('tm', 6), Buffer.from(JSON.stringify({ ...m5, formatVersion: 9 })));
    await store.put('tm/checkpoints/7/manifest.json', Buffer.from('{}'));
    await store.put('tm/checkpoints/00000000000000000005/notes.txt', Buffer.from('ignored'));

    const { catalog, problems, manifests, committed } = await rebuildCatalog(store, 'tm');
    expect(manifests).toBe(6);
    expect(committed).toBe(3);
    expect(problems.map((p) => [p.checkpointId, p.code, p.included])).toEqual([
      [undefined, 'INVALID_ARGUMENT', false],
      [2, 'DESERIALIZATION_ERROR', false],
      [6, 'UNSUPPORTED_VERSION', false],
      [3, 'CHAIN', true],
      [4, 'FENCED', false],
    ]);
    expect(problems[3].message).toContain('parent 2 of checkpoint 3 is not committed');
    expect(catalog.list().map((s) => s.id)).toEqual([1, 3, 5]);
    expect(catalog.highestToken).toBe(3);
    // Checkpoint 6's manifest was left out, but its id is never handed out again.
    expect(catalog.highestAllocatedId).toBe(6);
    expectCode(
      catchSync(() => catalog.chain(3)),
      'CHECKPOINT_NOT_FOUND',
    );
  });

  it('an empty store gives an empty catalog', async () => {
    const result = await rebuildCatalog(new MemoryStore(), 'tm');
    expect(result).toMatchObject({ manifests: 0, committed: 0, problems: [] });
    expect(result.catalog.list()).toEqual([]);
  });
});

describe('catalog rebuild (the CLI command)', () => {
  async function setUp(manifests: Manifest[], extra: Record<string, Buffer> = {}): Promise<string> {
    const store = new LocalFileStore({ basePath: path.join(dir, 'store') });
    await storeManifests(store, manifests);
    for (const [key, body] of Object.entries(extra)) await store.put(key, body);
    const config = path.join(dir, 'tidemark.yaml');
    writeFileSync(config, `dataDir: ${JSON.stringify(dir)}\nstorage:\n  backend: LocalFile\n  prefix: tm\n`);
    return config;
  }

  it('writes catalog.json from the store, keeping the old file’s higher counters', async () => {
    const old = await open();
    await old.advanceToken();
    await old.advanceToken();
    for (let i = 0; i < 9; i++) await old.nextCheckpointId();
    const m1 = fullManifest(1, { fencingToken: 2 });
    const configFile = await setUp([m1, incrementalManifest(2, m1)]);
    const lines: string[] = [];
    expect(await runCatalogRebuild({ configFile, write: (line) => lines.push(line) })).toBe(true);
    const rebuilt = await open();
    expect(rebuilt.list().map((s) => s.id)).toEqual([1, 2]);
    expect(rebuilt.highestAllocatedId).toBe(9);
    expect(rebuilt.highestToken).toBe(2);
    expect(lines.join('\n')).toContain('manifests: 2 found, 2 in the catalog, 0 problem(s)');
  });

  it('reports problems and returns false; --dry-run writes nothing', async () => {
    const configFile = await setUp([fullManifest(1)], { [manifestKey('tm', 2)]: Buffer.from('not json') });
    const lines: string[] = [];
    expect(await runCatalogRebuild({ configFile, dryRun: true, write: (line) => lines.push(line) })).toBe(
      false,
    );
    expect(lines.some((line) => line.startsWith('problem:') && line.includes('DESERIALIZATION_ERROR'))).toBe(
      true,
    );
    expect((await open()).list()).toEqual([]);
    expect(await runCatalogRebuild({ configFile, write: () => undefined })).toBe(false);
    expect((await open()).list().map((s) => s.id)).toEqual([1]);
  });

  it('refuses to write while a node holds the data directory; --dry-run still reports', async () => {
    const configFile = await setUp([fullManifest(1)]);
    writeFileSync(path.join(dir, CATALOG_FILE_NAME), 'the running node owns this file');
    const wal = await SegmentedWal.open(path.join(dir, 'wal'), { preallocate: false });
    try {
      const error = await rejection(runCatalogRebuild({ configFile, write: () => undefined }));
      expectCode(error, 'LOCKED');
      expect(error.message).toMatch(/a node is running on this data directory.*stop it/);
      expect(readFileSync(path.join(dir, CATALOG_FILE_NAME), 'utf8')).toBe('the running node owns this file');
      const lines: string[] = [];
      expect(await runCatalogRebuild({ configFile, dryRun: true, write: (l) => lines.push(l) })).toBe(true);
      expect(lines[0]).toMatch(/^would write/);
    } finally {
      await wal.close();
    }
    // Once the node is gone the rebuild runs (and leaves the WAL directory unlocked again).
    expect(await runCatalogRebuild({ configFile, write: () => undefined })).toBe(true);
    await (await SegmentedWal.open(path.join(dir, 'wal'), { preallocate: false })).close();
  });

  it('keeps the previous catalog’s deletions: a manifest left in the store is not resurrected', async () => {
    const old = await open();
    const [m1, m2, m3] = await twoChains(old);
    await old.remove(3); // its manifest delete "failed": still in the store below
    const configFile = await setUp([m1!, m2!, m3!]);
    const lines: string[] = [];
    expect(await runCatalogRebuild({ configFile, write: (line) => lines.push(line) })).toBe(true);
    const rebuilt = await open();
    expect(rebuilt.list().map((s) => s.id)).toEqual([1, 2]);
    expect(rebuilt.get(3)?.status).toBe('deleted');
    expect(rebuilt.highestAllocatedId).toBe(5);
    expect(lines.join('\n')).toMatch(/kept deleted: .*checkpoint 3 was deleted/);
    // A second rebuild still knows.
    expect(await runCatalogRebuild({ configFile, write: () => undefined })).toBe(true);
    expect((await open()).get(3)?.status).toBe('deleted');
  });

  it('replaces a corrupt catalog file', async () => {
    writeFileSync(path.join(dir, CATALOG_FILE_NAME), 'garbage');
    const configFile = await setUp([fullManifest(1)]);
    const lines: string[] = [];
    expect(await runCatalogRebuild({ configFile, write: (line) => lines.push(line) })).toBe(true);
    expect(lines.join('\n')).toContain('previous catalog file: unreadable');
    expect((await open()).list().map((s) => s.id)).toEqual([1]);
  });
});
