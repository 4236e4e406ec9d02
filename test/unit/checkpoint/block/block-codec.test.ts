import fc from 'fast-check';
import { createHash } from 'node:crypto';
import { crc32c } from '@node-rs/crc32';
import {
  BLOCK_HEADER_SIZE,
  decodeBlock,
  decodeBlockRun,
  decodeRun,
  encodeBlock,
  openBlock,
  verifyBlock,
  verifyStoredBlock,
} from '../../../../src/checkpoint/block/block-codec';
import { BLOCK_CODECS, type BlockCodec } from '../../../../src/checkpoint/block/codecs';
import { encodeRunBody } from '../../../../src/checkpoint/block/run-body-codec';
import { runFromRecords, runToRecords } from '../../../../src/checkpoint/run/sorted-run';
import { plain, sortedDeltaRecordsArb, windowState } from '../../../support/checkpoint/block/block-fixtures';

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
    return undefined;
  } catch (error) {
    return (error as { code?: string }).code ?? `not a TidemarkError: ${String(error)}`;
  }
}

describe('block codec', () => {
  it.each(BLOCK_CODECS)('round-trips any records with %s', async (codec) => {
    await fc.assert(
      fc.asyncProperty(sortedDeltaRecordsArb(20), fc.nat({ max: 2000 }), async (records, threshold) => {
        const block = await encodeBlock(records, { codec, compressionThreshold: threshold });
        expect(block.recordCount).toBe(records.length);
        expect(block.storedBytes).toBe(block.bytes.length);
        const body = encodeRunBody(runFromRecords(records), 0, records.length, 0);
        expect(block.hash).toBe(createHash('sha256').update(body).digest('hex'));
        expect(block.rawBytes).toBe(body.length);
        expect(plain(runToRecords(await decodeBlockRun(block.bytes, block.hash)))).toEqual(plain(records));
        expect(plain(await decodeBlock(block.bytes, block.hash))).toEqual(plain(records));
        expect(plain(await decodeBlock(block.bytes))).toEqual(plain(records));
        expect(await verifyBlock(block.bytes, block.hash)).toEqual({
          hash: block.hash,
          codec: block.codec,
          rawBytes: block.rawBytes,
          storedBytes: block.storedBytes,
          recordCount: records.length,
        });
      }),
      { numRuns: 60 },
    );
  });

  it.each(['zstd', 'lz4', 'snappy'] as const)(
    '%s compresses realistic state, and the hash does not depend on the codec',
    async (codec) => {
      const records = windowState(2000);
      const none = await encodeBlock(records, { codec: 'none' });
      const block = await encodeBlock(records, { codec, compressionThreshold: 1024 });
      expect(block.codec).toBe(codec);
      expect(block.hash).toBe(none.hash);
      expect(block.rawBytes).toBe(none.rawBytes);
      expect(block.storedBytes).toBeLessThan(none.storedBytes / 2);
      expect(none.bytes[5]).toBe(0);
      expect(plain(await decodeBlock(block.bytes, none.hash))).toEqual(plain(records));
    },
  );

  it.each(BLOCK_CODECS)(
    '%s: decompressing on the calling thread (worker threads) gives the same body',
    async (codec) => {
      const records = windowState(300);
      const block = await encodeBlock(records, { codec, compressionThreshold: 0 });
      const pooled = await openBlock(block.bytes, block.hash);
      const here = await openBlock(block.bytes, block.hash, { syncDecompress: true });
      expect(here).toEqual(pooled);
      expect(plain(runToRecords(decodeRun(here)))).toEqual(plain(records));
      // The raw length is checked against the body's own (lz4, snappy) before the library allocates.
      const lying = Buffer.from(block.bytes);
      lying.writeUInt32LE(lying.readUInt32LE(8) + 1, 8);
      lying.writeUInt32LE(crc32c(Buffer.concat([lying.subarray(0, 20), lying.subarray(24)])), 20);
      if (codec !== 'none') {
        await expect(openBlock(lying, undefined, { syncDecompress: true })).rejects.toMatchObject({
          code: 'CHECKSUM_MISMATCH',
        });
      }
    },
  );

  it('zstd level is configurable', async () => {
    const records = windowState(2000);
    const fast = await encodeBlock(records, { codec: 'zstd', zstdLevel: 1 });
    const strong = await encodeBlock(records, { codec: 'zstd', zstdLevel: 19 });
    expect(strong.hash).toBe(fast.hash);
    expect(strong.storedBytes).toBeLessThan(fast.storedBytes);
    await expect(encodeBlock(records, { codec: 'zstd', zstdLevel: 99 })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    expect(plain(await decodeBlock(strong.bytes, strong.hash))).toEqual(plain(records));
  });

  it('stays raw below compressionThreshold, and when compression would not shrink it', async () => {
    const records = windowState(10);
    const small = await encodeBlock(records, { codec: 'zstd', compressionThreshold: 1_000_000 });
    expect(small.codec).toBe('none');
    expect(small.bytes[5]).toBe(0);
    expect(small.storedBytes).toBe(BLOCK_HEADER_SIZE + small.rawBytes);
    const noise = [
      { key: Buffer.from('k'), value: createHash('sha512').update('x').digest(), lsn: 1, timestamp: 1 },
    ];
    const incompressible = await encodeBlock(noise, { codec: 'lz4', compressionThreshold: 0 });
    expect(incompressible.codec).toBe('none');
    expect(plain(await decodeBlock(incompressible.bytes, incompressible.hash))).toEqual(plain(noise));
  });

  it('has the documented header', async () => {
    const block = await encodeBlock(windowState(100), { codec: 'snappy', compressionThreshold: 0 });
    const b = block.bytes;
    expect(b.toString('latin1', 0, 4)).toBe('TMBK');
    expect([b[4], b[5], b.readUInt16LE(6), b.readUInt32LE(8), b.readUInt32LE(12)]).toEqual([
      2,
      3,
      0,
      block.rawBytes,
      100,
    ]);
    const body = encodeRunBody(runFromRecords(windowState(100)), 0, 100, 0);
    expect(b.readUInt32LE(16)).toBe(crc32c(body));
    expect(b.readUInt32LE(20)).toBe(crc32c(Buffer.concat([b.subarray(0, 20), b.subarray(24)])));
    expect(BLOCK_HEADER_SIZE).toBe(24);
  });

  /** A copy of `bytes` with `edit` applied and blockCrc32c recomputed: a well-formed block with odd fields. */
  function resealed(bytes: Buffer, edit: (b: Buffer) => void): Buffer {
    const b = Buffer.from(bytes);
    edit(b);
    b.writeUInt32LE(crc32c(Buffer.concat([b.subarray(0, 20), b.subarray(24)])), 20);
    return b;
  }

  it('refuses intact blocks with unknown flags, an unknown codec or a wrong record count', async () => {
    const block = await encodeBlock(windowState(5), { codec: 'none' });
    await expect(decodeBlock(resealed(block.bytes, (b) => b.writeUInt16LE(1, 6)))).rejects.toMatchObject({
      code: 'UNSUPPORTED_VERSION',
    });
    await expect(decodeBlock(resealed(block.bytes, (b) => (b[5] = 9)))).rejects.toMatchObject({
      code: 'DESERIALIZATION_ERROR',
    });
    const miscounted = resealed(block.bytes, (b) => b.writeUInt32LE(4, 12));
    await expect(decodeBlock(miscounted, block.hash)).rejects.toMatchObject({
      code: 'DESERIALIZATION_ERROR',
    });
    await expect(verifyBlock(miscounted, block.hash)).rejects.toMatchObject({
      code: 'DESERIALIZATION_ERROR',
    });
    const huge = resealed(block.bytes, (b) => b.writeUInt32LE(0xffffffff, 8));
    await expect(decodeBlock(huge)).rejects.toMatchObject({ code: 'DESERIALIZATION_ERROR' });
    const lz4 = await encodeBlock(windowState(50), { codec: 'lz4', compressionThreshold: 0 });
    const lying = resealed(lz4.bytes, (b) => b.writeUInt32LE(b.readUInt32LE(8) + 1, 8));
    await expect(decodeBlock(lying)).rejects.toMatchObject({ code: 'CHECKSUM_MISMATCH' });
    expect(() => verifyStoredBlock(block.bytes, block.hash)).not.toThrow();
  });

  it('refuses an unknown format version with a clear message', async () => {
    const block = await encodeBlock(windowState(5), { codec: 'none' });
    const future = Buffer.from(block.bytes);
    future[4] = 3;
    await expect(decodeBlock(future, block.hash)).rejects.toMatchObject({
      code: 'UNSUPPORTED_VERSION',
      message: expect.stringContaining('format version 3; this reader knows versions 1 and 2'),
    });
  });

  it('names the block hash in CHECKSUM_MISMATCH, and rejects a block under the wrong name', async () => {
    const block = await encodeBlock(windowState(5), { codec: 'none' });
    const other = await encodeBlock(windowState(6), { codec: 'none' });
    await expect(decodeBlock(block.bytes, other.hash)).rejects.toMatchObject({
      code: 'CHECKSUM_MISMATCH',
      message: expect.stringContaining(other.hash),
    });
    await expect(verifyBlock(block.bytes, other.hash)).rejects.toMatchObject({ code: 'CHECKSUM_MISMATCH' });
    await expect(decodeBlock(Buffer.from('TMB'))).rejects.toMatchObject({ code: 'DESERIALIZATION_ERROR' });
  });

  // Every single-bit flip, in the header and the body, of a block of each codec: none goes unnoticed.
  // Magic → DESERIALIZATION_ERROR, version → UNSUPPORTED_VERSION, anything else → CHECKSUM_MISMATCH
  // (blockCrc32c covers the stored bytes: many flips in a compressed body decompress to the same raw bytes).
  it.each(BLOCK_CODECS)('detects every flipped bit of a %s block', async (codec: BlockCodec) => {
    const records = windowState(12);
    const block = await encodeBlock(records, { codec, compressionThreshold: 0 });
    expect(block.codec).toBe(codec);
    const seen = new Set<string | undefined>();
    for (let bit = 0; bit < block.bytes.length * 8; bit++) {
      const bytes = Buffer.from(block.bytes);
      bytes[bit >> 3] ^= 1 << (bit & 7);
      const withHash = await codeOf(decodeBlock(bytes, block.hash));
      const withoutHash = await codeOf(decodeBlock(bytes));
      const verified = await codeOf(verifyBlock(bytes, block.hash));
      const stored = await codeOf(Promise.resolve().then(() => verifyStoredBlock(bytes)));
      const expected =
        bit < 32 ? 'DESERIALIZATION_ERROR' : bit < 40 ? 'UNSUPPORTED_VERSION' : 'CHECKSUM_MISMATCH';
      for (const result of [withHash, withoutHash, verified, stored]) {
        expect([bit, result]).toEqual([bit, expected]);
        seen.add(result);
      }
    }
    expect(seen.has(undefined)).toBe(false);
  });
});
