import { badRequest } from './http-errors';

// The `Content-Range` of a resumable upload's PUT (a block comment cannot hold these):
// - `bytes */*` asks how much is persisted; `bytes */N` says the object is N bytes and ends there;
// - `bytes a-b/T` carries bytes a..b (inclusive; `b = a-1` is an empty chunk), T the total or `*`;
// - `bytes a-*/T` carries everything from a in this one request (the Node client's single-shot mode).
// No header at all means the request carries the whole object.
export type ContentRange =
  { kind: 'status'; total?: number } | { kind: 'chunk'; start: number; end?: number; total?: number };

const STATUS = /^bytes \*\/(\d+|\*)$/;
const CHUNK = /^bytes (\d+)-(-?\d+|\*)\/(\d+|\*)$/;

export function parseContentRange(header: string | undefined, bodyLength: number): ContentRange {
  if (header === undefined) return { kind: 'chunk', start: 0, end: bodyLength - 1, total: bodyLength };
  const status = STATUS.exec(header);
  if (status !== null) return { kind: 'status', total: numberOrStar(status[1]) };
  const chunk = CHUNK.exec(header);
  if (chunk === null) throw badRequest(`Invalid Content-Range header: ${header}`);
  const start = Number(chunk[1]);
  const end = numberOrStar(chunk[2]);
  if (end !== undefined && end < start - 1) throw badRequest(`Invalid Content-Range header: ${header}`);
  return { kind: 'chunk', start, end, total: numberOrStar(chunk[3]) };
}

function numberOrStar(text: string): number | undefined {
  return text === '*' ? undefined : Number(text);
}
