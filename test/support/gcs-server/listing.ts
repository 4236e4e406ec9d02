import { badRequest } from './http-errors';
import type { StoredObject } from './stored-object';

/** `objects.list`: prefix (plain text), delimiter, maxResults, pageToken, startOffset and endOffset. */
export interface ListQuery {
  prefix: string;
  delimiter?: string;
  maxResults: number;
  pageToken?: string;
  startOffset?: string;
  endOffset?: string;
}

export interface ListPage {
  items: StoredObject[];
  prefixes: string[];
  nextPageToken?: string;
}

/** GCS's default and largest page. */
export const MAX_RESULTS = 1000;

export function listQueryOf(query: URLSearchParams): ListQuery {
  const max = query.get('maxResults');
  if (max !== null && !/^\d+$/.test(max)) throw badRequest(`Invalid value for maxResults: ${max}`);
  return {
    prefix: query.get('prefix') ?? '',
    delimiter: query.get('delimiter') || undefined,
    maxResults: Math.min(MAX_RESULTS, max === null || max === '0' ? MAX_RESULTS : Number(max)),
    pageToken: query.get('pageToken') || undefined,
    startOffset: query.get('startOffset') || undefined,
    endOffset: query.get('endOffset') || undefined,
  };
}

/** Where the previous page stopped: its last entry, and whether that entry was a collapsed prefix. */
interface Cursor {
  after: string;
  collapsed: boolean;
}

function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify(cursor)).toString('base64url');
}

function decodeCursor(token: string): Cursor {
  try {
    const cursor = JSON.parse(Buffer.from(token, 'base64url').toString()) as Partial<Cursor>;
    if (typeof cursor.after === 'string' && typeof cursor.collapsed === 'boolean') {
      return { after: cursor.after, collapsed: cursor.collapsed };
    }
  } catch {
    // fall through: not one of ours
  }
  throw badRequest(`Invalid page token: ${token}`);
}

/** First index in `ordered` whose name's bytes are >= `bytes` (or > with `strict`). */
function lowerBound(ordered: readonly StoredObject[], bytes: Buffer, strict = false): number {
  let low = 0;
  let high = ordered.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    const order = Buffer.compare(ordered[middle].nameBytes, bytes);
    if (order < 0 || (strict && order === 0)) low = middle + 1;
    else high = middle;
  }
  return low;
}

/** The listing entry of `name`: itself, or the prefix it collapses into. */
function entryOf(name: string, prefix: string, delimiter: string | undefined): Cursor {
  const cut = delimiter === undefined ? -1 : name.indexOf(delimiter, prefix.length);
  return cut < 0 || delimiter === undefined
    ? { after: name, collapsed: false }
    : { after: name.slice(0, cut + delimiter.length), collapsed: true };
}

/**
 * One page of a listing of `ordered` (sorted by UTF-8 bytes). With a delimiter, names that hold it after the
 * prefix collapse into one `prefixes` entry each, counted against maxResults like an item, as GCS does.
 */
export function listPage(ordered: readonly StoredObject[], query: ListQuery): ListPage {
  const { prefix, delimiter, maxResults } = query;
  const cursor = query.pageToken === undefined ? undefined : decodeCursor(query.pageToken);
  let index = lowerBound(ordered, Buffer.from(prefix));
  if (query.startOffset !== undefined) {
    index = Math.max(index, lowerBound(ordered, Buffer.from(query.startOffset)));
  }
  if (cursor !== undefined) index = Math.max(index, lowerBound(ordered, Buffer.from(cursor.after), true));
  const end =
    query.endOffset === undefined ? ordered.length : lowerBound(ordered, Buffer.from(query.endOffset));
  let skipPrefix = cursor?.collapsed === true ? cursor.after : undefined;

  const page: ListPage = { items: [], prefixes: [] };
  let last: Cursor | undefined;
  for (; index < end && ordered[index].name.startsWith(prefix); index++) {
    const { name } = ordered[index];
    if (skipPrefix !== undefined && name.startsWith(skipPrefix)) continue;
    const entry = entryOf(name, prefix, delimiter);
    if (last !== undefined && page.items.length + page.prefixes.length >= maxResults) {
      page.nextPageToken = encodeCursor(last); // the page is full and another entry exists
      return page;
    }
    if (entry.collapsed) {
      page.prefixes.push(entry.after);
      skipPrefix = entry.after;
    } else page.items.push(ordered[index]);
    last = entry;
  }
  return page;
}
