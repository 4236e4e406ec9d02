import fc from 'fast-check';
import { echoInput, TidemarkError } from '../../../src/lib/errors';
import {
  assertValidKey,
  assertValidPrefix,
  blockKey,
  blocksPrefix,
  checkpointPrefix,
  checkpointsPrefix,
  compareKeys,
  keyProblem,
  manifestKey,
  MAX_KEY_BYTES,
  parseBlockKey,
  parseManifestKey,
  parseWalSegmentKey,
  walNodePrefix,
  walSegmentKey,
} from '../../../src/storage';

const HASH = 'ab3f' + '0'.repeat(60);

function invalid(build: () => unknown): TidemarkError {
  try {
    build();
  } catch (error) {
    if (TidemarkError.is(error, 'INVALID_ARGUMENT')) return error;
    throw error;
  }
  throw new Error('expected INVALID_ARGUMENT');
}

const show = (value: unknown) =>
  JSON.stringify(value).replace(
    /[\u007f-\u009f]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );

describe('key builders', () => {
  it('build the layout of docs/design.md', () => {
    expect(blockKey('tidemark', HASH)).toBe(`tidemark/blocks/ab/${HASH}`);
    expect(manifestKey('tidemark', 42)).toBe('tidemark/checkpoints/00000000000000000042/manifest.json');
    expect(walSegmentKey('tidemark', 'node-1', 1, 1500)).toBe(
      'tidemark/wal/node-1/00000000000000000001-00000000000000001500.seg',
    );
    expect(blocksPrefix('a/b')).toBe('a/b/blocks/');
    expect(checkpointsPrefix('t')).toBe('t/checkpoints/');
    expect(checkpointPrefix('t', 7)).toBe('t/checkpoints/00000000000000000007/');
    expect(walNodePrefix('t', 'n')).toBe('t/wal/n/');
  });

  it('pad numbers so that keys sort as the numbers do', () => {
    const lsns = [
      [1, 9],
      [10, 99],
      [100, 100],
      [101, 12_345],
      [12_346, Number.MAX_SAFE_INTEGER],
    ];
    const keys = lsns.map(([first, last]) => walSegmentKey('p', 'n', first, last));
    expect([...keys].reverse().sort(compareKeys)).toEqual(keys);
    const manifests = [0, 2, 10, 300, 1e12].map((id) => manifestKey('p', id));
    expect([...manifests].reverse().sort(compareKeys)).toEqual(manifests);
  });

  it('produce keys the store accepts', () => {
    for (const key of [blockKey('p', HASH), manifestKey('p', 1), walSegmentKey('p/q', 'n.1', 0, 0)]) {
      expect(keyProblem(key)).toBeUndefined();
    }
  });

  const badPrefixes = [
    '',
    '/abs',
    'a/',
    'a//b',
    '..',
    'a/../b',
    '.',
    'a\\b',
    'a\0b',
    'a\tb',
    'x'.repeat(201),
  ];
  it.each(badPrefixes.map((prefix) => [show(prefix), prefix]))('refuse the prefix %s', (_, prefix) => {
    invalid(() => blockKey(prefix, HASH));
    invalid(() => manifestKey(prefix, 1));
    invalid(() => walSegmentKey(prefix, 'n', 1, 2));
    invalid(() => checkpointsPrefix(prefix));
  });

  const badNodeIds = [
    '',
    'a/b',
    '..',
    '.',
    '.hidden',
    '/',
    'a\\b',
    'n\0',
    'n\u001f',
    'n\u007f',
    '\ud800',
    'x'.repeat(201),
  ];
  it.each(badNodeIds.map((id) => [show(id), id]))('refuse the node id %s', (_, nodeId) => {
    const error = invalid(() => walSegmentKey('p', nodeId, 1, 2));
    expect(error.message).toContain('nodeId');
    invalid(() => walNodePrefix('p', nodeId));
  });

  it.each([
    '',
    'ABCDEF0123',
    'abc',
    'ab/cdef0123',
    '../../etc/passwd',
    'zz' + '0'.repeat(62),
    '0'.repeat(129),
  ])('refuse the block hash %j', (hash) => {
    invalid(() => blockKey('p', hash));
  });

  it.each([-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53])('refuse the number %p', (n) => {
    invalid(() => manifestKey('p', n));
    invalid(() => walSegmentKey('p', 'n', n, 2 ** 52));
    invalid(() => walSegmentKey('p', 'n', 0, n));
  });

  it('refuse a WAL range whose last LSN is below its first', () => {
    invalid(() => walSegmentKey('p', 'n', 10, 9));
  });

  it('refuse non-strings passed from JavaScript', () => {
    invalid(() => walSegmentKey('p', 5 as unknown as string, 1, 2));
    invalid(() => blockKey('p', undefined as unknown as string));
  });
});

