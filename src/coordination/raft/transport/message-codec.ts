import { invalidArgument, quoteInput, TidemarkError } from '../../../lib/errors';
import type { Entry, EntryKind, Membership, Message, MessageType, NodeId, Snapshot } from '../core/types';
import { WireReader } from './wire-reader';
import { varintSize, writeVarint } from './wire-varint';

/**
 * The binary form of Raft messages between nodes: a batch is what one frame of a stream (or one request) carries.
 *
 *   batch    = version:u8 (=1) count:varint message{count}            — nothing may follow
 *   message  = type:u8 flags:u8 from:id to:id term logTerm index commit rejectHint context :varint
 *              entryCount:varint entry{entryCount} [snapshot, when flags has SNAPSHOT]
 *   entry    = term:varint index:varint kind:u8 length:varint data{length}
 *   snapshot = index:varint term:varint voterCount:varint id{voterCount} learnerCount:varint
 *              id{learnerCount} length:varint data{length}
 *   id       = length:u8 utf8{length}
 *   flags    = REJECT 1 | FORCE 2 | SNAPSHOT 4;   type and kind: the codes below (wire-stable)
 *   varint   = unsigned LEB128 of a safe integer (wire-varint.ts)
 *
 * Varints because terms, counts and lengths are small and indexes grow slowly: an entry costs ~8 bytes of
 * framing rather than 21 with fixed u64s. Encoding measures the whole batch first, then writes it into one
 * Buffer, copying each entry's data once. Decoding checks every length against what is left and refuses
 * anything malformed with DESERIALIZATION_ERROR.
 *
 * Decoded `data` (entries' and the snapshot's) are views of the input, not copies: they keep the whole
 * input alive, and they change if the input is written to. A caller that keeps them long copies them.
 */

export const CODEC_VERSION = 1;

/** Node ids are short strings: a u8 length. */
export const MAX_ID_BYTES = 255;

/** An entry's or a snapshot's data: larger is refused on both sides (a 1 GiB snapshot needs chunking). */
export const MAX_DATA_BYTES = 1024 * 1024 * 1024;

/** One batch's bytes at most: below Node's Buffer limit with room to spare. */
export const MAX_BATCH_BYTES = 2 * 1024 * 1024 * 1024 - 1;

const TYPE_CODES: Record<MessageType, number> = {
  preVote: 0,
  preVoteResponse: 1,
  vote: 2,
  voteResponse: 3,
  append: 4,
  appendResponse: 5,
  heartbeat: 6,
  heartbeatResponse: 7,
  snapshot: 8,
  timeoutNow: 9,
  propose: 10,
};
const TYPES_BY_CODE = invert(TYPE_CODES);

const KIND_CODES: Record<EntryKind, number> = { normal: 0, config: 1 };
const KINDS_BY_CODE = invert(KIND_CODES);

const REJECT = 1;
const FORCE = 2;
const SNAPSHOT = 4;
const KNOWN_FLAGS = REJECT | FORCE | SNAPSHOT;

/** The smallest encodings, for refusing counts that cannot fit in the bytes left before looping on them. */
const MIN_MESSAGE_BYTES = 2 + 1 + 1 + 6 + 1;
const MIN_ENTRY_BYTES = 4;
const MIN_ID_BYTES = 1;

/** The bytes `message` takes in a batch; refuses (INVALID_ARGUMENT) a message that cannot be encoded. */
export function encodedMessageSize(message: Message): number {
  if (typeof TYPE_CODES[message.type] !== 'number') {
    throw invalidArgument(`unknown raft message type ${quoteInput(message.type)}`);
  }
  let size =
    2 +
    idSize(message.from, 'from') +
    idSize(message.to, 'to') +
    safeSize(message.term, 'term') +
    safeSize(message.logTerm, 'logTerm') +
    safeSize(message.index, 'index') +
    safeSize(message.commit, 'commit') +
    safeSize(message.rejectHint, 'rejectHint') +
    safeSize(message.context, 'context') +
    varintSize(message.entries.length);
  for (const entry of message.entries) size += entrySize(entry);
  if (message.snapshot !== undefined) size += snapshotSize(message.snapshot);
  return size;
}

