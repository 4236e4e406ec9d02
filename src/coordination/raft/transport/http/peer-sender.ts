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
  FROM_HEADER,
  headerId,
  MESSAGES_ROUTE,
  SIGNATURE_HEADER,
  signBatch,
  TO_HEADER,
} from './raft-http-protocol';
import type { PeerTransportStats } from './transport-stats';

interface Queued {
  readonly message: Message;
  /** Its encoded size, measured once when queued. */
  readonly size: number;
}

/** How much of a refusal's body is kept for the log. */
const REFUSAL_TEXT_BYTES = 200;

/**
 * The outbound half for one peer: a bounded queue and at most one request in flight on one keep-alive
 * connection. What is queued while a request is out goes together in the next one, in order; a full queue
 * drops its oldest. A request that fails or outlives the timeout loses its messages (Raft resends), and the
 * next waits `retryBackoffMs`, so a down peer is tried a few times a second rather than in a loop. Peers
 * share nothing, so a slow one delays only itself.
 */
export class PeerSender {
  private readonly queue = new Denque<Queued>();
  private queuedBytes = 0;
  private inFlight: { request: ClientRequest; timer: Timer } | undefined;
  private backoff: Timer | undefined;
  /** Whether the last request failed: a streak of failures is warned about once, its end noted once. */
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

  /** Sends what is queued, unless a request is out or a failure's back-off runs (they flush when over). */
  flush(): void {
    if (this.closed || this.inFlight !== undefined || this.backoff !== undefined || this.queue.isEmpty())
      return;
    const { maxBatchBytes, nodeId, secret } = this.options;
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
    try {
      const body = encodeBatch(messages, bytes);
      this.post(body, messages.length, signBatch(secret, nodeId, this.to, body));
    } catch (error) {
      // Nothing here should throw, but flush runs from timers and callbacks too: a throw would be uncaught.
      this.inFlight = undefined;
      this.failed(messages.length, error instanceof Error ? error.message : String(error), false);
    }
  }

  /** Drops what is queued, aborts what is in flight, closes the connection. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.backoff?.cancel();
    this.backoff = undefined;
    this.stats.droppedMessages += this.queue.length;
    this.queue.clear();
    this.queuedBytes = 0;
    this.stats.queued = 0;
    this.inFlight?.request.destroy();
    this.agent.destroy();
  }

  private post(body: Buffer, count: number, signature: string): void {
    const { tls, clock, requestTimeoutMs } = this.options;
    const request = (tls ? httpsRequest : httpRequest)({
      agent: this.agent,
      host: this.address.host,
      port: this.address.port,
      method: 'POST',
      path: MESSAGES_ROUTE,
      headers: {
        'content-type': 'application/octet-stream',
        'content-length': body.length,
        [FROM_HEADER]: headerId(this.options.nodeId),
        [TO_HEADER]: headerId(this.to),
        [SIGNATURE_HEADER]: signature,
      },
    });
    let timedOut = false;
    let done = false;
    const finish = (failure: string | undefined) => {
      if (done) return;
      done = true;
      timer.cancel();
      this.inFlight = undefined;
      if (failure === undefined) this.delivered(count);
      else this.failed(count, timedOut ? `no answer within ${requestTimeoutMs} ms` : failure, timedOut);
    };
    const timer = clock
      .setTimeout(() => {
        timedOut = true;
        request.destroy(new Error('request timed out'));
      }, requestTimeoutMs)
      .unref();
    this.inFlight = { request, timer };
    request.on('error', (error) => finish(error.message));
    request.on('response', (response) => this.readResponse(response, finish));
    request.end(body);
  }

  private readResponse(response: IncomingMessage, finish: (failure: string | undefined) => void): void {
    const status = response.statusCode ?? 0;
    const ok = status >= 200 && status < 300;
    let text = '';
    response.on('data', (chunk: Buffer) => {
      if (!ok && text.length < REFUSAL_TEXT_BYTES) text += chunk.toString('utf8', 0, REFUSAL_TEXT_BYTES);
    });
    response.on('end', () =>
      finish(ok ? undefined : `HTTP ${status}: ${text.trim().slice(0, REFUSAL_TEXT_BYTES)}`),
    );
    response.on('error', (error) => finish(error.message));
    response.on('close', () => finish('the response was cut off'));
  }

  private delivered(count: number): void {
    this.stats.sentMessages += count;
    this.stats.sentRequests++;
    if (this.failing) {
      this.failing = false;
      this.options.logger.info({ peer: this.to }, 'raft peer reachable again');
    }
    this.flush();
  }

  private failed(count: number, reason: string, timedOut: boolean): void {
    this.stats.failedMessages += count;
    this.stats.failedRequests++;
    if (timedOut) this.stats.timedOutRequests++;
    if (this.closed) return;
    const facts = { peer: this.to, reason, lost: count };
    if (this.failing) this.options.logger.debug(facts, 'raft request failed');
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
