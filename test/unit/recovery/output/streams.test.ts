import { PassThrough } from 'node:stream';
import { TidemarkError } from '../../../../src/lib/errors';
import { batched, streamTo } from '../../../../src/server/recovery/stream-output';
import {
  binaryErrorFrame,
  readBinaryStream,
  toBinaryStream,
} from '../../../../src/recovery/output/binary-stream';
import { ndjsonErrorLine, readNdjson, toNdjson } from '../../../../src/recovery/output/ndjson';
import { plain, plainResult, sampleResult } from '../../../support/recovery/output/fixtures';

async function collect<T>(source: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of source) out.push(item);
  return out;
}

/** A source that yields `parts` and then fails. */
async function* failingAfter<T>(parts: AsyncIterable<T>, keep: number): AsyncGenerator<T> {
  let n = 0;
  for await (const part of parts) {
    if (n++ === keep) throw new TidemarkError('STORAGE_UNAVAILABLE', 'the store went away');
    yield part;
  }
}

describe('NDJSON output', () => {
  it('is a header, one line per record, one per component, a trailer; and reads back', async () => {
    const result = sampleResult({ bigRecords: 5 });
    const lines = await collect(toNdjson(result));
    expect(lines.every((l) => l.endsWith('\n') && !l.slice(0, -1).includes('\n'))).toBe(true);
    const objects = lines.map((l) => JSON.parse(l) as { type: string } & Record<string, unknown>);
    expect(objects[0]).toEqual({
      type: 'header',
      format: 'tidemark-recovery',
      version: 1,
      target: { lsn: 5000 },
      lsn: 5000,
      components: ['.hidden', 'broken_5', 'empty_4', 'ns:join.2', 'window_processor_1'],
    });
    expect(objects.filter((o) => o.type === 'record')).toHaveLength(1 + 3 + 5);
    expect(objects.find((o) => o.type === 'record')).toEqual({
      type: 'record',
      component: '.hidden',
      key: Buffer.from('a').toString('base64'),
      value: Buffer.from('b').toString('base64'),
    });
    expect(objects.filter((o) => o.type === 'component').map((o) => o.componentId)).toEqual([
      '.hidden',
      'empty_4',
      'ns:join.2',
      'window_processor_1',
      'broken_5',
    ]);
    expect(objects[objects.length - 1]).toEqual({ type: 'trailer', stats: result.stats });

    const back = readNdjson(lines.join(''));
    expect(back.complete).toBe(true);
    expect(back.header.lsn).toBe(5000);
    expect(plain(back.state)).toEqual(plainResult(result));
    expect(back.outcomes.find((o) => o.componentId === 'broken_5')?.error?.code).toBe('CHECKSUM_MISMATCH');
    expect(back.stats).toEqual(result.stats);
  });

  it('ends a stream that fails after it started with an error line, never a trailer', async () => {
    const chunks = await collect(
      batched(failingAfter(toNdjson(sampleResult({ bigRecords: 3 })), 4), ndjsonErrorLine),
    );
    const text = Buffer.concat(chunks).toString('utf8');
    const back = readNdjson(text);
    expect(back.complete).toBe(false);
    expect(back.error).toEqual({ code: 'STORAGE_UNAVAILABLE', message: 'the store went away' });
    expect(text.trim().split('\n')).toHaveLength(5);
    // Errors that are not Tidemark's tell nothing of their insides.
    expect(JSON.parse(ndjsonErrorLine(new Error('secret path /x')))).toEqual({
      type: 'error',
      error: { code: 'INTERNAL', message: 'internal error' },
    });
  });

  it('refuses text that is not a recovery stream', () => {
    expect(() => readNdjson('{"type":"record"}\n')).toThrow(/no header/);
    expect(() => readNdjson('not json\n')).toThrow(/not JSON/);
  });
});

describe('binary output', () => {
  it('round-trips the state, the outcomes and the stats', async () => {
    const result = sampleResult();
    const bytes = Buffer.concat(await collect(toBinaryStream(result)));
    expect(bytes.toString('latin1', 0, 4)).toBe('TMRS');
    const back = readBinaryStream(bytes);
    expect(back.complete).toBe(true);
    expect(back.header).toEqual({
      target: { lsn: 5000 },
      lsn: 5000,
      components: ['.hidden', 'broken_5', 'empty_4', 'ns:join.2', 'window_processor_1'],
    });
    expect(plain(back.state)).toEqual(plainResult(result));
    expect(back.outcomes).toEqual(result.components);
    expect(back.stats).toEqual(result.stats);
  });

  it('ends with an error frame when it fails after starting, and tells a cut stream', async () => {
    const result = sampleResult({ bigRecords: 3 });
    const failed = Buffer.concat(
      await collect(batched(failingAfter(toBinaryStream(result), 2), binaryErrorFrame)),
    );
    const back = readBinaryStream(failed);
    expect(back.complete).toBe(false);
    expect(back.error).toEqual({ code: 'STORAGE_UNAVAILABLE', message: 'the store went away' });
    expect(back.state.size).toBe(1);

    const whole = Buffer.concat(await collect(toBinaryStream(result)));
    expect(() => readBinaryStream(whole.subarray(0, whole.length - 3))).toThrow(
      expect.objectContaining({ code: 'DESERIALIZATION_ERROR' }),
    );
    const noMagic = Buffer.from(whole);
    noMagic[0] = 0;
    expect(() => readBinaryStream(noMagic)).toThrow(
      expect.objectContaining({ code: 'DESERIALIZATION_ERROR' }),
    );
  });
});

describe('streaming to a response', () => {
  it('gathers small parts into large writes and resolves false when the sink goes away', async () => {
    const lines = Array.from({ length: 10_000 }, (_, i) => `{"n":${i}}\n`);
    async function* source() {
      yield* lines;
    }
    const chunks = await collect(batched(source(), ndjsonErrorLine));
    expect(chunks.length).toBeLessThan(10);
    expect(Buffer.concat(chunks).toString()).toBe(lines.join(''));

    const sink = new PassThrough({ highWaterMark: 16 });
    const done = streamTo(batched(source(), ndjsonErrorLine), sink);
    sink.destroy();
    await expect(done).resolves.toBe(false);
  });
});
