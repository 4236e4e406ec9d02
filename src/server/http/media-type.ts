import type { IncomingMessage } from 'node:http';

/**
 * The media types the API parses, and how a request's type and body presence are read. The body parsers
 * (create-app.ts) and the routes (request-body.decorator.ts) decide with these same functions, so a body
 * a route accepts is always one the parsers have read.
 */
export const JSON_MEDIA_TYPE = 'application/json';
export const BINARY_MEDIA_TYPE = 'application/octet-stream';

/** `Application/JSON; charset=utf-8` → `application/json`; `''` without a Content-Type. */
export function mediaTypeOf(req: IncomingMessage): string {
  return (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
}

/** Whether the request sends body bytes: a Content-Length above zero, or a chunked body (length unknown). */
export function carriesBody(req: IncomingMessage): boolean {
  if (req.headers['transfer-encoding'] !== undefined) return true;
  const length = Number(req.headers['content-length'] ?? '0');
  return length !== 0;
}
