import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, request, type OutgoingHttpHeaders } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { message, type Message } from '../../../../src/coordination/raft/core/types';
import { decodeBatch, encodeBatch } from '../../../../src/coordination/raft/transport/message-codec';
import { HttpRaftTransport } from '../../../../src/coordination/raft/transport/http/http-raft-transport';
import type { HttpRaftTransportOptions } from '../../../../src/coordination/raft/transport/http/http-transport-options';
import {
  frameHeader,
  frameSignatureMatches,
  FROM_HEADER,
  MESSAGES_ROUTE,
  SIGNATURE_HEADER,
  signBatch,
  signOpening,
  STREAM_ROUTE,
  TO_HEADER,
} from '../../../../src/coordination/raft/transport/http/raft-http-protocol';
import { StreamFrameReader } from '../../../../src/coordination/raft/transport/http/stream-frame-reader';
import type { Logger } from '../../../../src/lib/logger';
import { freePort } from '../../../support/child-server';
import { eventually } from '../../../support/eventually';
import { ManualClock } from '../../../support/manual-clock';

const SECRET = 'a cluster secret of some length';

interface LogLine {
  level: 'debug' | 'info' | 'warn' | 'error';
  obj: object;
  msg?: string;
}

class RecordingLogger implements Logger {
  readonly lines: LogLine[] = [];
  debug = (obj: object, msg?: string) => void this.lines.push({ level: 'debug', obj, msg });
  info = (obj: object, msg?: string) => void this.lines.push({ level: 'info', obj, msg });
  warn = (obj: object, msg?: string) => void this.lines.push({ level: 'warn', obj, msg });
  error = (obj: object, msg?: string) => void this.lines.push({ level: 'error', obj, msg });

  warnings(): string[] {
    return this.lines
      .filter((line) => line.level === 'warn')
      .map((line) => `${line.msg} ${JSON.stringify(line.obj)}`);
  }
}

interface Node {
  id: string;
  transport: HttpRaftTransport;
  received: Message[];
  logger: RecordingLogger;
  address: string;
}

const open: Node[] = [];
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => void unhandled.push(reason);

beforeAll(() => process.on('unhandledRejection', onUnhandled));
afterEach(async () => {
  await Promise.all(open.splice(0).map((node) => node.transport.close()));
  expect(unhandled).toEqual([]);
});
afterAll(() => process.off('unhandledRejection', onUnhandled));

async function startNode(id: string, options: Partial<HttpRaftTransportOptions> = {}): Promise<Node> {
  const logger = new RecordingLogger();
  const transport = new HttpRaftTransport({
    nodeId: id,
    listen: '127.0.0.1:0',
    secret: SECRET,
    logger,
    ...options,
  });
  const received: Message[] = [];
  await transport.start((messages) => received.push(...messages));
  const node = { id, transport, received, logger, address: transport.address() as string };
  open.push(node);
  return node;
}

/** Every node knows every other (and `extra`). */
function connect(nodes: Node[], extra: [string, string][] = []): void {
  const peers = new Map([...nodes.map((node): [string, string] => [node.id, node.address]), ...extra]);
  for (const node of nodes) node.transport.setPeers(peers);
}

function append(from: string, to: string, index: number): Message {
  const data = Buffer.from(`entry ${index}`);
  return message({
    type: 'append',
    from,
    to,
    term: 2,
    index,
    entries: [{ term: 2, index, kind: 'normal', data }],
  });
}

function indexes(messages: Message[], from?: string): number[] {
  return messages.filter((m) => from === undefined || m.from === from).map((m) => m.index);
}

function range(from: number, count: number): number[] {
  return Array.from({ length: count }, (_, i) => from + i);
}

