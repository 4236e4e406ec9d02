import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { GcsHttpError } from './http-errors';

/**
 * Reads a whole request body. Rejects when the client goes away before the body ended, so a half-sent
 * upload is never taken for a complete one (GCS stores nothing from an interrupted request).
 */
export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  if (!req.complete) throw new Error('request body was cut off');
  return Buffer.concat(chunks);
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: OutgoingHttpHeaders = {},
): void {
  const text = Buffer.from(JSON.stringify(body));
  res.writeHead(status, {
    ...headers,
    'Content-Type': 'application/json; charset=UTF-8',
    'Content-Length': text.length,
  });
  res.end(text);
}

export function sendEmpty(res: ServerResponse, status: number, headers: OutgoingHttpHeaders = {}): void {
  res.writeHead(status, { ...headers, 'Content-Length': 0 });
  res.end();
}

export function sendError(res: ServerResponse, error: GcsHttpError): void {
  if (error.status === 304) sendEmpty(res, 304, error.headers);
  else sendJson(res, error.status, error.body(), error.headers);
}