/** The bytes of a batch whose messages take `messageBytes` together. */
export function batchSize(count: number, messageBytes: number): number {
  return 1 + varintSize(count) + messageBytes;
}

/**
 * One Buffer holding `messages` as a batch. `messageBytes`, when the caller has measured the messages
 * already (encodedMessageSize, summed), spares measuring them twice.
 */
export function encodeBatch(messages: readonly Message[], messageBytes?: number): Buffer {
  let bytes = messageBytes;
  if (bytes === undefined) {
    bytes = 0;
    for (const message of messages) bytes += encodedMessageSize(message);
  }
  const size = batchSize(messages.length, bytes);
  if (size > MAX_BATCH_BYTES) throw invalidArgument(`a raft message batch of ${size} bytes is too large`);
  const buf = Buffer.allocUnsafe(size);
  buf[0] = CODEC_VERSION;
  let pos = writeVarint(buf, 1, messages.length);
  for (const message of messages) pos = writeMessage(buf, pos, message);
  if (pos !== size) {
    // Only a wrong `messageBytes` (or a message changed since it was measured) gets here.
    throw new TidemarkError('INTERNAL', `raft batch encoding wrote ${pos} bytes where ${size} were measured`);
  }
  return buf;
}

/** The messages of one batch; DESERIALIZATION_ERROR (or UNSUPPORTED_VERSION) when it is not a valid one. */
export function decodeBatch(input: Uint8Array): Message[] {
  const buf = Buffer.isBuffer(input) ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  const reader = new WireReader(buf);
  const version = reader.u8('version');
  if (version !== CODEC_VERSION) {
    throw new TidemarkError('UNSUPPORTED_VERSION', `raft message batch: version ${version}, expected 1`);
  }
  const count = reader.count('message count', MIN_MESSAGE_BYTES);
  const messages: Message[] = [];
  for (let i = 0; i < count; i++) messages.push(readMessage(reader));
  reader.end();
  return messages;
}

function writeMessage(buf: Buffer, pos: number, message: Message): number {
  buf[pos++] = TYPE_CODES[message.type];
  buf[pos++] =
    (message.reject ? REJECT : 0) |
    (message.force ? FORCE : 0) |
    (message.snapshot !== undefined ? SNAPSHOT : 0);
  pos = writeId(buf, pos, message.from);
  pos = writeId(buf, pos, message.to);
  pos = writeVarint(buf, pos, message.term);
  pos = writeVarint(buf, pos, message.logTerm);
  pos = writeVarint(buf, pos, message.index);
  pos = writeVarint(buf, pos, message.commit);
  pos = writeVarint(buf, pos, message.rejectHint);
  pos = writeVarint(buf, pos, message.context);
  pos = writeVarint(buf, pos, message.entries.length);
  for (const entry of message.entries) {
    pos = writeVarint(buf, pos, entry.term);
    pos = writeVarint(buf, pos, entry.index);
    buf[pos++] = KIND_CODES[entry.kind];
    pos = writeData(buf, pos, entry.data);
  }
  if (message.snapshot !== undefined) pos = writeSnapshot(buf, pos, message.snapshot);
  return pos;
}

function writeSnapshot(buf: Buffer, pos: number, snapshot: Snapshot): number {
  pos = writeVarint(buf, pos, snapshot.index);
  pos = writeVarint(buf, pos, snapshot.term);
  pos = writeIds(buf, pos, snapshot.membership.voters);
  pos = writeIds(buf, pos, snapshot.membership.learners);
  return writeData(buf, pos, snapshot.data);
}

function writeIds(buf: Buffer, pos: number, ids: readonly NodeId[]): number {
  pos = writeVarint(buf, pos, ids.length);
  for (const id of ids) pos = writeId(buf, pos, id);
  return pos;
}

function writeId(buf: Buffer, pos: number, id: NodeId): number {
  const length = buf.write(id, pos + 1, 'utf8');
  buf[pos] = length;
  return pos + 1 + length;
}

function writeData(buf: Buffer, pos: number, data: Uint8Array): number {
  pos = writeVarint(buf, pos, data.byteLength);
  buf.set(data, pos);
  return pos + data.byteLength;
}

