import { pipeline, Transform, type Readable } from 'node:stream';
import { lengthMismatch } from '../storage-errors';

/** A stream body on its way to S3, watched: how many bytes passed, and why it failed if it did. */
export interface WatchedBody {
  /** What the SDK reads: the caller's bytes, unchanged. */
  stream: Readable;
  size(): number;
  /** The body's own failure — the source stream's error or a length mismatch — which a failed put reports. */
  failure(): Error | undefined;
  /**
   * Aborted when the body fails. The SDK pipes a stream body into its request with `pipe`, which passes no
   * error on: without this, a request whose body died would hang until the server times it out.
   */
  signal: AbortSignal;
}

/**
 * Puts a counting stream between the caller's body and the SDK. With `expected` set it fails as soon as the
 * body runs past that many bytes (so the excess never reaches S3) or ends short of it, and the request then
 * fails rather than complete — nothing is stored. The source's own error is kept as is, because the port
 * says a put fails with that very error, not with whatever the SDK makes of its request dying.
 */
export function watchBody(source: Readable, key: string, expected: number | undefined): WatchedBody {
  let size = 0;
  let failure: Error | undefined;
  const aborter = new AbortController();
  const fail = (error: Error): Error => {
    failure ??= error;
    aborter.abort(failure);
    return failure;
  };
  source.on('error', fail);
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      size += chunk.length;
      if (expected !== undefined && size > expected) {
        done(fail(lengthMismatch(key, expected, size)));
        return;
      }
      done(null, chunk);
    },
    flush(done) {
      if (expected !== undefined && size !== expected) {
        done(fail(lengthMismatch(key, expected, size)));
        return;
      }
      done();
    },
  });
  // Destroys the source when the counter goes (a failed request), and the counter when the source fails.
  pipeline(source, counter, () => undefined);
  return { stream: counter, size: () => size, failure: () => failure, signal: aborter.signal };
}
