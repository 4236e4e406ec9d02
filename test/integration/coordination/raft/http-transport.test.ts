import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, request, type OutgoingHttpHeaders } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { message, type Message } from '../../../../src/coordination/raft/core/types';
import { encodeBatch } from '../../../../src/coordination/raft/transport/message-codec';
import { HttpRaftTransport } from '../../../../src/coordination/raft/transport/http/http-raft-transport';
import type { HttpRaftTransportOptions } from '../../../../src/coordination/raft/transport/http/http-transport-options';
import {
  FROM_HEADER,
  MESSAGES_ROUTE,
  SIGNATURE_HEADER,
  signBatch,
  TO_HEADER,
} from '../../../../src/coordination/raft/transport/http/raft-http-protocol';
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

function signedHeaders(from: string, to: string, body: Buffer, secret = SECRET): OutgoingHttpHeaders {
  return {
    [FROM_HEADER]: encodeURIComponent(from),
    [TO_HEADER]: encodeURIComponent(to),
    [SIGNATURE_HEADER]: signBatch(Buffer.from(secret), from, to, body),
  };
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

  it('batches what is queued while a request is out: 10,000 messages arrive in order in fewer requests', async () => {
    const [n1, n2] = await Promise.all([startNode('n1', { maxQueuedMessages: 10_000 }), startNode('n2')]);
    connect([n1, n2]);
    for (let i = 0; i < 10_000; i += 100) {
      for (let j = i; j < i + 100; j++) n1.transport.send([append('n1', 'n2', j)]);
      await new Promise((resolve) => setImmediate(resolve));
    }
    await eventually('10,000 messages arrived', () => n2.received.length === 10_000);
    expect(indexes(n2.received)).toEqual(range(0, 10_000));
    const { sentRequests, sentMessages, droppedMessages } = n1.transport.stats().peers.n2;
    expect({ sentMessages, droppedMessages }).toEqual({ sentMessages: 10_000, droppedMessages: 0 });
    expect(sentRequests).toBeLessThan(10_000);
    expect(n2.transport.stats().inbound.receivedRequests).toBe(sentRequests);
  });

  it('keeps one connection per peer and one request in flight', async () => {
    let connections = 0;
    let inFlight = 0;
    let mostInFlight = 0;
    let requests = 0;
    const pending: (() => void)[] = [];
    const peer = createHttpServer((req, res) => {
      requests++;
      mostInFlight = Math.max(mostInFlight, ++inFlight);
      req.resume();
      // Answer later, so that the sender has reason to open a second request (it must not).
      req.on('end', () => pending.push(() => void (inFlight--, res.writeHead(204).end())));
    });
    peer.on('connection', () => connections++);
    await new Promise<void>((resolve) => peer.listen(0, '127.0.0.1', resolve));
    try {
      const n1 = await startNode('n1');
      n1.transport.setPeers(new Map([['p', `127.0.0.1:${(peer.address() as { port: number }).port}`]]));
      for (let round = 0; round < 20; round++) {
        n1.transport.send([append('n1', 'p', round), append('n1', 'p', round + 100)]);
        await eventually(`request ${round + 1} arrived`, () => pending.length > 0 || requests > round);
        await new Promise((resolve) => setImmediate(resolve));
        pending.splice(0).forEach((answer) => answer());
      }
      await eventually('all answered', () => n1.transport.stats().peers.p.queued === 0 && inFlight === 0);
      await eventually('all sent', () => n1.transport.stats().peers.p.sentMessages === 40);
      expect({ connections, mostInFlight }).toEqual({ connections: 1, mostInFlight: 1 });
      expect(requests).toBeLessThan(40);
    } finally {
      await Promise.all(open.splice(0).map((node) => node.transport.close()));
      peer.closeAllConnections();
      await new Promise((resolve) => peer.close(resolve));
    }
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
    await eventually('the request failed', () => n1.transport.stats().peers.n3.failedRequests > 0);
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

  it('keeps delivering to one peer while another hangs, and times out the hanging request', async () => {
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
      // The first request to h is still out; what came after waits, the oldest pushed out past 4.
      expect(n1.transport.stats().peers.h).toMatchObject({
        queued: 4,
        droppedMessages: 5,
        failedRequests: 0,
      });
      expect(hanging.sockets.size).toBe(1);

      clock.advance(2_000);
      await eventually(
        'the hanging request timed out',
        () => n1.transport.stats().peers.h.timedOutRequests === 1,
      );
      expect(n1.transport.stats().peers.h).toMatchObject({
        failedMessages: 1,
        failedRequests: 1,
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
    await eventually('the request failed', () => n1.transport.stats().peers.n2.failedRequests === 1);
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
    n1.transport.send([append('n1', 'n2', 2)]);
    await eventually('that send failed', () => n1.transport.stats().peers.n2.failedRequests === 1);
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