/** A raw POST to a transport's route: the status and the plain body. */
async function post(
  address: string,
  headers: OutgoingHttpHeaders,
  body: Buffer,
  options: { path?: string; method?: string; chunked?: boolean } = {},
): Promise<{ status: number; text: string }> {
  const [host, port] = address.split(':');
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host,
        port: Number(port),
        method: options.method ?? 'POST',
        path: options.path ?? MESSAGES_ROUTE,
        headers: options.chunked ? headers : { ...headers, 'content-length': body.length },
      },
      (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

interface StreamReply {
  status: number;
  /** Whether the answer ended in order or the connection was cut. */
  ended: 'end' | 'cut';
  /** The acknowledged counts, and the refusal's reason if there was one. */
  acks: number[];
  refusal?: string;
}

/** A stream opened by hand: `bytes` written, then the request ended. */
async function postStream(
  address: string,
  headers: OutgoingHttpHeaders,
  bytes: Buffer,
): Promise<StreamReply> {
  const [host, port] = address.split(':');
  return new Promise((resolve, reject) => {
    const req = request({ host, port: Number(port), method: 'POST', path: STREAM_ROUTE, headers }, (res) => {
      let ended: 'end' | 'cut' = 'cut';
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => (ended = 'end'));
      res.on('error', () => undefined);
      res.on('close', () => {
        const body = Buffer.concat(chunks);
        const reply: StreamReply = { status: res.statusCode ?? 0, ended, acks: [] };
        for (let at = 0; at + 4 <= body.length; at += 4) {
          const word = body.readUInt32LE(at);
          if (word !== 0xffffffff) {
            reply.acks.push(word);
            continue;
          }
          reply.refusal = body.toString('utf8', at + 4);
          break;
        }
        resolve(reply);
      });
    });
    req.on('error', (error) => (req.writableEnded ? undefined : reject(error)));
    req.end(bytes);
  });
}

function signedHeaders(from: string, to: string, body: Buffer, secret = SECRET): OutgoingHttpHeaders {
  return {
    [FROM_HEADER]: encodeURIComponent(from),
    [TO_HEADER]: encodeURIComponent(to),
    [SIGNATURE_HEADER]: signBatch(Buffer.from(secret), from, to, body),
  };
}

/** The headers that open a stream from `from` to `to`. */
function openHeaders(from: string, to: string): OutgoingHttpHeaders {
  return {
    [FROM_HEADER]: encodeURIComponent(from),
    [TO_HEADER]: encodeURIComponent(to),
    [SIGNATURE_HEADER]: signOpening(Buffer.from(SECRET), from, to),
  };
}

/** One frame of a stream: `batch` signed for `from` → `to`. */
function frame(from: string, to: string, batch: Buffer, secret = SECRET): Buffer {
  return Buffer.concat([frameHeader(Buffer.from(secret), from, to, batch), batch]);
}

/** A TCP server that accepts connections and reads requests but never answers. */
async function startHangingServer(): Promise<{
  address: string;
  sockets: Set<Socket>;
  close(): Promise<void>;
}> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.resume();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    address: `127.0.0.1:${port}`,
    sockets,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

