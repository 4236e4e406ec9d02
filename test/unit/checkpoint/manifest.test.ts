import { createHash } from 'node:crypto';
import { TidemarkError } from '../../../src/lib/errors';
import type { Manifest } from '../../../src/checkpoint/manifest/manifest';
import { decodeManifest, encodeManifest } from '../../../src/checkpoint/manifest/manifest-codec';
import { StateDigest } from '../../../src/checkpoint/manifest/state-digest';
import { block, fullManifest, incrementalManifest } from '../../support/checkpoint/manifest-fixtures';

function encodeRaw(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value));
}

function decodeError(bytes: Buffer, expectedId?: number): TidemarkError {
  try {
    decodeManifest(bytes, { expectedId });
  } catch (error) {
    if (error instanceof TidemarkError) return error;
    throw error;
  }
  throw new Error('decodeManifest accepted the manifest');
}

/** A full manifest as plain JSON with one field changed (path of keys, value; undefined deletes). */
function mutated(path: (string | number)[], value: unknown, base: Manifest = fullManifest(3)): Buffer {
  const raw = JSON.parse(encodeManifest(base).toString()) as Record<string | number, unknown>;
  let node = raw;
  for (const part of path.slice(0, -1)) node = node[part] as Record<string | number, unknown>;
  const last = path[path.length - 1] as string | number;
  if (value === undefined) delete node[last];
  else node[last] = value;
  return encodeRaw(raw);
}

