import type { ServerResponse } from 'node:http';
import { systemClock, type Clock } from '../../lib/clock';
import { TidemarkError } from '../../lib/errors';

/** Parts are gathered into writes of about this size. */
const BATCH_BYTES = 64 * 1024;
/** A client that takes nothing for this long is cut off: a stream must not park a recovery for ever. */
const STALLED_MS = 60_000;
/** After the last part, the time the client gets to take it before the connection is cut. */
const LAST_PART_MS = 10_000;

/**
 * Writes parts of a response as they are produced, gathered into larger writes, waiting for the socket to
 * drain when it asks to — so a producer that awaits `write` never holds more than a batch beyond what the
 * client has taken. CLOSED when the client went away, took nothing for STALLED_MS (the response is then
 * destroyed), or the writer was ended or abandoned: nothing is written to the response after that.
 */
export class ResponseWriter {
  private parts: Buffer[] = [];
  private size = 0;
  private over = false;
  /** The flush under way: writes and the end go after it. */
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly sink: ServerResponse,
    private readonly clock: Clock = systemClock,
  ) {
    // A write that fails after the client went away must not become an uncaught 'error'.
    sink.on('error', () => undefined);
  }

  async write(part: string | Buffer): Promise<void> {
    if (this.over) throw closed('the response is over');
    if (this.sink.destroyed) throw closed('the client went away');
    const bytes = typeof part === 'string' ? Buffer.from(part, 'utf8') : part;
    this.parts.push(bytes);
    this.size += bytes.length;
    if (this.size >= BATCH_BYTES) await this.flush();
  }

  /**
   * Writes `last` after what is gathered (and after a flush under way), and ends the response — without
   * waiting for the client to take it; a client that has not within LAST_PART_MS is cut off.
   */
  async end(last: string | Buffer): Promise<void> {
    if (this.over) return;
    this.over = true;
    await this.flushing.catch(() => undefined);
    const bytes = typeof last === 'string' ? Buffer.from(last, 'utf8') : last;
    const chunk = Buffer.concat([...this.parts, bytes]);
    this.parts = [];
    this.size = 0;
    if (this.sink.destroyed) return;
    const cut = this.clock.setTimeout(() => this.sink.destroy(), LAST_PART_MS).unref();
    this.sink.once('close', () => cut.cancel());
    this.sink.end(chunk);
  }

  /** Nothing more is written: what is gathered is dropped (the response is someone else's now). */
  abandon(): void {
    this.over = true;
    this.parts = [];
    this.size = 0;
  }

  /** Sends what is gathered now (after a flush under way). */
  flush(): Promise<void> {
    if (this.size === 0) return this.flushing;
    const chunk = Buffer.concat(this.parts, this.size);
    this.parts = [];
    this.size = 0;
    const flushed = this.flushing.then(() => this.send(chunk));
    this.flushing = flushed.catch(() => undefined);
    return flushed;
  }

  private async send(chunk: Buffer): Promise<void> {
    if (this.over) throw closed('the response is over');
    if (this.sink.destroyed) throw closed('the client went away');
    if (this.sink.write(chunk)) return;
    await new Promise<void>((resolve, reject) => {
      const settle = (error?: TidemarkError) => {
        stalled.cancel();
        this.sink.off('drain', drained);
        this.sink.off('close', gone);
        if (error === undefined) resolve();
        else reject(error);
      };
      const drained = () => settle();
      const gone = () => settle(closed('the client went away'));
      const stalled = this.clock
        .setTimeout(() => {
          this.sink.destroy();
          settle(closed(`the client took nothing for ${STALLED_MS} ms`));
        }, STALLED_MS)
        .unref();
      this.sink.once('drain', drained);
      this.sink.once('close', gone);
    });
  }
}

function closed(why: string): TidemarkError {
  return new TidemarkError('CLOSED', why);
}