function readMessage(reader: WireReader): Message {
  const typeCode = reader.u8('message type');
  const type = TYPES_BY_CODE[typeCode];
  if (type === undefined) throw reader.malformed(`unknown message type ${typeCode}`);
  const flags = reader.u8('message flags');
  if ((flags & ~KNOWN_FLAGS) !== 0) throw reader.malformed(`unknown message flags ${flags}`);
  const from = reader.shortString('from');
  const to = reader.shortString('to');
  const term = reader.varint('term');
  const logTerm = reader.varint('logTerm');
  const index = reader.varint('index');
  const commit = reader.varint('commit');
  const rejectHint = reader.varint('rejectHint');
  const context = reader.varint('context');
  const entryCount = reader.count('entry count', MIN_ENTRY_BYTES);
  const entries: Entry[] = [];
  for (let i = 0; i < entryCount; i++) entries.push(readEntry(reader));
  const snapshot = (flags & SNAPSHOT) !== 0 ? readSnapshot(reader) : undefined;
  return {
    type,
    from,
    to,
    term,
    logTerm,
    index,
    entries,
    commit,
    reject: (flags & REJECT) !== 0,
    rejectHint,
    force: (flags & FORCE) !== 0,
    context,
    snapshot,
  };
}

function readEntry(reader: WireReader): Entry {
  const term = reader.varint('entry term');
  const index = reader.varint('entry index');
  const kindCode = reader.u8('entry kind');
  const kind = KINDS_BY_CODE[kindCode];
  if (kind === undefined) throw reader.malformed(`unknown entry kind ${kindCode}`);
  return { term, index, kind, data: readData(reader, 'entry data') };
}

function readSnapshot(reader: WireReader): Snapshot {
  const index = reader.varint('snapshot index');
  const term = reader.varint('snapshot term');
  const voters = readIds(reader, 'voter');
  const learners = readIds(reader, 'learner');
  const membership: Membership = { voters, learners };
  return { index, term, membership, data: readData(reader, 'snapshot data') };
}

function readIds(reader: WireReader, what: string): NodeId[] {
  const count = reader.count(`${what} count`, MIN_ID_BYTES);
  const ids: NodeId[] = [];
  for (let i = 0; i < count; i++) ids.push(reader.shortString(what));
  return ids;
}

function readData(reader: WireReader, what: string): Buffer {
  const length = reader.varint(`${what} length`);
  if (length > MAX_DATA_BYTES) throw reader.malformed(`${what}: ${length} bytes, more than 1 GiB`);
  return reader.bytes(length, what);
}

function entrySize(entry: Entry): number {
  if (typeof KIND_CODES[entry.kind] !== 'number') {
    throw invalidArgument(`unknown raft entry kind ${quoteInput(entry.kind)}`);
  }
  return safeSize(entry.term, 'entry term') + safeSize(entry.index, 'entry index') + 1 + dataSize(entry.data);
}

function snapshotSize(snapshot: Snapshot): number {
  return (
    safeSize(snapshot.index, 'snapshot index') +
    safeSize(snapshot.term, 'snapshot term') +
    idsSize(snapshot.membership.voters, 'voter') +
    idsSize(snapshot.membership.learners, 'learner') +
    dataSize(snapshot.data)
  );
}

function idsSize(ids: readonly NodeId[], what: string): number {
  let size = varintSize(ids.length);
  for (const id of ids) size += idSize(id, what);
  return size;
}

function idSize(id: NodeId, what: string): number {
  const length = Buffer.byteLength(id, 'utf8');
  if (length > MAX_ID_BYTES) {
    throw invalidArgument(`raft message ${what}: a node id of ${length} bytes (at most ${MAX_ID_BYTES})`);
  }
  return 1 + length;
}

function dataSize(data: Uint8Array): number {
  const length = data.byteLength;
  if (length > MAX_DATA_BYTES) throw invalidArgument(`raft data of ${length} bytes (at most 1 GiB)`);
  return varintSize(length) + length;
}

function safeSize(value: number, what: string): number {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw invalidArgument(`raft message ${what}: ${value} is not a non-negative safe integer`);
  }
  return varintSize(value);
}

function invert<K extends string>(codes: Record<K, number>): (K | undefined)[] {
  const byCode: (K | undefined)[] = [];
  for (const [name, code] of Object.entries(codes) as [K, number][]) byCode[code] = name;
  return byCode;
}
