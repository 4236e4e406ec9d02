import { badRequest } from './http-errors';

/** The two parts of a `multipart/related` upload: JSON metadata, then the object's bytes. */
export interface MultipartBody {
  metadata: Buffer;
  data: Buffer;
  dataContentType?: string;
}

const CRLF = Buffer.from('\r\n');
const HEADERS_END = Buffer.from('\r\n\r\n');

/**
 * Splits a multipart/related body (RFC 2387) as GCS's multipart upload expects it: exactly two parts, each
 * `--boundary CRLF headers CRLF CRLF body`, closed by `CRLF --boundary--`. The body is whole in memory (the
 * server keeps objects in memory anyway) and is only taken apart once the request has ended.
 */
export function parseMultipartRelated(contentType: string | undefined, body: Buffer): MultipartBody {
  const match = /^multipart\/related\s*;.*boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType ?? '');
  if (match === null)
    throw badRequest(`Expected multipart/related with a boundary, got ${String(contentType)}`);
  const delimiter = Buffer.from(`--${match[1] ?? match[2]}`);
  const separator = Buffer.concat([CRLF, delimiter]);

  const parts: { headers: string; body: Buffer }[] = [];
  let at = body.indexOf(delimiter);
  if (at < 0) throw badRequest('Multipart body has no boundary');
  at += delimiter.length;
  while (body.subarray(at, at + 2).toString() !== '--') {
    if (!body.subarray(at, at + 2).equals(CRLF)) throw badRequest('Malformed multipart boundary line');
    const headersEnd = body.indexOf(HEADERS_END, at);
    if (headersEnd < 0) throw badRequest('Multipart part without a header block');
    const next = body.indexOf(separator, headersEnd + HEADERS_END.length);
    if (next < 0) throw badRequest('Multipart body is not closed by its boundary');
    parts.push({
      headers: body.subarray(at + CRLF.length, headersEnd).toString(),
      body: body.subarray(headersEnd + HEADERS_END.length, next),
    });
    at = next + separator.length;
  }
  if (parts.length !== 2) throw badRequest(`Multipart upload needs 2 parts, got ${parts.length}`);
  return {
    metadata: parts[0].body,
    data: parts[1].body,
    dataContentType: headerValue(parts[1].headers, 'content-type'),
  };
}

function headerValue(headers: string, name: string): string | undefined {
  for (const line of headers.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0 && line.slice(0, colon).trim().toLowerCase() === name) return line.slice(colon + 1).trim();
  }
  return undefined;
}
