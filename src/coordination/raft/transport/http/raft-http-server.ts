import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Timer } from '../../../../lib/clock';
import { echoInput, TidemarkError } from '../../../../lib/errors';
import type { Message, NodeId } from '../../core/types';
import { decodeBatch } from '../message-codec';
import type { ResolvedTransportOptions } from './http-transport-options';
import { formatPeerAddress } from './peer-address';
import {
  FROM_HEADER,
  idFromHeader,
  frameSignatureMatches,
  MESSAGES_ROUTE,
  openingMatches,
  SIGNATURE_HEADER,
  signatureMatches,
  STREAM_ACK_INTERVAL_MS,
  STREAM_REFUSED,
  STREAM_ROUTE,
  TO_HEADER,
} from './raft-http-protocol';
import { StreamFrameReader } from './stream-frame-reader';
import { RefusalLog } from './refusal-log';
import { emptyRefusals, type InboundTransportStats, type RefusalReason } from './transport-stats';

/** A single request, headers to last byte: generous for a 64 MiB snapshot on a slow link, finite for a stalled one. */
const INBOUND_REQUEST_TIMEOUT_MS = 120_000;
/** Headers, on any route. */
const HEADERS_TIMEOUT_MS = 60_000;
/** Connections the server holds at once. */
const MAX_CONNECTIONS = 256;
/** A stream's silence before it is closed: heartbeats (and their answers) keep a live peer's stream busy. */
const STREAM_IDLE_TIMEOUT_MS = 120_000;
/** Longer than a heartbeat interval by far, so a peer's one connection stays open between messages. */
const KEEP_ALIVE_TIMEOUT_MS = 30_000;

export interface RaftHttpServerOptions {
  readonly transport: ResolvedTransportOptions;
  /** Whether a sender is in the peers map now. */
  readonly isKnownPeer: (id: NodeId) => boolean;
  readonly onReceive: (messages: Message[]) => void;
}

/**
 * The inbound half: a bare node:http(s) server with two routes (raft-http-protocol.ts). A batch reaches
 * onReceive only when it is addressed to this node, signed with the cluster secret, from a known sender
 * (unless unknown senders are accepted), within the size limit, and decodes to messages that match its
 * headers. Anything else is answered 4xx with a short plain body (or, inside a stream, ends it), counted and
 * logged; nothing of it is delivered.
 */
export class RaftHttpServer {
  readonly stats: InboundTransportStats = {
    openedStreams: 0,
    receivedBatches: 0,
    receivedMessages: 0,
    refused: emptyRefusals(),
  };
  private readonly server: Server;
  private readonly refusals: RefusalLog;

  constructor(private readonly options: RaftHttpServerOptions) {
    const { tls, logger, clock } = options.transport;
    const serverOptions = {
      // Node's whole-request limit would end every stream: single requests get their own deadline instead.
      requestTimeout: 0,
      // Set on its own: left out, Node takes min(60 s, requestTimeout) — with 0, no limit at all on headers.
      headersTimeout: HEADERS_TIMEOUT_MS,
      keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
    };
    const handler = (req: IncomingMessage, res: ServerResponse) => this.handle(req, res);
    this.server = tls
      ? createHttpsServer({ ...serverOptions, key: tls.key, cert: tls.cert, ca: tls.ca }, handler)
      : createHttpServer(serverOptions, handler);
    // A cluster has a handful of peers, each with a connection or two: far fewer than this.
    this.server.maxConnections = MAX_CONNECTIONS;
    this.refusals = new RefusalLog(logger, clock);
  }

  /** Listens; resolves with the bound `host:port`. ADDRESS_IN_USE when the port is taken. */
  async listen(): Promise<string> {
    const { host, port } = this.options.transport.listen;
    await new Promise<void>((resolve, reject) => {
      const failed = (error: NodeJS.ErrnoException) => {
        if (error.code !== 'EADDRINUSE') return reject(error);
        const message = `the raft transport cannot listen on ${host}:${port}: in use`;
        reject(new TidemarkError('ADDRESS_IN_USE', message, { cause: error }));
      };
      this.server.once('error', failed);
      this.server.listen({ host, port }, () => {
        this.server.off('error', failed);
        resolve();
      });
    });
    this.server.on('error', (error) =>
      this.options.transport.logger.error({ err: error }, 'raft transport server error'),
    );
    const address = this.server.address();
    return typeof address === 'object' && address !== null
      ? formatPeerAddress({ host: address.address, port: address.port })
      : `${host}:${port}`;
  }