describe('manifest codec', () => {
  it('round-trips full and incremental manifests, clearedAt included', () => {
    const full = fullManifest(1);
    const inc = incrementalManifest(2, full, {
      blocks: { a: [block('x')], b: [] },
    });
    inc.components.b.clearedAt = { lsn: inc.lsn, timestamp: 5 };
    for (const manifest of [full, inc]) {
      expect(decodeManifest(encodeManifest(manifest), { expectedId: manifest.checkpointId })).toEqual(
        manifest,
      );
    }
  });

  it('encodes with a stable key order: equal manifests give equal bytes', () => {
    const manifest = fullManifest(4, { blocks: { zeta: [block('z')], alpha: [block('a')] } });
    const shuffled = JSON.parse(JSON.stringify(manifest)) as Manifest;
    const reordered = Object.fromEntries(Object.entries(shuffled).reverse()) as unknown as Manifest;
    reordered.components = { alpha: manifest.components.alpha, zeta: manifest.components.zeta };
    expect(encodeManifest(reordered).equals(encodeManifest(manifest))).toBe(true);
    const text = encodeManifest(manifest).toString();
    expect(text.indexOf('"formatVersion"')).toBe(1);
    expect(text.indexOf('"alpha"')).toBeLessThan(text.indexOf('"zeta"'));
  });

  it('refuses an unknown format version with a clear message', () => {
    const error = decodeError(mutated(['formatVersion'], 7));
    expect(error.code).toBe('UNSUPPORTED_VERSION');
    expect(error.message).toBe('manifest format version 7 is not supported; this build reads 1 and 2');
  });

  describe('format 2: key ranges per block', () => {
    const key = (text: string) => Buffer.from(text).toString('base64');
    const ranged = (first: string, last: string, recordCount = 10) => ({
      ...block(`${first}-${last}`),
      recordCount,
      firstKey: key(first),
      lastKey: key(last),
    });
    const v2 = (blocks: ReturnType<typeof ranged>[]): Manifest => ({
      ...fullManifest(3, { blocks: { c: blocks } }),
      formatVersion: 2,
    });

    it('round-trips blocks with their first and last keys', () => {
      const manifest = v2([ranged('a', 'f'), ranged('g', 'g', 1), ranged('h', 'zz')]);
      expect(decodeManifest(encodeManifest(manifest))).toEqual(manifest);
    });

    it.each<[string, () => Manifest, string]>([
      [
        'a block without a range',
        () => v2([ranged('a', 'f'), block('x') as ReturnType<typeof ranged>]),
        'block 1 has no key range',
      ],
      [
        'a range in format 1',
        () => ({ ...v2([ranged('a', 'f')]), formatVersion: 1 }),
        'block 0 has a key range (format 2 only)',
      ],
      ['first above last', () => v2([ranged('f', 'a')]), 'block 0: firstKey is above lastKey'],
      [
        'one record, two keys',
        () => v2([ranged('a', 'b', 1)]),
        'block 0: one record, but firstKey and lastKey differ',
      ],
      [
        'ten records, one key',
        () => v2([ranged('a', 'a', 10)]),
        'block 0: 10 records (keys unique), but firstKey equals lastKey',
      ],
      [
        'overlapping blocks',
        () => v2([ranged('a', 'f'), ranged('f', 'k')]),
        "block 1: its keys do not lie above the block before's",
      ],
      [
        'blocks out of order',
        () => v2([ranged('m', 'p'), ranged('a', 'f')]),
        "block 1: its keys do not lie above the block before's",
      ],
    ])('refuses %s (INVALID_STATE_DATA, nothing decoded)', (_, build, message) => {
      const error = decodeError(encodeRaw(build()));
      expect(error.code).toBe('INVALID_STATE_DATA');
      expect(error.message).toContain(`component c ${message}`);
    });

    it('refuses a key that is not base64', () => {
      const bad = { ...ranged('a', 'f'), firstKey: 'not base64!' };
      const error = decodeError(encodeRaw(v2([bad])));
      expect(error.code).toBe('DESERIALIZATION_ERROR');
      expect(error.message).toContain('components.c.blocks[0].firstKey');
    });
  });

  it.each<[string, (string | number)[], unknown, string]>([
    ['a missing version', ['formatVersion'], undefined, 'formatVersion'],
    ['a string id', ['checkpointId'], '3', 'checkpointId'],
    ['id 0', ['checkpointId'], 0, 'checkpointId'],
    ['a fractional LSN', ['lsn'], 1.5, 'lsn'],
    ['an unknown kind', ['kind'], 'delta', 'kind'],
    ['a bad date', ['createdAt'], 'yesterday', 'createdAt'],
    [
      'a short block hash',
      ['components', 'window_processor_1', 'blocks', 0, 'hash'],
      'abc',
      'components.window_processor_1.blocks[0].hash',
    ],
    [
      'a negative key count',
      ['components', 'window_processor_1', 'keyCount'],
      -1,
      'components.window_processor_1.keyCount',
    ],
    [
      'a bad digest',
      ['components', 'window_processor_1', 'digest'],
      'Z'.repeat(64),
      'components.window_processor_1.digest',
    ],
    ['missing stats', ['stats'], undefined, 'stats'],
    ['an unknown field', ['surprise'], true, 'unknown field surprise'],
  ])('refuses %s as DESERIALIZATION_ERROR naming the field', (_name, path, value, field) => {
    const error = decodeError(mutated(path, value));
    expect(error.code).toBe('DESERIALIZATION_ERROR');
    expect(error.message).toContain(field);
  });

  it('refuses a component id the WAL would refuse', () => {
    const bytes = Buffer.from(
      encodeManifest(fullManifest(3)).toString().replace('"window_processor_1"', '"bad id/x"'),
    );
    const error = decodeError(bytes);
    expect(error.code).toBe('DESERIALIZATION_ERROR');
    expect(error.message).toContain('component id');
  });

  it.each(['__proto__', 'constructor', 'toString'])(
    'keeps a component named %s as an ordinary key, through decode and encode',
    (id) => {
      const bytes = Buffer.from(
        encodeManifest(fullManifest(3)).toString().replace('"window_processor_1"', JSON.stringify(id)),
      );
      const manifest = decodeManifest(bytes);
      expect(Object.keys(manifest.components)).toContain(id);
      expect(Object.prototype.hasOwnProperty.call(manifest.components, id)).toBe(true);
      expect(manifest.components[id]!.keyCount).toBeGreaterThan(0);
      expect(decodeManifest(encodeManifest(manifest))).toEqual(manifest);
    },
  );

  it('answers a lookup of an absent id named like an Object member with undefined', () => {
    const manifest = decodeManifest(encodeManifest(fullManifest(3)));
    expect(manifest.components['constructor']).toBeUndefined();
    expect(manifest.components['__proto__']).toBeUndefined();
  });

  it('refuses bytes that are not JSON, or not an object', () => {
    expect(decodeError(Buffer.from('{"formatVersion": 1,')).code).toBe('DESERIALIZATION_ERROR');
    expect(decodeError(Buffer.from('[1]')).code).toBe('DESERIALIZATION_ERROR');
    expect(decodeError(Buffer.from('null')).code).toBe('DESERIALIZATION_ERROR');
  });

  describe('consistency (INVALID_STATE_DATA)', () => {
    const full = fullManifest(5);
    const inc = incrementalManifest(6, full);
    const inc2 = incrementalManifest(7, inc);
    it.each<[string, Manifest]>([
      ['a full checkpoint with a parent', { ...full, parentId: 4 }],
      ['a full checkpoint with depth 1', { ...full, depth: 1 }],
      ['a full checkpoint whose base is another', { ...full, baseId: 4 }],
      ['a full checkpoint with fromLsn', { ...full, fromLsn: 10 }],
      ['an incremental without a parent', { ...inc, parentId: null }],
      ['an incremental whose parent id is not lower', { ...inc, parentId: 6 }],
      ['an incremental whose parent id is higher', { ...inc, parentId: 9, baseId: 5 }],
      ['an incremental with depth 0', { ...inc, depth: 0 }],
      ['an incremental at depth 2 whose parent is its base', { ...inc, depth: 2 }],
      ['an incremental at depth 1 whose parent is not its base', { ...inc2, depth: 1 }],
      ['an incremental whose base is above its parent', { ...inc2, baseId: 6, parentId: 5 }],
      ['fromLsn above lsn', { ...inc, fromLsn: inc.lsn + 1 }],
    ])('refuses %s', (_name, manifest) => {
      const error = decodeError(encodeRaw(manifest));
      expect(error.code).toBe('INVALID_STATE_DATA');
      expect(() => encodeManifest(manifest)).toThrow(TidemarkError);
    });

    it('refuses clearedAt on a full checkpoint, and outside the incremental range', () => {
      const clearedFull = fullManifest(5);
      clearedFull.components.window_processor_1.clearedAt = { lsn: 3, timestamp: 1 };
      expect(decodeError(encodeRaw(clearedFull)).code).toBe('INVALID_STATE_DATA');
      const early = incrementalManifest(6, full);
      early.components.window_processor_1.clearedAt = { lsn: full.lsn, timestamp: 1 };
      expect(decodeError(encodeRaw(early)).code).toBe('INVALID_STATE_DATA');
    });

    it('refuses a manifest stored under another id', () => {
      const error = decodeError(encodeManifest(full), 8);
      expect(error.code).toBe('INVALID_STATE_DATA');
      expect(error.message).toContain('manifest of checkpoint 8 names checkpoint 5');
    });
  });
});

