/**
 * The errors the test server answers with, worded and shaped as the GCS JSON API words and shapes them
 * (`{error: {code, message, errors: [{domain, reason, message}]}}`), because clients look at the status, the
 * reason and sometimes the message (a missing bucket and a missing object are both 404 `notFound`).
 */
export class GcsHttpError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'GcsHttpError';
  }

  body(): {
    error: { code: number; message: string; errors: { domain: string; reason: string; message: string }[] };
  } {
    return {
      error: {
        code: this.status,
        message: this.message,
        errors: [{ domain: 'global', reason: this.reason, message: this.message }],
      },
    };
  }
}

export function noSuchObject(bucket: string, name: string): GcsHttpError {
  return new GcsHttpError(404, 'notFound', `No such object: ${bucket}/${name}`);
}

export function noSuchBucket(): GcsHttpError {
  return new GcsHttpError(404, 'notFound', 'The specified bucket does not exist.');
}

export function conditionNotMet(): GcsHttpError {
  return new GcsHttpError(
    412,
    'conditionNotMet',
    'At least one of the pre-conditions you specified did not hold.',
  );
}

export function notModified(): GcsHttpError {
  return new GcsHttpError(304, 'notModified', 'Not Modified');
}

export function badRequest(message: string, reason = 'invalid'): GcsHttpError {
  return new GcsHttpError(400, reason, message);
}

export function rangeNotSatisfiable(size: number): GcsHttpError {
  return new GcsHttpError(416, 'requestedRangeNotSatisfiable', 'The requested range cannot be satisfied.', {
    'Content-Range': `bytes */${size}`,
  });
}

export function bucketExists(): GcsHttpError {
  return new GcsHttpError(
    409,
    'conflict',
    'Your previous request to create the named bucket succeeded and you already own it.',
  );
}

export function notImplemented(method: string, path: string): GcsHttpError {
  return new GcsHttpError(501, 'notImplemented', `The test GCS server does not implement ${method} ${path}`);
}
