import type { ServerResponse } from 'node:http';
import { TidemarkError } from '../../lib/errors';

/** Parts are gathered into writes of about this size. */
const BATCH_BYTES = 64 * 1024;

/**
 * Writes parts of a response as they are produced, gathered into larger writes, waiting for the socket to
 * drain when it asks to — so a producer that awaits `write` never holds more than a batch beyond what the
 * client has taken. CLOSED when the client went away.
 */
export class ResponseWriter {
  private parts: Buffer[] = [];
  private size = 0;

  constructor(private readonly sink: ServerResponse) {}

  async write(part: string | Buffer): Promise<void> {
    const bytes = typeof part === 'string' ? Buffer.from(part, 'utf8') : part;
    this.parts.push(bytes);
    this.size += bytes.length;
    if (this.size >= BATCH_BYTES) await this.flush();
  }

  /** Writes `last` and what is gathered, and ends the response. */
  async end(last: string | Buffer): Promise<void> {
    await this.write(last);
    await this.flush();
    this.sink.end();
  }

  private async flush(): Promise<void> {
    if (this.size === 0) return;
    const chunk = Buffer.concat(this.parts, this.size);
    this.parts = [];
    this.size = 0;
    if (this.sink.destroyed) throw gone();
    if (this.sink.write(chunk)) return;
    await new Promise<void>((resolve, reject) => {
      const drained = () => {
        this.sink.off('close', closed);
        resolve();
      };
      const closed = () => {
        this.sink.off('drain', drained);
        reject(gone());
      };
      this.sink.once('drain', drained);
      this.sink.once('close', closed);
    });
  }
}

function gone(): TidemarkError {
  return new TidemarkError('CLOSED', 'the client went away');
}
