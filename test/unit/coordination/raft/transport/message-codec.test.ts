import fc from 'fast-check';
import {
  decodeBatch,
  encodeBatch,
  encodedMessageSize,
  MAX_DATA_BYTES,
} from '../../../../../src/coordination/raft/transport/message-codec';
import {
  message,
  type Entry,
  type Message,
  type MessageType,
  type Snapshot,
} from '../../../../../src/coordination/raft/core/types';
import { TidemarkError } from '../../../../../src/lib/errors';

const TYPES: MessageType[] = [
  'preVote',
  'preVoteResponse',
  'vote',
  'voteResponse',
  'append',
  'appendResponse',
  'heartbeat',
  'heartbeatResponse',
  'snapshot',
  'timeoutNow',
  'propose',
];

const nodeId = fc.oneof(
  fc.constantFrom('n1', 'n2', 'node-3.example', ''),
  fc.string({ unit: 'grapheme', maxLength: 12 }).filter((id) => Buffer.byteLength(id) <= 255),
);
const safeInt = fc.oneof(
  fc.nat({ max: 300 }),
  fc.nat(),
  fc.maxSafeNat(),
  fc.constant(Number.MAX_SAFE_INTEGER),
);
const data = fc.uint8Array({ maxLength: 48 });

const entry: fc.Arbitrary<Entry> = fc.record({
  term: safeInt,
  index: safeInt,
  kind: fc.constantFrom('normal' as const, 'config' as const),
  data,
});

const snapshot: fc.Arbitrary<Snapshot> = fc.record({
  index: safeInt,
  term: safeInt,
  membership: fc.record({
    voters: fc.array(nodeId, { maxLength: 5 }),
    learners: fc.array(nodeId, { maxLength: 3 }),
  }),
  data: fc.uint8Array({ maxLength: 300 }),
});

const anyMessage: fc.Arbitrary<Message> = fc.record({
  type: fc.constantFrom(...TYPES),
  from: nodeId,
  to: nodeId,
  term: safeInt,
  logTerm: safeInt,
  index: safeInt,
  entries: fc.array(entry, { maxLength: 5 }),
  commit: safeInt,
  reject: fc.boolean(),
  rejectHint: safeInt,
  force: fc.boolean(),
  context: safeInt,
  snapshot: fc.option(snapshot, { nil: undefined }),
});

const batch = fc.array(anyMessage, { maxLength: 6 });

/** Data as plain Uint8Arrays, so that decoded views of a Buffer compare equal to what was encoded. */
function plain(messages: readonly Message[]): unknown {
  return messages.map((m) => ({
    ...m,
    entries: m.entries.map((e) => ({ ...e, data: Uint8Array.from(e.data) })),
    snapshot: m.snapshot && { ...m.snapshot, data: Uint8Array.from(m.snapshot.data) },
  }));
}

function expectRefused(
  bytes: Uint8Array,
  codes = ['DESERIALIZATION_ERROR', 'UNSUPPORTED_VERSION'],
): TidemarkError {
  try {
    decodeBatch(bytes);
  } catch (error) {
    expect(error).toBeInstanceOf(TidemarkError);
    expect(codes).toContain((error as TidemarkError).code);
    return error as TidemarkError;
  }
  throw new Error('decoded a malformed batch');
}

function expectInvalid(encode: () => unknown, pattern: RegExp): void {
  try {
    encode();
  } catch (error) {
    expect(TidemarkError.is(error, 'INVALID_ARGUMENT')).toBe(true);
    expect((error as Error).message).toMatch(pattern);
    return;
  }
  throw new Error('encoded an invalid message');
}

/** Decodes, or refuses with a TidemarkError: never another error. */
function decodeOrRefuse(bytes: Uint8Array): Message[] | undefined {
  try {
    return decodeBatch(bytes);
  } catch (error) {
    if (!(error instanceof TidemarkError)) throw error;
    return undefined;
  }
}

