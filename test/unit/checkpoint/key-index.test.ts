import fc from 'fast-check';
import { KeyIndex, hashKey } from '../../../src/checkpoint/state/key-index';
import { SlotTable } from '../../../src/checkpoint/state/slot-table';

type Op = { kind: 'put' | 'remove' | 'reset'; key: number };

const opArb: fc.Arbitrary<Op> = fc.record({
  kind: fc.constantFrom<Op['kind']>('put', 'put', 'put', 'remove', 'remove', 'reset'),
  key: fc.nat(3_000),
});

const keyBytes = (key: number): Buffer => Buffer.from(`key-${key}`);

describe('KeyIndex', () => {
  it.each([
    ['murmur3', (key: Buffer) => hashKey(key, 0, key.length)],
    // Few distinct hashes: long probe runs, so removal's backward shift is exercised across wraps.
    ['a weak hash (8 values)', (key: Buffer) => hashKey(key, 0, key.length) & 7],
    ['a hash near the table end', (key: Buffer) => 1023 - (hashKey(key, 0, key.length) & 3)],
  ])('finds what a Map finds through puts, removals, growth and resets (%s)', (_, hash) => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 1_500, maxLength: 4_000 }), (ops) => {
        const table = new SlotTable();
        const index = new KeyIndex(table);
        const model = new Map<number, number>();
        for (const op of ops) {
          const key = keyBytes(op.key);
          const found = index.find(key, 0, key.length, hash(key));
          expect(found).toBe(model.get(op.key) ?? -1);
          if (op.kind === 'reset') {
            index.reset();
            table.reset();
            model.clear();
          } else if (op.kind === 'put' && found < 0) {
            const slot = table.add(key);
            index.insert(slot, hash(key));
            model.set(op.key, slot);
          } else if (op.kind === 'remove' && found >= 0) {
            index.remove(found, hash(key));
            table.release(found);
            model.delete(op.key);
          }
          expect(index.size).toBe(model.size);
        }
        for (const [key, slot] of model) {
          const bytes = keyBytes(key);
          expect(index.find(bytes, 0, bytes.length, hash(bytes))).toBe(slot);
        }
      }),
      { numRuns: 8 },
    );
  });

  it.each([
    ['few keys, one at a time', 1_000, 0, (key: Buffer) => hashKey(key, 0, key.length)],
    ['many keys, grouped by region', 150_000, 0, (key: Buffer) => hashKey(key, 0, key.length)],
    ['many keys after others, grouped', 100_000, 5_000, (key: Buffer) => hashKey(key, 0, key.length)],
    // Home buckets in the upper half of the table (2^18 buckets): runs cross regions and wrap past the end.
    [
      'many keys, hashes in the upper half',
      70_000,
      0,
      (key: Buffer) => 0x3ffff - (hashKey(key, 0, key.length) % 0x20000),
    ],
  ])(
    'insertMany indexes what one insert at a time would (%s); removals and finds work after',
    (_, many, before, hash) => {
      const table = new SlotTable();
      const index = new KeyIndex(table);
      const key = (k: number): Buffer => keyBytes(k);
      // Keys -1 … -before first, one at a time; then keys 0 … many - 1 at once.
      for (let k = 1; k <= before; k++) index.insert(table.add(key(-k)), hash(key(-k)));
      const first = before;
      const hashes = new Uint32Array(many);
      for (let k = 0; k < many; k++) {
        if (table.add(key(k)) !== first + k) throw new Error('slots are not contiguous');
        hashes[k] = hash(key(k));
      }
      index.insertMany(first, hashes);
      expect(index.size).toBe(before + many);
      const wrong: string[] = [];
      const check = (k: number, expected: number): void => {
        const bytes = key(k);
        const found = index.find(bytes, 0, bytes.length, hash(bytes));
        if (found !== expected && wrong.length < 5)
          wrong.push(`key ${k}: slot ${found}, expected ${expected}`);
      };
      for (let k = 1; k <= before; k++) check(-k, k - 1);
      for (let k = 0; k < many; k++) check(k, first + k);
      for (let k = 0; k < many; k += 3) index.remove(first + k, hash(key(k)));
      for (let k = 0; k < many; k++) check(k, k % 3 === 0 ? -1 : first + k);
      check(many + 1, -1);
      expect(wrong).toEqual([]);
    },
  );

  it('finds a key inside a larger buffer by its range', () => {
    const table = new SlotTable();
    const index = new KeyIndex(table);
    const slot = table.add(Buffer.from('abc'));
    index.insert(slot, hashKey(Buffer.from('abc'), 0, 3));
    const frame = Buffer.from('xxabcyy');
    expect(index.find(frame, 2, 5, hashKey(frame, 2, 5))).toBe(slot);
    expect(index.find(frame, 2, 4, hashKey(frame, 2, 4))).toBe(-1);
  });
});

describe('hashKey', () => {
  it('depends on every byte and on the length, not on where the range sits', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 40 }), fc.nat(), fc.nat(7), (bytes, at, pad) => {
        const key = Buffer.from(bytes);
        const padded = Buffer.concat([Buffer.alloc(pad, 0xee), key]);
        expect(hashKey(padded, pad, padded.length)).toBe(hashKey(key, 0, key.length));
        const flipped = Buffer.from(key);
        flipped[at % key.length]! ^= 1;
        // Murmur3's finaliser is a bijection and one flipped bit in a 4-byte round changes its output.
        expect(hashKey(flipped, 0, flipped.length)).not.toBe(hashKey(key, 0, key.length));
        expect(hashKey(Buffer.concat([key, Buffer.alloc(1)]), 0, key.length + 1)).not.toBe(
          hashKey(key, 0, key.length),
        );
      }),
    );
  });
});