describe('key parsers', () => {
  it('read back what the builders wrote', () => {
    expect(parseBlockKey('tm', blockKey('tm', HASH))).toBe(HASH);
    expect(parseManifestKey('tm', manifestKey('tm', 123))).toBe(123);
    expect(parseWalSegmentKey('a/b', walSegmentKey('a/b', 'node-7', 5, 900))).toEqual({
      nodeId: 'node-7',
      firstLsn: 5,
      lastLsn: 900,
    });
  });

  it('return undefined for keys of another shape or another prefix', () => {
    expect(parseManifestKey('tm', 'tm/checkpoints/00000000000000000001/blocks.json')).toBeUndefined();
    expect(parseManifestKey('tm', 'tm/checkpoints/1/manifest.json')).toBeUndefined();
    expect(parseManifestKey('tm', manifestKey('other', 1))).toBeUndefined();
    expect(parseManifestKey('tm', 'tm/checkpoints/99999999999999999999/manifest.json')).toBeUndefined();
    expect(parseBlockKey('tm', `tm/blocks/cd/${HASH}`)).toBeUndefined(); // wrong fan-out directory
    expect(parseBlockKey('tm', 'tm/blocks/ab/ab')).toBeUndefined();
    expect(
      parseWalSegmentKey('tm', 'tm/wal/n/00000000000000000009-00000000000000000001.seg'),
    ).toBeUndefined();
    expect(
      parseWalSegmentKey('tm', 'tm/wal/n/x/00000000000000000001-00000000000000000002.seg'),
    ).toBeUndefined();
    expect(
      parseWalSegmentKey('tm', 'tm/wal/n/00000000000000000001-00000000000000000002.wal'),
    ).toBeUndefined();
  });

  it('find every manifest among the keys of a checkpoints listing', () => {
    const keys = [manifestKey('tm', 3), `${checkpointPrefix('tm', 3)}other.json`, manifestKey('tm', 10)];
    expect(keys.map((key) => parseManifestKey('tm', key)).filter((id) => id !== undefined)).toEqual([3, 10]);
  });
});

describe('key rules', () => {
  const bad: Array<[string, string]> = [
    ['', 'empty key'],
    ['/etc/passwd', 'empty path segment'],
    ['a/', 'empty path segment'],
    ['a//b', 'empty path segment'],
    ['..', 'begins with "."'],
    ['a/../../b', 'begins with "."'],
    ['./a', 'begins with "."'],
    ['a/.tmp', 'begins with "."'],
    ['a\\..\\b', 'backslash'],
    ['C:\\x', 'backslash'],
    ['a\0b', 'NUL'],
    ['a\u0001b', 'control'],
    ['a\rb', 'control'],
    ['a\u007fb', 'control'],
    ['a\udc00b', 'lone surrogate'],
    ['x'.repeat(201), 'longer than 200'],
    [Array.from({ length: 10 }, () => 'y'.repeat(150)).join('/'), `longer than ${MAX_KEY_BYTES}`],
  ];

  it.each(bad.map(([key, why]) => [show(key), why, key]))('refuse %s (%s)', (_, why, key) => {
    expect(keyProblem(key)).toContain(why as string);
    const error = invalid(() => assertValidKey(key as string));
    expect(error.details).toEqual({ key: echoInput(key as string) });
  });

  it('accept ordinary keys, dots and Unicode inside segments', () => {
    for (const key of ['a', 'a/b.c/d..e', 'x/日本/😀', 'k~!@#$%^&*()-_=+[]{};:\'",<>?| ']) {
      expect(keyProblem(key)).toBeUndefined();
    }
  });

  it('accept as listing prefixes what a valid key can begin with', () => {
    for (const prefix of ['', 'a', 'a/', 'a/b', 'a/b/']) assertValidPrefix(prefix);
    for (const prefix of ['/', '/a', 'a//', '..', 'a/./', 'a\\']) invalid(() => assertValidPrefix(prefix));
  });

  it('order keys by code point, which is UTF-8 byte order', () => {
    const lone = /[\ud800-\udfff]/;
    const wellFormed = fc
      .string({ unit: 'binary', maxLength: 8 })
      .filter((s) => !lone.test(s.replace(/[\ud800-\udbff][\udc00-\udfff]/g, '')));
    fc.assert(
      fc.property(wellFormed, wellFormed, (a, b) => {
        expect(Math.sign(compareKeys(a, b))).toBe(Math.sign(Buffer.compare(Buffer.from(a), Buffer.from(b))));
      }),
      { numRuns: 2000 },
    );
    expect(compareKeys('\uE000', '😀')).toBeLessThan(0); // UTF-16 order would say the opposite
  });
});