describe('raft message codec', () => {
  it('round-trips a message of every type with every field set', () => {
    const messages = TYPES.map((type, i) =>
      message({
        type,
        from: 'n1',
        to: 'nœud-2',
        term: 7 + i,
        logTerm: 6,
        index: 2 ** 40 + i,
        commit: 99,
        reject: i % 2 === 0,
        rejectHint: 12,
        force: i % 3 === 0,
        context: 5,
        entries: [
          { term: 7, index: 100, kind: 'normal', data: Buffer.from('put k v') },
          { term: 7, index: 101, kind: 'config', data: new Uint8Array(0) },
        ],
        snapshot:
          type === 'snapshot'
            ? {
                index: 90,
                term: 6,
                membership: { voters: ['n1', 'nœud-2', 'n3'], learners: ['n4'] },
                data: Buffer.alloc(1000, 7),
              }
            : undefined,
      }),
    );
    expect(plain(decodeBatch(encodeBatch(messages)))).toEqual(plain(messages));
  });

  it('round-trips any batch of messages, and measures each message exactly', () => {
    fc.assert(
      fc.property(batch, (messages) => {
        const encoded = encodeBatch(messages);
        const measured = messages.reduce((sum, m) => sum + encodedMessageSize(m), 0);
        expect(encodeBatch(messages, measured)).toEqual(encoded);
        expect(plain(decodeBatch(encoded))).toEqual(plain(messages));
      }),
      { numRuns: 300 },
    );
  });

  it('decodes a Uint8Array that is a view into a larger buffer, and hands out views of it', () => {
    const messages = [message({ type: 'append', from: 'a', to: 'b', term: 1, entries: [entry1()] })];
    const encoded = encodeBatch(messages);
    const backing = new Uint8Array(encoded.length + 20);
    backing.set(encoded, 10);
    const decoded = decodeBatch(backing.subarray(10, 10 + encoded.length));
    expect(plain(decoded)).toEqual(plain(messages));
    expect(decoded[0].entries[0].data.buffer).toBe(backing.buffer);
  });

  it('refuses every truncation of a valid encoding with a TidemarkError', () => {
    fc.assert(
      fc.property(fc.array(anyMessage, { maxLength: 3 }), (messages) => {
        const encoded = encodeBatch(messages);
        for (let length = 0; length < encoded.length; length++) expectRefused(encoded.subarray(0, length));
      }),
      { numRuns: 60 },
    );
  });

  it('never crashes on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        decodeOrRefuse(bytes);
        decodeOrRefuse(Uint8Array.of(1, ...bytes)); // past the version byte
      }),
      { numRuns: 2000 },
    );
  });

  it('never crashes on a valid encoding with bytes changed, and what decodes re-encodes', () => {
    fc.assert(
      fc.property(
        batch.filter((messages) => messages.length > 0),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
        (messages, changes) => {
          const bytes = Uint8Array.from(encodeBatch(messages));
          for (const [at, value] of changes) bytes[at % bytes.length] = value;
          const decoded = decodeOrRefuse(bytes);
          if (decoded !== undefined) expect(plain(decodeBatch(encodeBatch(decoded)))).toEqual(plain(decoded));
        },
      ),
      { numRuns: 1000 },
    );
  });

  describe('refuses malformed input', () => {
    const valid = () => encodeBatch([message({ type: 'heartbeat', from: 'a', to: 'b', term: 3 })]);

    it('an unknown version', () => {
      const bytes = valid();
      bytes[0] = 2;
      expect(expectRefused(bytes, ['UNSUPPORTED_VERSION']).message).toMatch(/version 2/);
    });

    it('an unknown message type, flag or entry kind', () => {
      const typed = valid();
      typed[2] = 11;
      expect(expectRefused(typed).message).toMatch(/unknown message type 11/);
      const flagged = valid();
      flagged[3] = 8;
      expect(expectRefused(flagged).message).toMatch(/unknown message flags/);
      const withEntry = encodeBatch([
        message({ type: 'append', from: 'a', to: 'b', term: 3, entries: [entry1()] }),
      ]);
      const kindAt = withEntry.length - entry1().data.length - 2;
      expect(withEntry[kindAt]).toBe(0);
      withEntry[kindAt] = 2;
      expect(expectRefused(withEntry).message).toMatch(/unknown entry kind 2/);
    });

    it('bytes after the last message', () => {
      expect(expectRefused(Buffer.concat([valid(), Buffer.of(0)])).message).toMatch(/unexpected bytes/);
    });

    it('a node id that is not UTF-8', () => {
      const bytes = valid();
      bytes[5] = 0xff; // the id "a" at 4..5
      expect(expectRefused(bytes).message).toMatch(/from: not UTF-8/);
    });

    it('a number beyond 2^53 - 1, or a varint longer than 8 bytes', () => {
      const header = [1, 1, 6, 0, 1, 0x61, 1, 0x62]; // version, count, heartbeat, flags, "a", "b"
      const twoTo53 = [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10];
      expect(expectRefused(Uint8Array.of(...header, ...twoTo53)).message).toMatch(/term: beyond 2\^53 - 1/);
      const maxSafe = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f];
      const rest = [0, 0, 0, 0, 0, 0]; // logTerm … context, no entries
      expect(decodeBatch(Uint8Array.of(...header, ...maxSafe, ...rest))[0].term).toBe(
        Number.MAX_SAFE_INTEGER,
      );
      const nineBytes = [0x81, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00];
      expect(expectRefused(Uint8Array.of(...header, ...nineBytes)).message).toMatch(/longer than 8 bytes/);
    });

    it('counts that cannot fit in what is left', () => {
      expect(expectRefused(Uint8Array.of(1, 0xff, 0xff, 0x7f)).message).toMatch(
        /message count: \d+ cannot fit/,
      );
      const bytes = Uint8Array.of(1, 1, 4, 0, 1, 0x61, 1, 0x62, 0, 0, 0, 0, 0, 0, 0xff, 0x7f);
      expect(expectRefused(bytes).message).toMatch(/entry count: \d+ cannot fit/);
    });

    it('a data length over 1 GiB, or over what is left', () => {
      const prefix = [1, 1, 4, 0, 1, 0x61, 1, 0x62, 0, 0, 0, 0, 0, 0, 1, 1, 1, 0]; // one entry, term 1 index 1
      const overOneGiB = [0x81, 0x80, 0x80, 0x80, 0x04]; // 2^30 + 1
      expect(expectRefused(Uint8Array.of(...prefix, ...overOneGiB)).message).toMatch(/more than 1 GiB/);
      expect(expectRefused(Uint8Array.of(...prefix, 5, 1, 2)).message).toMatch(/5 bytes announced, 2 left/);
    });
  });

  describe('refuses to encode what it cannot carry', () => {
    const base = { type: 'append', from: 'a', to: 'b', term: 1 } as const;

    it('numbers that are not non-negative safe integers', () => {
      for (const bad of [-1, 1.5, 2 ** 53, Number.NaN, Number.POSITIVE_INFINITY]) {
        expectInvalid(
          () => encodeBatch([message({ ...base, term: bad })]),
          /term: .* not a non-negative safe/,
        );
        expectInvalid(
          () => encodeBatch([message({ ...base, entries: [{ ...entry1(), index: bad }] })]),
          /entry index/,
        );
      }
    });

    it('node ids over 255 bytes', () => {
      expect(() => encodeBatch([message({ ...base, from: 'é'.repeat(127) })])).not.toThrow(); // 254 bytes
      expectInvalid(() => encodeBatch([message({ ...base, to: 'x'.repeat(256) })]), /node id of 256 bytes/);
      const membership = { voters: ['y'.repeat(300)], learners: [] };
      const snapshot = { index: 1, term: 1, membership, data: new Uint8Array(0) };
      expectInvalid(() => encodeBatch([message({ ...base, type: 'snapshot', snapshot })]), /voter/);
    });

    it('data over 1 GiB', () => {
      const huge = new Uint8Array(0);
      Object.defineProperty(huge, 'byteLength', { value: MAX_DATA_BYTES + 1 });
      const snapshot = { index: 1, term: 1, membership: { voters: [], learners: [] }, data: huge };
      expectInvalid(() => encodeBatch([message({ ...base, type: 'snapshot', snapshot })]), /at most 1 GiB/);
    });

    it('an unknown type or entry kind', () => {
      expectInvalid(() => encodedMessageSize({ ...message(base), type: 'toString' as MessageType }), /type/);
      const entry = { ...entry1(), kind: 'other' as Entry['kind'] };
      expectInvalid(() => encodedMessageSize(message({ ...base, entries: [entry] })), /entry kind/);
    });
  });
});

function entry1(): Entry {
  return { term: 1, index: 1, kind: 'normal', data: Buffer.from('abc') };
}
