import Denque from 'denque';
import {
  Agent as HttpAgent,
  request as httpRequest,
  type ClientRequest,
  type IncomingMessage,
} from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { Timer } from '../../../../lib/clock';
import type { Message, NodeId } from '../../core/types';
import { batchSize, encodeBatch } from '../message-codec';
import type { ResolvedTransportOptions } from './http-transport-options';
import type { PeerAddress } from './peer-address';
import {
  frameHeader,
  FROM_HEADER,
  headerId,
  SIGNATURE_HEADER,
  signBatch,
  STREAM_OPEN,
  STREAM_ROUTE,
  TO_HEADER,
} from './raft-http-protocol';
import type { PeerTransportStats } from './transport-stats';

interface Queued {
  readonly message: Message;
  /** Its encoded size, measured once when queued. */
  readonly size: number;
}

/** A stream to the peer, from its opening request on. */
interface OpenStream {
  readonly request: ClientRequest;
  /** The peer answered 200: frames may go. */
  accepted: boolean;
  /** The last frame was not taken whole: the next waits for 'drain'. */
  blocked: boolean;
  /** Runs while the opening waits for its answer, or a frame for its drain. */
  timer: Timer | undefined;
}

/** How much of a refusal's body is kept for the log. */
const REFUSAL_TEXT_BYTES = 200;

/**
 * The outbound half for one peer: a bounded queue and one stream (raft-http-protocol.ts) on one keep-alive
 * connection. Each flush writes what is queued as frames of signed batches, in order — one socket write per
 * batch, no request and answer per batch (the answer to one request per batch cost each node more CPU than
 * Raft itself). Frames go only once the peer has accepted the stream; while it has not, or a frame waits
 * for the socket to drain, what is queued waits and batches, a full queue dropping its oldest. A stream
 * that cannot be opened (refused, failed, no answer within the timeout) or that stops draining for that
 * long loses what waited (Raft resends), and the next is tried after `retryBackoffMs`, so a down peer is
 * tried a few times a second rather than in a loop. Peers share nothing, so a slow one delays only itself.
 */
export class PeerSender {
  private readonly queue = new Denque<Queued>();
  private queuedBytes = 0;
  private stream: OpenStream | undefined;
  private backoff: Timer | undefined;
  /** Whether the last stream failed: a streak of failures is warned about once, its end noted once. */
  private failing = false;
  private closed = false;
  private readonly agent: HttpAgent;

  constructor(
    private readonly to: NodeId,
    private readonly address: PeerAddress,
    private readonly options: ResolvedTransportOptions,
    /** Kept by the transport across address changes: counts are the peer's, not this sender's. */
    readonly stats: PeerTransportStats,
  ) {
    const { tls } = options;
    this.agent = tls
      ? new HttpsAgent({ keepAlive: true, maxSockets: 1, ca: tls.ca })
      : new HttpAgent({ keepAlive: true, maxSockets: 1 });
  }

  /** Queues one message of `size` encoded bytes; the oldest go when the queue is over its bounds. */
  enqueue(message: Message, size: number): void {
    const { maxBodyBytes, maxQueuedMessages, maxQueuedBytes } = this.options;
    if (this.closed || batchSize(1, size) > maxBodyBytes) {
      this.stats.droppedMessages++;
      return;
    }
    this.queue.push({ message, size });
    this.queuedBytes += size;
    while (this.queue.length > maxQueuedMessages || this.queuedBytes > maxQueuedBytes) {
      const oldest = this.queue.shift() as Queued;
      this.queuedBytes -= oldest.size;
      this.stats.droppedMessages++;
    }
    this.stats.queued = this.queue.length;
  }

  /** Writes what is queued to the stream (opening one if none is open), unless a back-off runs. */
  flush(): void {
    if (this.closed || this.backoff !== undefined || this.queue.isEmpty()) return;
    const stream = this.stream ?? this.open();
    if (!stream.accepted || stream.blocked) return;
    try {
      while (!this.queue.isEmpty() && !stream.blocked) this.writeFrame(stream);
    } catch (error) {
      // Nothing here should throw, but flush runs from callbacks too: a throw would be uncaught.
      this.end(stream, error instanceof Error ? error.message : String(error), false);
    }
  }

