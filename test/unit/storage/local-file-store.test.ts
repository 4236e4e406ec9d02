import * as fs from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { getBuffer, LocalFileStore } from '../../../src/storage';
import { digestOf, generatedDigest, generatedStream } from '../../support/storage/body-streams';
import {
  expectStoreError,
  listKeys,
  runObjectStoreContract,
} from '../../support/storage/object-store.contract';

function tempDir(): string {
  return mkdtempSync(path.join(tmpdir(), 'tidemark-store-'));
}

runObjectStoreContract('local directory', async () => {
  const dir = tempDir();
  return {
    store: new LocalFileStore({ basePath: dir }),
    teardown: async () => rmSync(dir, { recursive: true, force: true }),
  };
});

/** Every file under `dir`, relative, with `/` separators. */
function filesUnder(dir: string): string[] {
  return (fs.readdirSync(dir, { recursive: true, withFileTypes: true }) as fs.Dirent[])
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)).split(path.sep).join('/'))
    .sort();
}

function directoriesUnder(dir: string): string[] {
  return (fs.readdirSync(dir, { recursive: true, withFileTypes: true }) as fs.Dirent[])
    .filter((entry) => entry.isDirectory())
    .map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)).split(path.sep).join('/'))
    .sort();
}

describe('LocalFileStore', () => {
  let dir: string;
  let store: LocalFileStore;

  beforeEach(() => {
    dir = tempDir();
    store = new LocalFileStore({ basePath: dir });
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps key a/b/c as file a/b/c under the base path, and nothing else', async () => {
    await store.put('a/b/c', Buffer.from('content'));
    await store.put('a/d', Readable.from([Buffer.from('streamed')]), { ifNoneMatch: '*' });
    expect(filesUnder(dir)).toEqual(['a/b/c', 'a/d']);
    expect(fs.readFileSync(path.join(dir, 'a/b/c'), 'utf8')).toBe('content');
  });

  it('reads a whole object in one call (getBytes, what getBuffer uses): NOT_FOUND for a missing key or a prefix', async () => {
    await store.put('a/b/c', Buffer.from('whole'));
    expect((await store.getBytes('a/b/c')).toString()).toBe('whole');
    expect((await getBuffer(store, 'a/b/c')).toString()).toBe('whole');
    expect((await getBuffer(store, 'a/b/c', { offset: 1, length: 3 })).toString()).toBe('hol');
    await expectStoreError(store.getBytes('a/b/none'), 'NOT_FOUND');
    await expectStoreError(store.getBytes('a/b'), 'NOT_FOUND');
    await expect(store.getBytes('../escape')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('works without fsync too (syncWrites: false)', async () => {
    const fast = new LocalFileStore({ basePath: dir, syncWrites: false });
    await fast.put('x/y', Buffer.from('quick'), { ifNoneMatch: '*' });
    expect((await getBuffer(fast, 'x/y')).toString()).toBe('quick');
    await fast.delete(['x/y']);
    expect(await listKeys(fast, '')).toEqual([]);
  });

  it('streams a large body to disk as it arrives, holding at most ~1 MiB of it', async () => {
    const size = 20 * 1024 * 1024;
    let worst = 0;
    const generated = generatedStream(size, 5, 64 * 1024, () => {
      // Called whenever the store pulls more: compare what was produced with what reached the temporary file.
      const temp = fs.readdirSync(path.join(dir, 'big')).find((name) => name.endsWith('.tmp'));
      const onDisk = temp === undefined ? 0 : fs.statSync(path.join(dir, 'big', temp)).size;
      worst = Math.max(worst, generated.produced() - onDisk);
    });
    await store.put('big/object', generated.stream);
    expect(worst).toBeLessThanOrEqual(1024 * 1024 + 2 * 64 * 1024);
    expect(await digestOf(await store.get('big/object'))).toEqual({ sha256: generatedDigest(size, 5), size });
  });

  it('reports a changed etag after an overwrite, the same one from put, head and list', async () => {
    const first = await store.put('e/k', Buffer.from('one'));
    const second = await store.put('e/k', Buffer.from('two'));
    expect(second.etag).not.toBe(first.etag);
    expect((await store.head('e/k'))?.etag).toBe(second.etag);
  });

  describe('temporary files', () => {
    it('are never listed, and leftovers from a crash are removed by init', async () => {
      await store.put('k/1', Buffer.from('1'));
      fs.mkdirSync(path.join(dir, 'k/deeper'), { recursive: true });
      fs.writeFileSync(path.join(dir, 'k/.2.abcdef012345.1.tmp'), 'half');
      fs.writeFileSync(path.join(dir, 'k/deeper/.3.abcdef012345.7.tmp'), 'half');
      expect(await listKeys(store, '')).toEqual(['k/1']);
      const restarted = new LocalFileStore({ basePath: dir });
      await restarted.init();
      expect(filesUnder(dir)).toEqual(['k/1']);
    });

    it('are not left behind by failed or lost puts', async () => {
      await expectStoreError(
        store.put('f/short', Buffer.from('abc'), { contentLength: 9 }),
        'INVALID_ARGUMENT',
      );
      await expectStoreError(
        store.put('f/short', Readable.from([Buffer.from('abc')]), { contentLength: 9 }),
        'INVALID_ARGUMENT',
      );
      await store.put('f/once', Buffer.from('a'), { ifNoneMatch: '*' });
      await Promise.allSettled(
        Array.from({ length: 8 }, () => store.put('f/race', Buffer.from('r'), { ifNoneMatch: '*' })),
      );
      await expect(
        store.put(
          'f/broken',
          new Readable({
            read: () => {
              throw new Error('boom');
            },
          }),
        ),
      ).rejects.toThrow('boom');
      expect(filesUnder(dir)).toEqual(['f/once', 'f/race']);
    });

    it('leave other dot-files and odd names alone, and never list them', async () => {
      fs.writeFileSync(path.join(dir, '.DS_Store'), 'x');
      fs.writeFileSync(path.join(dir, 'back\\slash'), 'x');
      await store.init();
      expect(filesUnder(dir)).toEqual(['.DS_Store', 'back\\slash']);
      expect(await listKeys(store, '')).toEqual([]); // not valid keys: not objects
    });
  });

  describe('directories', () => {
    it('are removed when deletes empty them, up to but not including the base path', async () => {
      await store.put('p/a/b/1', Buffer.from('1'));
      await store.put('p/a/2', Buffer.from('2'));
      await store.put('q/1', Buffer.from('1'));
      await store.delete(['p/a/b/1']);
      expect(directoriesUnder(dir)).toEqual(['p', 'p/a', 'q']);
      await store.delete(['p/a/2', 'q/1']);
      expect(directoriesUnder(dir)).toEqual([]);
      expect(fs.existsSync(dir)).toBe(true);
    });

    it('cannot hold a key and a key below it: refused with INVALID_ARGUMENT', async () => {
      await store.put('n/x/y', Buffer.from('below'));
      await expectStoreError(store.put('n/x', Buffer.from('above')), 'INVALID_ARGUMENT');
      await expectStoreError(
        store.put('n/x', Buffer.from('above'), { ifNoneMatch: '*' }),
        'INVALID_ARGUMENT',
      );
      await expectStoreError(store.put('n/x/y/z', Buffer.from('deeper')), 'INVALID_ARGUMENT');
      await store.delete(['n/x']); // a directory, not an object: nothing to delete
      expect(await listKeys(store, 'n/')).toEqual(['n/x/y']);
    });
  });

  it('fails with STORAGE_UNAVAILABLE while its directory cannot be made, and recovers after', async () => {
    const blocked = path.join(dir, 'blocked');
    fs.writeFileSync(blocked, 'a file where the store directory should be');
    const broken = new LocalFileStore({ basePath: path.join(blocked, 'store') });
    const error = await expectStoreError(broken.put('k', Buffer.from('v')), 'STORAGE_UNAVAILABLE');
    expect(error.kind).toBe('unavailable');
    await expectStoreError(broken.init(), 'STORAGE_UNAVAILABLE');
    fs.rmSync(blocked);
    await broken.put('k', Buffer.from('v'));
    expect((await getBuffer(broken, 'k')).toString()).toBe('v');
  });
});