describe('HTTP raft transport', () => {
  it('exchanges messages between three nodes, in order per sender', async () => {
    const nodes = await Promise.all(['n1', 'n2', 'n3'].map((id) => startNode(id)));
    connect(nodes);
    for (let round = 0; round < 50; round++) {
      for (const node of nodes) {
        node.transport.send(
          nodes.filter((peer) => peer !== node).map((peer) => append(node.id, peer.id, round)),
        );
      }
    }
    await eventually('every node has 100 messages', () =>
      nodes.every((node) => node.received.length === 100),
    );
    for (const node of nodes) {
      for (const peer of nodes.filter((other) => other !== node)) {
        expect(indexes(node.received, peer.id)).toEqual(range(0, 50));
      }
      expect(
        node.received.every((m) => m.to === node.id && m.entries[0].data.toString() === `entry ${m.index}`),
      ).toBe(true);
    }
    const stats = nodes[0].transport.stats();
    expect(stats.peers.n2).toMatchObject({ address: nodes[1].address, sentMessages: 50, droppedMessages: 0 });
    expect(stats.inbound.receivedMessages).toBe(100);
  });

  it('batches what waits while the stream opens: 10,000 messages arrive in order, in fewer frames', async () => {
    const [n1, n2] = await Promise.all([startNode('n1', { maxQueuedMessages: 10_000 }), startNode('n2')]);
    connect([n1, n2]);
    for (let i = 0; i < 10_000; i += 100) {
      for (let j = i; j < i + 100; j++) n1.transport.send([append('n1', 'n2', j)]);
      await new Promise((resolve) => setImmediate(resolve));
    }
    await eventually('10,000 messages arrived', () => n2.received.length === 10_000);
    expect(indexes(n2.received)).toEqual(range(0, 10_000));
    const { sentBatches, sentMessages, droppedMessages, openedStreams } = n1.transport.stats().peers.n2;
    expect({ sentMessages, droppedMessages, openedStreams }).toEqual({
      sentMessages: 10_000,
      droppedMessages: 0,
      openedStreams: 1,
    });
    // The first hundred waited for the stream's answer, and went as one frame.
    expect(sentBatches).toBeLessThanOrEqual(10_000 - 99);
    expect(n2.transport.stats().inbound).toMatchObject({ receivedBatches: sentBatches, openedStreams: 1 });
  });

  it('keeps one connection and one stream per peer: every batch a frame of it, signed', async () => {
    let connections = 0;
    let requests = 0;
    const frames: { signed: boolean; indexes: number[] }[] = [];
    const peer = createHttpServer((req, res) => {
      requests++;
      res.writeHead(req.url === STREAM_ROUTE ? 200 : 404).flushHeaders();
      const reader = new StreamFrameReader(1 << 20);
      req.on('data', (chunk: Buffer) => {
        for (const frame of reader.push(chunk).frames) {
          const signed = frameSignatureMatches(Buffer.from(SECRET), 'n1', 'p', frame.batch, frame.signature);
          frames.push({ signed, indexes: decodeBatch(frame.batch).map((m) => m.index) });
        }
      });
    });
    peer.on('connection', () => connections++);
    await new Promise<void>((resolve) => peer.listen(0, '127.0.0.1', resolve));
    try {
      const n1 = await startNode('n1');
      n1.transport.setPeers(new Map([['p', `127.0.0.1:${(peer.address() as { port: number }).port}`]]));
      for (let round = 0; round < 20; round++) {
        n1.transport.send([append('n1', 'p', round), append('n1', 'p', round + 100)]);
        await new Promise((resolve) => setImmediate(resolve));
      }
      await eventually('all 40 arrived', () => frames.flatMap((f) => f.indexes).length === 40);
      expect(frames.flatMap((f) => f.indexes)).toEqual(range(0, 20).flatMap((i) => [i, i + 100]));
      expect(frames.every((f) => f.signed)).toBe(true);
      expect({ connections, requests }).toEqual({ connections: 1, requests: 1 });
      expect(n1.transport.stats().peers.p).toMatchObject({ sentMessages: 40, sentBatches: frames.length });
    } finally {
      await Promise.all(open.splice(0).map((node) => node.transport.close()));
      peer.closeAllConnections();
      await new Promise((resolve) => peer.close(resolve));
    }
  });

  it('fails a stream the peer stops acknowledging, or on which it refuses a frame: lost, counted, backed off', async () => {
    let mode: 'silent' | 'refusing' = 'silent';
    const peer = createHttpServer((req, res) => {
      res.writeHead(200).flushHeaders();
      req.once('data', () => {
        if (mode === 'refusing')
          res.end(Buffer.concat([Buffer.from([0xff, 0xff, 0xff, 0xff]), Buffer.from('no thanks')]));
      });
      req.resume();
    });
    await new Promise<void>((resolve) => peer.listen(0, '127.0.0.1', resolve));
    try {
      const clock = new ManualClock();
      const n1 = await startNode('n1', { clock, requestTimeoutMs: 2_000, retryBackoffMs: 100 });
      n1.transport.setPeers(new Map([['p', `127.0.0.1:${(peer.address() as { port: number }).port}`]]));
      n1.transport.send([append('n1', 'p', 1)]);
      await eventually('the frame went', () => n1.transport.stats().peers.p.sentMessages === 1);
      // Written into a live connection, never acknowledged: TCP alone would not say the peer is gone.
      n1.transport.send([append('n1', 'p', 2)]);
      await eventually('the second frame went', () => n1.transport.stats().peers.p.sentMessages === 2);
      clock.advance(2_000);
      await eventually('the silent stream failed', () => n1.transport.stats().peers.p.timedOutStreams === 1);
      expect(n1.transport.stats().peers.p).toMatchObject({ failedStreams: 1, openedStreams: 1 });
      expect(n1.logger.warnings().join('\n')).toMatch(/nothing acknowledged within 2000 ms/);

      mode = 'refusing';
      n1.transport.send([append('n1', 'p', 3)]); // waits out the back-off, then goes on a new stream
      expect(n1.transport.stats().peers.p.queued).toBe(1);
      clock.advance(100);
      await eventually('the refused stream failed', () => n1.transport.stats().peers.p.failedStreams === 2);
      expect(n1.transport.stats().peers.p).toMatchObject({
        openedStreams: 2,
        timedOutStreams: 1,
        sentMessages: 3,
      });
      expect(n1.logger.lines.map((line) => JSON.stringify(line.obj)).join('\n')).toMatch(
        /refused a frame: no thanks/,
      );
    } finally {
      await Promise.all(open.splice(0).map((node) => node.transport.close()));
      peer.closeAllConnections();
      await new Promise((resolve) => peer.close(resolve));
    }
  });

  it('keeps a stream whose peer acknowledges what it takes', async () => {
    const clock = new ManualClock();
    const [n1, n2] = await Promise.all([
      startNode('n1', { clock, requestTimeoutMs: 2_000 }),
      startNode('n2'),
    ]);
    connect([n1, n2]);
    n1.transport.send([append('n1', 'n2', 1)]);
    await eventually('delivered', () => n2.received.length === 1);
    await new Promise((resolve) => setTimeout(resolve, 50)); // the acknowledgement's way back
    clock.advance(2_000);
    n1.transport.send([append('n1', 'n2', 2)]);
    await eventually('delivered on the same stream', () => n2.received.length === 2);
    expect(n1.transport.stats().peers.n2).toMatchObject({
      openedStreams: 1,
      failedStreams: 0,
      timedOutStreams: 0,
    });
  });

  it('refuses to start on a port that is taken: ADDRESS_IN_USE', async () => {
    const n1 = await startNode('n1');
    const twin = new HttpRaftTransport({ nodeId: 'n1', listen: n1.address, secret: SECRET });
    await expect(twin.start(() => undefined)).rejects.toMatchObject({ code: 'ADDRESS_IN_USE' });
    await twin.close();
  });

  it('drops messages to a peer that is down, and delivers later ones once it is up', async () => {
    const port = await freePort();
    const n1 = await startNode('n1', { retryBackoffMs: 10 });
    n1.transport.setPeers(new Map([['n3', `127.0.0.1:${port}`]]));
    n1.transport.send(range(0, 5).map((i) => append('n1', 'n3', i)));
    await eventually('the stream failed', () => n1.transport.stats().peers.n3.failedStreams > 0);
    expect(n1.logger.warnings().join('\n')).toMatch(/raft peer unreachable/);

    const n3 = await startNode('n3', { listen: `127.0.0.1:${port}` });
    n3.transport.setPeers(new Map([['n1', n1.address]]));
    let next = 100;
    await eventually('a later message arrived', () => {
      n1.transport.send([append('n1', 'n3', next++)]);
      return n3.received.length > 0;
    });
    expect(Math.min(...indexes(n3.received))).toBeGreaterThanOrEqual(100);
    const stats = n1.transport.stats().peers.n3;
    expect(stats.failedMessages + stats.droppedMessages).toBeGreaterThanOrEqual(5);
  });

  it('keeps delivering to one peer while another hangs, and times out the stream it never answers', async () => {
    const hanging = await startHangingServer();
    try {
      const clock = new ManualClock();
      const n1 = await startNode('n1', { clock, requestTimeoutMs: 2_000, maxQueuedMessages: 4 });
      const n2 = await startNode('n2');
      connect([n1, n2], [['h', hanging.address]]);
      n2.transport.setPeers(new Map([['n1', n1.address]]));

      for (let round = 0; round < 10; round++) {
        n1.transport.send([append('n1', 'h', round), append('n1', 'n2', round)]);
        await eventually(`n2 has round ${round}`, () => n2.received.length === round + 1);
      }
      // The stream to h is not answered: what is for h waits, the oldest pushed out past 4.
      expect(n1.transport.stats().peers.h).toMatchObject({
        queued: 4,
        droppedMessages: 6,
        failedStreams: 0,
      });
      expect(hanging.sockets.size).toBe(1);

      clock.advance(2_000);
      await eventually(
        'the hanging stream timed out',
        () => n1.transport.stats().peers.h.timedOutStreams === 1,
      );
      expect(n1.transport.stats().peers.h).toMatchObject({
        queued: 0,
        failedMessages: 4,
        failedStreams: 1,
        sentMessages: 0,
      });
      await eventually('its connection was cut', () => hanging.sockets.size === 0);
      expect(indexes(n2.received)).toEqual(range(0, 10));
    } finally {
      await Promise.all(open.splice(0).map((node) => node.transport.close()));
      await hanging.close();
    }
  });

  it('refuses a sender with the wrong secret: 401, logged without secrets, nothing delivered', async () => {
    const n1 = await startNode('n1', { secret: 'another secret, just as long' });
    const n2 = await startNode('n2');
    connect([n1, n2]);
    n1.transport.send([append('n1', 'n2', 1)]);
    await eventually('the stream was refused', () => n1.transport.stats().peers.n2.failedStreams === 1);
    expect(n2.received).toEqual([]);
    expect(n2.transport.stats().inbound.refused.unauthenticated).toBe(1);
    const warnings = n2.logger.warnings().join('\n');
    expect(warnings).toMatch(/refused a raft request: the signature does not match/);
    expect(warnings).not.toContain(SECRET);
    expect(warnings).not.toContain('another secret');
    expect(warnings).not.toMatch(/[0-9a-f]{64}/);
    expect(n1.logger.warnings().join('\n')).toMatch(/HTTP 401: the signature does not match/);
  });

  describe('refuses requests it cannot trust or read', () => {
    let n2: Node;
    const body = encodeBatch([append('n1', 'n2', 1)]);

    beforeEach(async () => {
      n2 = await startNode('n2', { maxBodyBytes: 1024 });
      n2.transport.setPeers(new Map([['n1', '127.0.0.1:1']]));
    });

    afterEach(() => expect(n2.received).toEqual([]));

    it('accepts a well-signed request (the baseline for the refusals below)', async () => {
      expect(await post(n2.address, signedHeaders('n1', 'n2', body), body)).toEqual({
        status: 204,
        text: '',
      });
      expect(indexes(n2.received.splice(0))).toEqual([1]);
    });

    it('no signature: 401', async () => {
      const { [SIGNATURE_HEADER]: _, ...unsigned } = signedHeaders('n1', 'n2', body);
      expect(await post(n2.address, unsigned, body)).toMatchObject({ status: 401 });
      expect(n2.transport.stats().inbound.refused.unauthenticated).toBe(1);
      expect(n2.logger.warnings().join()).toMatch(/missing sender, recipient or signature/);
    });

    it('a tampered body (the signature of another): 401', async () => {
      const other = encodeBatch([append('n1', 'n2', 2)]);
      expect(await post(n2.address, signedHeaders('n1', 'n2', body), other)).toMatchObject({ status: 401 });
      const garbled = signedHeaders('n1', 'n2', body);
      garbled[SIGNATURE_HEADER] = 'zz' + String(garbled[SIGNATURE_HEADER]).slice(2);
      expect(await post(n2.address, garbled, body)).toMatchObject({ status: 401 });
      expect(n2.transport.stats().inbound.refused.unauthenticated).toBe(2);
    });

    it('an unknown sender: 401', async () => {
      const fromN9 = encodeBatch([append('n9', 'n2', 1)]);
      const reply = await post(n2.address, signedHeaders('n9', 'n2', fromN9), fromN9);
      expect(reply).toEqual({ status: 401, text: 'the sender is not a known peer\n' });
      expect(n2.transport.stats().inbound.refused.unknownSender).toBe(1);
    });

    it('a request for another node: 400', async () => {
      const toN3 = encodeBatch([append('n1', 'n3', 1)]);
      expect(await post(n2.address, signedHeaders('n1', 'n3', toN3), toN3)).toMatchObject({ status: 400 });
      expect(n2.transport.stats().inbound.refused.misdirected).toBe(1);
    });

    it('a malformed body, or messages that do not match the headers: 400', async () => {
      const garbage = Buffer.from('not a batch');
      expect(await post(n2.address, signedHeaders('n1', 'n2', garbage), garbage)).toMatchObject({
        status: 400,
      });
      const truncated = body.subarray(0, body.length - 1);
      expect(await post(n2.address, signedHeaders('n1', 'n2', truncated), truncated)).toMatchObject({
        status: 400,
        text: expect.stringMatching(/truncated|announced/),
      });
      const forged = encodeBatch([append('n3', 'n2', 1)]);
      expect(await post(n2.address, signedHeaders('n1', 'n2', forged), forged)).toMatchObject({
        status: 400,
      });
      expect(n2.transport.stats().inbound.refused.malformed).toBe(3);
    });

    it('a body over the limit: 413, declared or streamed', async () => {
      const big = encodeBatch([message({ ...append('n1', 'n2', 1), entries: [] }), ...oversizeEntries()]);
      expect(await post(n2.address, signedHeaders('n1', 'n2', big), big)).toMatchObject({ status: 413 });
      const reply = await post(n2.address, signedHeaders('n1', 'n2', big), big, { chunked: true });
      expect(reply).toMatchObject({ status: 413 });
      expect(n2.transport.stats().inbound.refused.tooLarge).toBe(2);
    });

    it('another route or method: 404 / 405', async () => {
      expect(await post(n2.address, {}, body, { path: '/raft/v1/other' })).toMatchObject({ status: 404 });
      expect(await post(n2.address, {}, Buffer.alloc(0), { method: 'GET' })).toMatchObject({ status: 405 });
      const get = { method: 'GET', path: STREAM_ROUTE };
      expect(await post(n2.address, {}, Buffer.alloc(0), get)).toMatchObject({ status: 405 });
    });

    describe('on a stream', () => {
      const streamPath = { path: STREAM_ROUTE, chunked: true };

      it('an opening without the stream signature: 401, nothing read', async () => {
        const framed = frame('n1', 'n2', body);
        // Signed as a single batch, not as a stream's opening.
        expect(await post(n2.address, signedHeaders('n1', 'n2', body), framed, streamPath)).toMatchObject({
          status: 401,
        });
        expect(await post(n2.address, {}, framed, streamPath)).toMatchObject({ status: 401 });
        expect(n2.transport.stats().inbound.refused.unauthenticated).toBe(2);
      });

      it('an unknown sender, or a stream for another node: refused before a frame is read', async () => {
        /** A stream opened from `from` to `to`, carrying one well-signed frame. */
        const openFrom = (from: string, to: string) =>
          post(
            n2.address,
            openHeaders(from, to),
            frame(from, to, encodeBatch([append(from, to, 1)])),
            streamPath,
          );
        expect(await openFrom('n9', 'n2')).toMatchObject({
          status: 401,
          text: 'the sender is not a known peer\n',
        });
        expect(await openFrom('n1', 'n3')).toMatchObject({ status: 400 });
        expect(n2.transport.stats().inbound.refused).toMatchObject({ unknownSender: 1, misdirected: 1 });
      });

      it('delivers good frames in order, and ends the stream at the first it cannot trust or read', async () => {
        const good = [1, 2, 3].map((i) => frame('n1', 'n2', encodeBatch([append('n1', 'n2', i)])));
        const other = encodeBatch([append('n1', 'n2', 9)]);
        const bad: [string, Buffer][] = [
          ['unauthenticated', Buffer.concat([frameHeader(Buffer.from(SECRET), 'n1', 'n2', body), other])],
          ['unauthenticated', frame('n1', 'n2', body, 'another secret, just as long')],
          ['malformed', frame('n1', 'n2', Buffer.from('not a batch'))],
          ['malformed', frame('n1', 'n2', encodeBatch([append('n3', 'n2', 1)]))],
          ['tooLarge', frame('n1', 'n2', Buffer.alloc(2_000))],
        ];
        const reasons: string[] = [];
        for (const [reason, wrong] of bad) {
          const before = n2.transport.stats().inbound.refused[reason as 'malformed'];
          // After the good ones: the answer (200) was out already, so the refusal ends it.
          const reply = await postStream(
            n2.address,
            openHeaders('n1', 'n2'),
            Buffer.concat([...good, wrong, ...good]),
          );
          expect(reply).toMatchObject({ status: 200, ended: 'end', refusal: expect.any(String) });
          expect(reply.acks.every((count) => count <= 3)).toBe(true);
          reasons.push(reply.refusal as string);
          expect(indexes(n2.received.splice(0))).toEqual([1, 2, 3]);
          expect(n2.transport.stats().inbound.refused[reason as 'malformed']).toBe(before + 1);
        }
        expect(reasons).toEqual([
          'a frame whose signature does not match',
          'a frame whose signature does not match',
          expect.stringMatching(/version|truncated|announced/),
          'a message whose from/to differ from the headers',
          'a frame of 2000 bytes, over 1024',
        ]);
        expect(n2.transport.stats().inbound).toMatchObject({ openedStreams: 5, receivedBatches: 15 });
      });

      it('reads frames split across chunks at any byte', async () => {
        const frames = Buffer.concat(
          [1, 2, 3, 4].map((i) => frame('n1', 'n2', encodeBatch([append('n1', 'n2', i)]))),
        );
        const reader = new StreamFrameReader(1024);
        const seen: number[] = [];
        for (let at = 0; at < frames.length; at += 7) {
          for (const f of reader.push(frames.subarray(at, at + 7)).frames) {
            expect(frameSignatureMatches(Buffer.from(SECRET), 'n1', 'n2', f.batch, f.signature)).toBe(true);
            seen.push(...decodeBatch(f.batch).map((m) => m.index));
          }
        }
        expect({ seen, buffered: reader.buffered }).toEqual({ seen: [1, 2, 3, 4], buffered: 0 });
        const reply = await postStream(n2.address, openHeaders('n1', 'n2'), frames);
        expect(reply).toMatchObject({ status: 200, ended: 'end' });
        expect(reply.refusal).toBeUndefined();
        expect(reply.acks.length).toBeGreaterThan(0);
        expect(reply.acks.every((count) => count >= 1 && count <= 4)).toBe(true);
        expect(indexes(n2.received.splice(0))).toEqual([1, 2, 3, 4]);
      });
    });
  });

  it('accepts unknown senders when told to', async () => {
    const n2 = await startNode('n2', { acceptUnknownSenders: true });
    const fromN9 = encodeBatch([append('n9', 'n2', 1)]);
    expect(await post(n2.address, signedHeaders('n9', 'n2', fromN9), fromN9)).toMatchObject({ status: 204 });
    expect(indexes(n2.received)).toEqual([1]);
  });

  it('drops, never throws: unknown peers, foreign senders, unencodable and oversize messages, after close', async () => {
    const n1 = await startNode('n1', { maxBodyBytes: 1024 });
    const n2 = await startNode('n2');
    connect([n1, n2]);
    n1.transport.send([
      append('n1', 'n7', 1),
      append('n2', 'n2', 2),
      message({ type: 'heartbeat', from: 'n1', to: 'n2', term: -1 }),
      message({ ...append('n1', 'n2', 3), entries: oversizeEntries()[0].entries }),
      append('n1', 'n2', 4),
    ]);
    await eventually('the last one arrived', () => n2.received.length === 1);
    expect(indexes(n2.received)).toEqual([4]);
    expect(n1.transport.stats()).toMatchObject({
      unroutableMessages: 2,
      peers: { n2: { droppedMessages: 2 } },
    });
    await n1.transport.close();
    expect(() => n1.transport.send([append('n1', 'n2', 5)])).not.toThrow();
    expect(n1.transport.stats().unroutableMessages).toBe(3);
  });

  it('refuses a secret under 16 bytes at construction', () => {
    expect(() => new HttpRaftTransport({ nodeId: 'n1', listen: '127.0.0.1:0', secret: 'short' })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID' }),
    );
  });

  it('close() stops the server and cuts the connections', async () => {
    const [n1, n2] = await Promise.all([startNode('n1'), startNode('n2')]);
    connect([n1, n2]);
    n1.transport.send([append('n1', 'n2', 1)]);
    await eventually('delivered', () => n2.received.length === 1);
    await n2.transport.close();
    await expect(post(n2.address, {}, body())).rejects.toThrow(/ECONNREFUSED/);
    await n2.transport.close(); // idempotent
    // The first may still go into the old stream before its end is seen (lost, as Raft allows).
    let next = 2;
    await eventually('a send failed', () => {
      n1.transport.send([append('n1', 'n2', next++)]);
      return n1.transport.stats().peers.n2.failedStreams === 1;
    });
  });

  const haveOpenssl = hasOpenssl();
  (haveOpenssl ? it : it.skip)('speaks HTTPS when given a certificate (openssl makes one)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tidemark-raft-tls-'));
    try {
      const keyFile = path.join(dir, 'key.pem');
      const certFile = path.join(dir, 'cert.pem');
      execFileSync(
        'openssl',
        [
          ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'],
          ...['-keyout', keyFile, '-out', certFile, '-days', '1', '-subj', '/CN=raft-test'],
          ...['-addext', 'subjectAltName=IP:127.0.0.1'],
        ],
        { stdio: 'ignore' },
      );
      const cert = readFileSync(certFile);
      const tls = { key: readFileSync(keyFile), cert, ca: cert };
      const [n1, n2] = await Promise.all([startNode('n1', { tls }), startNode('n2', { tls })]);
      connect([n1, n2]);
      n1.transport.send(range(0, 20).map((i) => append('n1', 'n2', i)));
      n2.transport.send([append('n2', 'n1', 7)]);
      await eventually('both sides received', () => n2.received.length === 20 && n1.received.length === 1);
      expect(indexes(n2.received)).toEqual(range(0, 20));
      // Plain HTTP to a TLS port is not answered as HTTP.
      await expect(post(n2.address, {}, body())).rejects.toThrow();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

function body(): Buffer {
  return encodeBatch([append('n1', 'n2', 1)]);
}

/** One message whose entry alone is over a 1,024-byte limit. */
function oversizeEntries(): Message[] {
  return [
    message({
      type: 'append',
      from: 'n1',
      to: 'n2',
      term: 2,
      entries: [{ term: 2, index: 9, kind: 'normal', data: Buffer.alloc(2_000, 1) }],
    }),
  ];
}

function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
