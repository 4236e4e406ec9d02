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
  signOpening,
  STREAM_REFUSED,
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
  /** The last frame was not taken whole by the socket: the next waits for 'drain'. */
  blocked: boolean;
  /** Runs while the opening waits for its answer. */
  answerTimer: Timer | undefined;
  /** Frames written, and the count the peer last acknowledged (both modulo ACK_MODULUS). */
  written: number;
  acknowledged: number;
  /** Runs while frames wait for an acknowledgement; `acknowledgedAtWatch` is the count when it started. */
  watch: Timer | undefined;
  acknowledgedAtWatch: number;
  /** A partial word of the answer's body. */
  answerRest: Buffer;
}

/** How a stream ended: of its own accord, or as a failure (what waited is lost), or at a timeout. */
type Ending = 'ended' | 'failed' | 'timedOut';

/** Acknowledged counts wrap below the refusal word. */
const ACK_MODULUS = STREAM_REFUSED;

/** How much of a refusal's text is kept for the log. */
const REFUSAL_TEXT_BYTES = 200;

/**
 * The outbound half for one peer: a bounded queue and one stream (raft-http-protocol.ts) on one keep-alive
 * connection. Each flush writes what is queued as frames of signed batches, in order — one socket write per
 * batch, no request and answer per batch (the HTTP work of a request and answer per batch cost each node
 * more CPU than Raft itself). Frames go only once the peer has accepted the stream; while it has not, or the
 * socket is not drained, what is queued waits and batches, a full queue dropping its oldest.
 *
 * A stream that cannot be opened (refused, failed, no answer within `requestTimeoutMs`), whose frames the
 * peer stops acknowledging for that long (a peer gone silent: paused, partitioned, its host off — TCP alone
 * would not say so for minutes), or on which the peer refuses a frame, is a failure: what waited is lost
 * (Raft resends), and the next stream is tried after `retryBackoffMs`, so a down peer is tried a few times a
 * second rather than in a loop. A stream the peer ends in order is replaced at once when there is something
 * to send. Peers share nothing, so a slow one delays only itself.
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
    let stream = this.stream;
    try {
      stream ??= this.open();
      // A stream destroyed underneath says so on its 'close', soon: nothing more goes into it meanwhile.
      if (!stream.accepted || stream.blocked || stream.request.destroyed) return;
      while (!this.queue.isEmpty() && !stream.blocked) this.writeFrame(stream);
    } catch (error) {
      // Nothing here should throw, but flush runs from callbacks too: a throw would be uncaught.
      const reason = error instanceof Error ? error.message : String(error);
      if (stream === undefined) this.failed(reason, false);
      else this.end(stream, reason, 'failed');
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
    if (stream !== undefined) stopTimers(stream);
    stream?.request.destroy();
    this.agent.destroy();
  }

  private writeFrame(stream: OpenStream): void {
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
    const { request } = stream;
    let taken: boolean;
    try {
      const batch = encodeBatch(messages, bytes);
      request.cork();
      request.write(frameHeader(secret, nodeId, this.to, batch));
      taken = request.write(batch);
      request.uncork();
    } catch (error) {
      this.stats.failedMessages += messages.length;
      throw error;
    }
    this.stats.sentMessages += messages.length;
    this.stats.sentBatches++;
    stream.written = (stream.written + 1) % ACK_MODULUS;
    if (stream.watch === undefined) this.watch(stream);
    if (!taken) stream.blocked = true;
  }

  /** Frames wait for an acknowledgement: the stream fails if none comes within the timeout. */
  private watch(stream: OpenStream): void {
    const { clock, requestTimeoutMs } = this.options;
    stream.acknowledgedAtWatch = stream.acknowledged;
    stream.watch = clock
      .setTimeout(() => {
        stream.watch = undefined;
        if (stream.acknowledged === stream.written) return;
        if (stream.acknowledged === stream.acknowledgedAtWatch) {
          this.end(stream, `nothing acknowledged within ${requestTimeoutMs} ms`, 'timedOut');
        } else {
          this.watch(stream);
        }
      }, requestTimeoutMs)
      .unref();
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
        [SIGNATURE_HEADER]: signOpening(secret, nodeId, this.to),
      },
    });
    const stream: OpenStream = {
      request,
      accepted: false,
      blocked: false,
      answerTimer: undefined,
      written: 0,
      acknowledged: 0,
      watch: undefined,
      acknowledgedAtWatch: 0,
      answerRest: Buffer.alloc(0),
    };
    this.stream = stream;
    stream.answerTimer = clock
      .setTimeout(
        () => this.end(stream, `no answer within ${requestTimeoutMs} ms`, 'timedOut'),
        requestTimeoutMs,
      )
      .unref();
    request.on('error', (error) => this.end(stream, error.message, 'failed'));
    request.on('close', () =>
      this.end(stream, 'the stream was cut off', stream.accepted ? 'ended' : 'failed'),
    );
    request.on('response', (response) => this.answered(stream, response));
    request.on('drain', () => {
      if (this.stream !== stream || !stream.blocked) return;
      stream.blocked = false;
      this.flush();
    });
    request.flushHeaders();
    return stream;
  }

  private answered(stream: OpenStream, response: IncomingMessage): void {
    if (this.stream !== stream) {
      response.resume();
      return;
    }
    const status = response.statusCode ?? 0;
    if (status !== 200) {
      let text = '';
      response.on('data', (chunk: Buffer) => {
        if (text.length < REFUSAL_TEXT_BYTES) text += chunk.toString('utf8', 0, REFUSAL_TEXT_BYTES);
      });
      response.on('end', () =>
        this.end(stream, `HTTP ${status}: ${text.trim().slice(0, REFUSAL_TEXT_BYTES)}`, 'failed'),
      );
      return;
    }
    response.on('data', (chunk: Buffer) => this.readAnswer(stream, chunk));
    response.on('end', () => this.end(stream, 'the peer ended the stream', 'ended'));
    stream.accepted = true;
    stream.answerTimer?.cancel();
    stream.answerTimer = undefined;
    this.stats.openedStreams++;
    if (this.failing) {
      this.failing = false;
      this.options.logger.info({ peer: this.to }, 'raft peer reachable again');
    }
    this.flush();
  }

  /** The answer's body: acknowledgements, or a refusal and its reason. */
  private readAnswer(stream: OpenStream, chunk: Buffer): void {
    const bytes = stream.answerRest.length === 0 ? chunk : Buffer.concat([stream.answerRest, chunk]);
    let at = 0;
    for (; at + 4 <= bytes.length; at += 4) {
      const word = bytes.readUInt32LE(at);
      if (word === STREAM_REFUSED) {
        const reason = bytes.toString('utf8', at + 4, at + 4 + REFUSAL_TEXT_BYTES).trim();
        this.end(stream, `refused a frame: ${reason}`, 'failed');
        return;
      }
      stream.acknowledged = word;
    }
    stream.answerRest = Buffer.from(bytes.subarray(at));
    if (stream.acknowledged === stream.written && stream.watch !== undefined) {
      stream.watch.cancel();
      stream.watch = undefined;
    }
  }

  /** The stream is over (once: later calls for it change nothing). */
  private end(stream: OpenStream, reason: string, ending: Ending): void {
    if (this.stream !== stream) return;
    this.stream = undefined;
    stopTimers(stream);
    stream.request.destroy();
    if (this.closed) return;
    if (ending === 'ended') {
      this.options.logger.debug({ peer: this.to, reason }, 'raft stream ended');
      this.flush();
      return;
    }
    this.failed(reason, ending === 'timedOut');
  }

  /** A stream failed: what waited is lost, and the next try waits out the back-off. */
  private failed(reason: string, timedOut: boolean): void {
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

function stopTimers(stream: OpenStream): void {
  stream.answerTimer?.cancel();
  stream.answerTimer = undefined;
  stream.watch?.cancel();
  stream.watch = undefined;
}