  /** Stops listening and cuts every connection, idle or not. */
  async close(): Promise<void> {
    if (!this.server.listening) return;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const { nodeId, acceptUnknownSenders, maxBodyBytes, secret, clock } = this.options.transport;
    const remote = req.socket.remoteAddress;
    const stream = req.url === STREAM_ROUTE;
    if ((req.url !== MESSAGES_ROUTE && !stream) || req.method !== 'POST') {
      const known = req.url === MESSAGES_ROUTE || stream;
      return this.refuse(req, res, known ? 405 : 404, 'notFound', 'no such route', { remote });
    }
    const from = idFromHeader(req.headers[FROM_HEADER]);
    const to = idFromHeader(req.headers[TO_HEADER]);
    const signature = req.headers[SIGNATURE_HEADER];
    const facts = { remote, from: from === undefined ? undefined : echoInput(from) };
    if (from === undefined || to === undefined || typeof signature !== 'string') {
      return this.refuse(req, res, 401, 'unauthenticated', 'missing sender, recipient or signature', facts);
    }
    if (to !== nodeId) {
      return this.refuse(req, res, 400, 'misdirected', `addressed to ${echoInput(to)}, not this node`, facts);
    }
    if (!acceptUnknownSenders && !this.options.isKnownPeer(from)) {
      return this.refuse(req, res, 401, 'unknownSender', 'the sender is not a known peer', facts);
    }
    if (stream) {
      if (!openingMatches(secret, from, nodeId, signature)) {
        return this.refuse(req, res, 401, 'unauthenticated', 'the signature does not match', facts);
      }
      return this.readStream(req, res, from, facts);
    }
    if (Number(req.headers['content-length'] ?? 0) > maxBodyBytes) {
      return this.refuse(req, res, 413, 'tooLarge', `a body over ${maxBodyBytes} bytes`, facts);
    }
    // A single request may not stall or trickle: its connection is cut if the body is not whole in time.
    const deadline = clock.setTimeout(() => req.socket.destroy(), INBOUND_REQUEST_TIMEOUT_MS).unref();
    req.on('close', () => deadline.cancel());
    const chunks: Buffer[] = [];
    let length = 0;
    const onData = (chunk: Buffer) => {
      length += chunk.length;
      if (length <= maxBodyBytes) return void chunks.push(chunk);
      req.off('data', onData);
      req.off('end', onEnd);
      this.refuse(req, res, 413, 'tooLarge', `a body over ${maxBodyBytes} bytes`, facts);
    };
    const onEnd = () => {
      deadline.cancel();
      const body = Buffer.concat(chunks, length);
      if (!signatureMatches(secret, from, nodeId, body, signature)) {
        return this.refuse(req, res, 401, 'unauthenticated', 'the signature does not match', facts);
      }
      const refusal = this.deliver(from, body, facts);
      if (refusal !== undefined)
        return this.refuse(req, res, refusal.status, refusal.reason, refusal.detail, facts);
      reply(res, 204);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', () => undefined); // the sender went away mid-body: nothing to answer
  }

  /**
   * A stream: answered 200 at once (the sender writes frames only then), then read frame by frame for as
   * long as it lasts, each frame taken acknowledged (at most every STREAM_ACK_INTERVAL_MS, so a sender can
   * tell a live peer from a silent one). A frame that is not to be trusted or read ends the stream: the
   * refusal is written on the answer for the sender, counted and logged, and what follows is read and dropped
   * until the sender goes.
   */
  private readStream(
    req: IncomingMessage,
    res: ServerResponse,
    from: NodeId,
    facts: Record<string, unknown>,
  ): void {
    const { nodeId, secret, acceptUnknownSenders, maxBodyBytes, clock } = this.options.transport;
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    res.flushHeaders();
    this.stats.openedStreams++;
    // A stream carries heartbeats or their answers while its peers are alive; a silent one is closed (the
    // sender opens another when it has something to say). node:http destroys a socket that times out when
    // nobody listens for it.
    req.socket.setTimeout(STREAM_IDLE_TIMEOUT_MS);
    const reader = new StreamFrameReader(maxBodyBytes);
    let taken = 0;
    let acknowledgedAt = -Infinity;
    let ackTimer: Timer | undefined;
    let over = false;
    const acknowledge = () => {
      ackTimer = undefined;
      if (over) return;
      acknowledgedAt = clock.monotonic();
      const word = Buffer.allocUnsafe(4);
      word.writeUInt32LE(taken);
      res.write(word);
    };
    const finish = () => {
      over = true;
      ackTimer?.cancel();
      ackTimer = undefined;
    };
    const refuse = (status: number, reason: RefusalReason, detail: string) => {
      finish();
      req.off('data', onData);
      req.resume();
      this.stats.refused[reason]++;
      this.refusals.warn(reason, status, detail, facts);
      const word = Buffer.allocUnsafe(4);
      word.writeUInt32LE(STREAM_REFUSED);
      res.end(Buffer.concat([word, Buffer.from(detail, 'utf8')]));
    };
    const onData = (chunk: Buffer) => {
      const { frames, tooLarge } = reader.push(chunk);
      for (const frame of frames) {
        if (!frameSignatureMatches(secret, from, nodeId, frame.batch, frame.signature)) {
          return refuse(401, 'unauthenticated', 'a frame whose signature does not match');
        }
        if (!acceptUnknownSenders && !this.options.isKnownPeer(from)) {
          return refuse(401, 'unknownSender', 'the sender is not a known peer');
        }
        const refusal = this.deliver(from, frame.batch, facts);
        if (refusal !== undefined) return refuse(refusal.status, refusal.reason, refusal.detail);
        taken = (taken + 1) % STREAM_REFUSED;
      }
      if (tooLarge !== undefined) {
        return refuse(413, 'tooLarge', `a frame of ${tooLarge} bytes, over ${maxBodyBytes}`);
      }
      if (frames.length === 0 || ackTimer !== undefined) return;
      const wait = acknowledgedAt + STREAM_ACK_INTERVAL_MS - clock.monotonic();
      if (wait <= 0) acknowledge();
      else ackTimer = clock.setTimeout(acknowledge, wait).unref();
    };
    req.on('data', onData);
    req.on('end', () => {
      finish();
      if (!res.writableEnded) res.end();
    });
    req.on('close', finish);
    req.on('error', () => undefined);
  }

  /** Decodes a signed batch from `from` and hands its messages on; what was wrong with it, if anything. */
  private deliver(
    from: NodeId,
    batch: Buffer,
    facts: Record<string, unknown>,
  ): { status: number; reason: RefusalReason; detail: string } | undefined {
    const { nodeId, logger } = this.options.transport;
    let messages: Message[];
    try {
      messages = decodeBatch(batch);
    } catch (error) {
      const detail = error instanceof TidemarkError ? error.message : 'an undecodable body';
      return { status: 400, reason: 'malformed', detail };
    }
    // The signature covers the batch, but a message inside could still name another sender or recipient.
    if (messages.some((message) => message.from !== from || message.to !== nodeId)) {
      return { status: 400, reason: 'malformed', detail: 'a message whose from/to differ from the headers' };
    }
    try {
      if (messages.length > 0) this.options.onReceive(messages);
    } catch (error) {
      logger.error({ err: error, ...facts }, 'the raft receive callback threw');
      return { status: 500, reason: 'failed', detail: 'receive failed' };
    }
    this.stats.receivedBatches++;
    this.stats.receivedMessages += messages.length;
    return undefined;
  }

  private refuse(
    req: IncomingMessage,
    res: ServerResponse,
    status: number,
    reason: RefusalReason,
    detail: string,
    facts: Record<string, unknown>,
  ): void {
    this.stats.refused[reason]++;
    this.refusals.warn(reason, status, detail, facts);
    // Closing the connection spares reading (or draining) the rest of a body we will not use.
    res.setHeader('connection', 'close');
    reply(res, status, detail);
    req.resume();
  }
}

function reply(res: ServerResponse, status: number, text?: string): void {
  if (text === undefined) {
    res.writeHead(status).end();
    return;
  }
  const body = Buffer.from(`${text}\n`, 'utf8');
  res
    .writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': body.length })
    .end(body);
}
