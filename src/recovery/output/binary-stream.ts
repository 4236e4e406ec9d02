import { sliceRecordCount } from '../../checkpoint/run/run-slice';
import { slicesOf } from '../../checkpoint/run/sliced-component';
import { TidemarkError } from '../../lib/errors';
import type { ComponentSnapshot } from '../../checkpoint/state/state-types';
import type { SlicedComponent } from '../../checkpoint/run/sliced-component';
import type { ComponentOutcome, RecoveryResult, RecoveryTarget } from '../recovery-types';
import { describeError } from './recovery-summary';
import { streamRecordChunks } from './slice-chunks';
import { announcedComponents, sortedComponents, type StreamedRecovery } from './streamed-recovery';

/**
 * A recovery as one binary stream (`application/octet-stream`), all integers little-endian:
 *
 *   "TMRS" | version u8 = 1 | headerLen u32 | header JSON {target, lsn, components: [ids]}
 *   per recovered component (in id order; as they complete in a streamed recovery):
 *     0x01 | idLen u8 | componentId (ASCII) | recordCount u32
 *     recordCount × ( keyLen u32 | key | valueLen u32 | value )        in key order
 *   0x00 | trailerLen u32 | trailer JSON {components: [outcome], stats}   the stream is complete
 *   — or, when it fails after it started —
 *   0xEE | errorLen u32 | JSON {code, message}                            the stream stops there
 *
 * A stream that ends without 0x00 or 0xEE was cut short.
 */
export const BINARY_MAGIC = 'TMRS';
export const BINARY_VERSION = 1;
const TAG_END = 0x00;
const TAG_COMPONENT = 0x01;
const TAG_ERROR = 0xee;
/** Records are gathered into chunks of about this size. */
const CHUNK_BYTES = 64 * 1024;

function jsonFrame(prefix: Buffer, value: unknown): Buffer {
  const json = Buffer.from(JSON.stringify(value), 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32LE(json.length, 0);
  return Buffer.concat([prefix, length, json]);
}

export async function* toBinaryStream(result: RecoveryResult): AsyncGenerator<Buffer> {
  yield binaryHeader(result.target, result.lsn, announcedComponents(result));
  for (const component of sortedComponents(result)) yield* binaryComponent(component);
  yield binaryEnd(result.components, result.stats);
}

/** The stream's first frame: magic, version, and the header JSON. */
export function binaryHeader(target: RecoveryTarget, lsn: number, components: readonly string[]): Buffer {
  const magic = Buffer.alloc(5);
  magic.write(BINARY_MAGIC, 0, 'latin1');
  magic[4] = BINARY_VERSION;
  return jsonFrame(magic, { target, lsn, components });
}

/** One recovered component's frame, in chunks of about CHUNK_BYTES. */
export function* binaryComponent(component: SlicedComponent | ComponentSnapshot): Generator<Buffer> {
  const id = Buffer.from(component.componentId, 'latin1');
  const head = Buffer.alloc(1 + 1 + id.length + 4);
  head[0] = TAG_COMPONENT;
  head[1] = id.length;
  id.copy(head, 2);
  const slices = slicesOf(component);
  head.writeUInt32LE(sliceRecordCount(slices), 2 + id.length);
  // The head goes with the first records, so that a small component is one chunk.
  let pending: Buffer | undefined = head;
  for (const chunk of streamRecordChunks(slices, CHUNK_BYTES)) {
    yield pending === undefined ? chunk : Buffer.concat([pending, chunk]);
    pending = undefined;
  }
  if (pending !== undefined) yield pending;
}

/** The frame that ends a whole stream: every component's outcome and the stats. */
export function binaryEnd(components: readonly ComponentOutcome[], stats: RecoveryResult['stats']): Buffer {
  return jsonFrame(Buffer.from([TAG_END]), { components, stats });
}

/** The frame that ends a binary stream that failed after it started. */
export function binaryErrorFrame(error: unknown): Buffer {
  return jsonFrame(Buffer.from([TAG_ERROR]), describeError(error));
}

function malformed(message: string, offset: number): TidemarkError {
  return new TidemarkError('DESERIALIZATION_ERROR', `recovery stream: ${message} at byte ${offset}`, {
    details: { offset },
  });
}

/** Parses a whole binary recovery stream. DESERIALIZATION_ERROR on malformed bytes; a cut stream is `complete: false`. */
export function readBinaryStream(bytes: Buffer): StreamedRecovery {
  let at = 0;
  const need = (n: number) => {
    if (bytes.length - at < n) throw malformed(`truncated (${n} more bytes expected)`, at);
  };
  const u32 = () => {
    need(4);
    at += 4;
    return bytes.readUInt32LE(at - 4);
  };
  const json = <T>(): T => {
    const length = u32();
    need(length);
    at += length;
    try {
      return JSON.parse(bytes.toString('utf8', at - length, at)) as T;
    } catch {
      throw malformed('a JSON frame does not parse', at - length);
    }
  };
  if (bytes.length > 0 && bytes[0] === 0x7b) {
    throw malformed('not a TMRS stream (it looks like NDJSON: read it with readNdjson)', 0);
  }
  need(5);
  if (bytes.toString('latin1', 0, 4) !== BINARY_MAGIC) throw malformed('not a TMRS stream', 0);
  if (bytes[4] !== BINARY_VERSION) {
    throw new TidemarkError(
      'UNSUPPORTED_VERSION',
      `recovery stream version ${bytes[4]} is not supported (this reader knows ${BINARY_VERSION})`,
      { details: { version: bytes[4] } },
    );
  }
  at = 5;
  const out: StreamedRecovery = {
    header: json<StreamedRecovery['header']>(),
    state: new Map(),
    outcomes: [],
    complete: false,
  };
  while (at < bytes.length) {
    const tag = bytes[at++];
    if (tag === TAG_COMPONENT) {
      need(1);
      const idLength = bytes[at++]!;
      need(idLength);
      const id = bytes.toString('latin1', at, at + idLength);
      at += idLength;
      const count = u32();
      const records: { key: Buffer; value: Buffer }[] = [];
      for (let i = 0; i < count; i++) {
        const keyLength = u32();
        need(keyLength);
        const key = bytes.subarray(at, at + keyLength);
        at += keyLength;
        const valueLength = u32();
        need(valueLength);
        records.push({ key, value: bytes.subarray(at, at + valueLength) });
        at += valueLength;
      }
      out.state.set(id, records);
    } else if (tag === TAG_END) {
      const trailer = json<{ components: StreamedRecovery['outcomes']; stats: StreamedRecovery['stats'] }>();
      out.outcomes = trailer.components;
      out.stats = trailer.stats;
      out.complete = true;
    } else if (tag === TAG_ERROR) {
      out.error = json<StreamedRecovery['error']>();
    } else {
      throw malformed(`unknown tag ${String(tag)}`, at - 1);
    }
    if (out.complete || out.error) break;
  }
  for (const outcome of out.outcomes) {
    if (!outcome.error && !out.state.has(outcome.componentId)) out.state.set(outcome.componentId, []);
  }
  return out;
}