  /** Drops what is queued, cuts the stream, closes the connection. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.backoff?.cancel();
    this.backoff = undefined;
    this.stats.droppedMessages += this.queue.length;
    this.queue.clear();
    this.queuedBytes = 0;
    this.stats.queued = 0;
    const stream = this.stream;
    this.stream = undefined;
    stream?.timer?.cancel();
    stream?.request.destroy();
    this.agent.destroy();
  }

  private writeFrame(stream: OpenStream): void {
    const { maxBatchBytes, nodeId, secret, clock, requestTimeoutMs } = this.options;
    const messages: Message[] = [];
    let bytes = 0;
    for (let next = this.queue.peekFront(); next !== undefined; next = this.queue.peekFront()) {
      if (messages.length > 0 && batchSize(messages.length + 1, bytes + next.size) > maxBatchBytes) break;
      this.queue.shift();
      messages.push(next.message);
      bytes += next.size;
    }
    this.queuedBytes -= bytes;
    this.stats.queued = this.queue.length;
    const batch = encodeBatch(messages, bytes);
    const { request } = stream;
    request.cork();
    request.write(frameHeader(secret, nodeId, this.to, batch));
    const taken = request.write(batch);
    request.uncork();
    this.stats.sentMessages += messages.length;
    this.stats.sentBatches++;
    if (!taken) {
      stream.blocked = true;
      stream.timer = clock
        .setTimeout(
          () => this.end(stream, `no progress writing within ${requestTimeoutMs} ms`, true),
          requestTimeoutMs,
        )
        .unref();
    }
  }

  private open(): OpenStream {
    const { tls, clock, requestTimeoutMs, nodeId, secret } = this.options;
    const request = (tls ? httpsRequest : httpRequest)({
      agent: this.agent,
      host: this.address.host,
      port: this.address.port,
      method: 'POST',
      path: STREAM_ROUTE,
      headers: {
        'content-type': 'application/octet-stream',
        [FROM_HEADER]: headerId(nodeId),
        [TO_HEADER]: headerId(this.to),
        [SIGNATURE_HEADER]: signBatch(secret, nodeId, this.to, STREAM_OPEN),
      },
    });
    const stream: OpenStream = { request, accepted: false, blocked: false, timer: undefined };
    this.stream = stream;
    stream.timer = clock
      .setTimeout(() => this.end(stream, `no answer within ${requestTimeoutMs} ms`, true), requestTimeoutMs)
      .unref();
    request.on('error', (error) => this.end(stream, error.message, false));
    request.on('close', () => this.end(stream, 'the stream was cut off', false));
    request.on('response', (response) => this.answered(stream, response));
    request.on('drain', () => {
      if (this.stream !== stream || !stream.blocked) return;
      stream.blocked = false;
      stream.timer?.cancel();
      stream.timer = undefined;
      this.flush();
    });
    request.flushHeaders();
    return stream;
  }

  private answered(stream: OpenStream, response: IncomingMessage): void {
    const status = response.statusCode ?? 0;
    if (status !== 200) {
      let text = '';
      response.on('data', (chunk: Buffer) => {
        if (text.length < REFUSAL_TEXT_BYTES) text += chunk.toString('utf8', 0, REFUSAL_TEXT_BYTES);
      });
      response.on('end', () =>
        this.end(stream, `HTTP ${status}: ${text.trim().slice(0, REFUSAL_TEXT_BYTES)}`, false),
      );
      return;
    }
    response.resume(); // nothing is sent on it; its end is the stream's
    response.on('end', () => this.end(stream, 'the peer ended the stream', false));
    stream.accepted = true;
    stream.timer?.cancel();
    stream.timer = undefined;
    this.stats.openedStreams++;
    if (this.failing) {
      this.failing = false;
      this.options.logger.info({ peer: this.to }, 'raft peer reachable again');
    }
    this.flush();
  }

  /**
   * The stream is over (once: later calls for it change nothing). One the peer had accepted and that ended
   * without a timeout (the peer closed a quiet stream, or went away) is followed at once by another if
   * anything waits — whether the peer is there shows then. Any other is a failure: what waited is lost.
   */
  private end(stream: OpenStream, reason: string, timedOut: boolean): void {
    if (this.stream !== stream) return;
    this.stream = undefined;
    stream.timer?.cancel();
    stream.request.destroy();
    if (this.closed) return;
    if (stream.accepted && !timedOut) {
      this.options.logger.debug({ peer: this.to, reason }, 'raft stream ended');
      this.flush();
      return;
    }
    this.stats.failedStreams++;
    if (timedOut) this.stats.timedOutStreams++;
    this.stats.failedMessages += this.queue.length;
    this.queue.clear();
    this.queuedBytes = 0;
    this.stats.queued = 0;
    const facts = { peer: this.to, reason };
    if (this.failing) this.options.logger.debug(facts, 'raft stream failed');
    else this.options.logger.warn(facts, 'raft peer unreachable: its messages are dropped until it answers');
    this.failing = true;
    this.backoff = this.options.clock
      .setTimeout(() => {
        this.backoff = undefined;
        this.flush();
      }, this.options.retryBackoffMs)
      .unref();
  }
}
