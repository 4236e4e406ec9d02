import { Readable } from 'node:stream';
import type { Clock, Timer } from '../../lib/clock';
import type { TidemarkError } from '../../lib/errors';

/**
 * The byte stream `get` hands out for an SDK download stream, fixing three things about the latter:
 * - its errors are SDK errors: they are translated (`translate`) before the reader sees them;
 * - a connection cut mid-body is never reported by the HTTP client underneath (node-fetch 2 pipes the
 *   response without forwarding its error), so the stream would wait forever: when the reader wants bytes
 *   and none arrive for `stallMs`, the download fails with `onStall()`'s error instead — time spent while the
 *   reader is not reading never counts;
 * - destroying the SDK's stream makes the SDK destroy its shared HTTP agent, failing every request in
 *   flight: a reader that stops early gets the rest of the response read and dropped instead.
 */
export class DownloadBody extends Readable {
  private timer: Timer | undefined;

  constructor(
    private readonly source: Readable,
    private readonly translate: (error: unknown) => TidemarkError,
    private readonly stallMs: number,
    private readonly onStall: () => TidemarkError,
    private readonly clock: Clock,
  ) {
    super();
    source.pause();
    source.on('data', this.onData);
    source.once('end', this.onEnd);
    source.on('error', this.onError);
  }

  override _read(): void {
    this.arm();
    this.source.resume();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.disarm();
    this.source.off('data', this.onData);
    if (!this.source.readableEnded && !this.source.destroyed) this.source.resume(); // drain, see above
    callback(error);
  }

  private readonly onData = (chunk: Buffer) => {
    this.disarm();
    if (this.push(chunk)) this.arm();
    else this.source.pause();
  };

  private readonly onEnd = () => {
    this.disarm();
    this.push(null);
  };

  private readonly onError = (error: unknown) => {
    this.disarm();
    this.destroy(this.translate(error));
  };

  private arm(): void {
    this.disarm();
    this.timer = this.clock.setTimeout(() => {
      this.source.destroy(); // a dead connection: nothing to save by draining it
      this.destroy(this.onStall());
    }, this.stallMs);
  }

  private disarm(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }
}
