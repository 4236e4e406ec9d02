import { Readable } from 'node:stream';

/**
 * The `take` bytes after the first `skip` bytes of `body`, as a byte stream. Needed because a server may
 * answer a range GET with more than was asked (the whole object, or s3rver's `bytes=0-0` bug); costs one
 * stream hop when it answered exactly. Ends as soon as `take` bytes passed (and releases the connection),
 * fails when the body ends short (a cut connection is not a short object), and turns the body's errors into
 * what `translate` makes of them, so no raw socket error reaches the caller.
 */
export function readWindow(
  body: Readable,
  skip: number,
  take: number,
  translate: (error: unknown) => Error,
): Readable {
  if (take === 0) {
    body.destroy();
    return Readable.from([], { objectMode: false });
  }
  return Readable.from(window(body, skip, take, translate), { objectMode: false });
}

async function* window(
  body: Readable,
  skip: number,
  take: number,
  translate: (error: unknown) => Error,
): AsyncGenerator<Buffer> {
  let toSkip = skip;
  let left = take;
  try {
    // Leaving the loop early (done, or the caller destroyed the window) destroys the body.
    for await (const raw of body) {
      let chunk = Buffer.isBuffer(raw) ? raw : Buffer.from(raw as Uint8Array);
      if (toSkip >= chunk.length) {
        toSkip -= chunk.length;
        continue;
      }
      chunk = chunk.subarray(toSkip, toSkip + left);
      toSkip = 0;
      left -= chunk.length;
      yield chunk;
      if (left === 0) return;
    }
  } catch (error) {
    throw translate(error);
  }
  throw translate(
    Object.assign(new Error(`response body ended ${left} bytes early`), {
      code: 'ERR_STREAM_PREMATURE_CLOSE',
    }),
  );
}