describe('StateDigest', () => {
  const record = (key: string, value: string) => ({ key: Buffer.from(key), value: Buffer.from(value) });

  it('hashes (keyLen u32, key, valueLen u32, value) per record, in key order', () => {
    const records = [record('a', 'one'), record('b', ''), record('c', 'x'.repeat(10_000))];
    const expected = createHash('sha256');
    for (const { key, value } of records) {
      const length = Buffer.alloc(4);
      length.writeUInt32BE(key.length);
      expected.update(length).update(key);
      length.writeUInt32BE(value.length);
      expected.update(length).update(value);
    }
    const digest = new StateDigest();
    for (const r of records) digest.update(r.key, r.value);
    expect(digest.digest()).toBe(expected.digest('hex'));
    expect(digest.keyCount).toBe(3);
    expect(digest.bytes).toBe(3 + 3 + 10_000);
  });

  it('gives the same digest however records are batched, and sha256 of nothing for no state', () => {
    const many = Array.from({ length: 20_000 }, (_, i) =>
      record(`key-${String(i).padStart(6, '0')}`, `v${i % 97}`),
    );
    const a = StateDigest.of(many);
    const b = new StateDigest();
    for (const r of many) b.update(r.key, r.value);
    expect(b.digest()).toBe(a);
    expect(StateDigest.of([])).toBe(createHash('sha256').digest('hex'));
  });

  it('separates keys from values: moving bytes between them changes the digest', () => {
    expect(StateDigest.of([record('ab', 'c')])).not.toBe(StateDigest.of([record('a', 'bc')]));
  });

  it('refuses keys out of order or repeated, and updates after digest()', () => {
    const digest = new StateDigest().update(Buffer.from('b'), Buffer.from('1'));
    expect(() => digest.update(Buffer.from('a'), Buffer.from('2'))).toThrow(/strictly rising/);
    expect(() => digest.update(Buffer.from('b'), Buffer.from('2'))).toThrow(/strictly rising/);
    digest.digest();
    expect(() => digest.update(Buffer.from('c'), Buffer.from('3'))).toThrow(/after digest/);
  });
});
