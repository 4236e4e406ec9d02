import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { echoInput, TidemarkError } from '../../../../lib/errors';
import type { Message, NodeId } from '../../core/types';
import { decodeBatch } from '../message-codec';
import type { ResolvedTransportOptions } from './http-transport-options';
import { formatPeerAddress } from './peer-address';
import {
  FROM_HEADER,
  idFromHeader,
  MESSAGES_ROUTE,
  SIGNATURE_HEADER,
  signatureMatches,
  TO_HEADER,
} from './raft-http-protocol';
import { RefusalLog } from './refusal-log';
import { emptyRefusals, type InboundTransportStats, type RefusalReason } from './transport-stats';

/** A whole request, headers to last byte: generous for a 64 MiB snapshot on a slow link, finite for a stalled one. */
const INBOUND_REQUEST_TIMEOUT_MS = 120_000;
/** Longer than a heartbeat interval by far, so a peer's one connection stays open between messages. */
const KEEP_ALIVE_TIMEOUT_MS = 30_000;

export interface RaftHttpServerOptions {
  readonly transport: ResolvedTransportOptions;
  /** Whether a sender is in the peers map now. */
  readonly isKnownPeer: (id: NodeId) => boolean;
  readonly onReceive: (messages: Message[]) => void;
}

/**
 * The inbound half: a bare node:http(s) server with one route. A request reaches onReceive only when it is
 * addressed to this node, signed with the cluster secret, from a known sender (unless unknown senders are
 * accepted), within the size limit, and decodes to messages that match its headers. Anything else is
 * answered 4xx with a short plain body, counted and logged; nothing of it is delivered.
 */
export class RaftHttpServer {
  readonly stats: InboundTransportStats = {
    receivedRequests: 0,
    receivedMessages: 0,
    refused: emptyRefusals(),
  };
  private readonly server: Server;
  private readonly refusals: RefusalLog;

  constructor(private readonly options: RaftHttpServerOptions) {
    const { tls, logger, clock } = options.transport;
    const serverOptions = {
      requestTimeout: INBOUND_REQUEST_TIMEOUT_MS,
      keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
    };
    const handler = (req: IncomingMessage, res: ServerResponse) => this.handle(req, res);
    this.server = tls
      ? createHttpsServer({ ...serverOptions, key: tls.key, cert: tls.cert, ca: tls.ca }, handler)
      : createHttpServer(serverOptions, handler);
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
    const { nodeId, acceptUnknownSenders, maxBodyBytes } = this.options.transport;
    const remote = req.socket.remoteAddress;
    if (req.url !== MESSAGES_ROUTE || req.method !== 'POST') {
      return this.refuse(req, res, req.url === MESSAGES_ROUTE ? 405 : 404, 'notFound', 'no such route', {
        remote,
      });
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
    if (Number(req.headers['content-length'] ?? 0) > maxBodyBytes) {
      return this.refuse(req, res, 413, 'tooLarge', `a body over ${maxBodyBytes} bytes`, facts);
    }
    const chunks: Buffer[] = [];
    let length = 0;
    const onData = (chunk: Buffer) => {
      length += chunk.length;
      if (length <= maxBodyBytes) return void chunks.push(chunk);
      req.off('data', onData);
      req.off('end', onEnd);
      this.refuse(req, res, 413, 'tooLarge', `a body over ${maxBodyBytes} bytes`, facts);
    };
    const onEnd = () => this.receive(req, res, from, Buffer.concat(chunks, length), signature, facts);
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', () => undefined); // the sender went away mid-body: nothing to answer
  }

  private receive(
    req: IncomingMessage,
    res: ServerResponse,
    from: NodeId,
    body: Buffer,
    signature: string,
    facts: Record<string, unknown>,
  ): void {
    const { nodeId, secret, logger } = this.options.transport;
    if (!signatureMatches(secret, from, nodeId, body, signature)) {
      return this.refuse(req, res, 401, 'unauthenticated', 'the signature does not match', facts);
    }
    let messages: Message[];
    try {
      messages = decodeBatch(body);
    } catch (error) {
      const detail = error instanceof TidemarkError ? error.message : 'an undecodable body';
      return this.refuse(req, res, 400, 'malformed', detail, facts);
    }
    // The signature covers the body, but a message inside could still name another sender or recipient.
    if (messages.some((message) => message.from !== from || message.to !== nodeId)) {
      return this.refuse(
        req,
        res,
        400,
        'malformed',
        'a message whose from/to differ from the headers',
        facts,
      );
    }
    this.stats.receivedRequests++;
    this.stats.receivedMessages += messages.length;
    try {
      if (messages.length > 0) this.options.onReceive(messages);
    } catch (error) {
      logger.error({ err: error, from: echoInput(from) }, 'the raft receive callback threw');
      return reply(res, 500, 'receive failed');
    }
    reply(res, 204);
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
