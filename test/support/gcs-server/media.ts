import type { ServerResponse } from 'node:http';
import { rangeNotSatisfiable } from './http-errors';
import { objectEtag } from './resources';
import type { StoredObject } from './stored-object';

/**
 * Answers `alt=media`: the whole object (200), or the part one `Range: bytes=…` names (206, clipped to the
 * object), or 416 when the range starts at or past the end. Headers as GCS sends them, including the hashes
 * the client checks a whole download against (`x-goog-hash`, with `x-goog-stored-content-encoding` saying the
 * bytes are sent as stored).
 */
export function sendMedia(res: ServerResponse, object: StoredObject, rangeHeader: string | undefined): void {
  const size = object.data.length;
  const range = parseRange(rangeHeader, size);
  const headers: Record<string, string | number> = {
    'Content-Type': object.contentType,
    'Accept-Ranges': 'bytes',
    ETag: `"${objectEtag(object)}"`,
    'Last-Modified': object.updated.toUTCString(),
    'x-goog-generation': String(object.generation),
    'x-goog-metageneration': String(object.metageneration),
    'x-goog-stored-content-length': String(size),
    'x-goog-stored-content-encoding': 'identity',
    'x-goog-storage-class': 'STANDARD',
    'x-goog-hash': `crc32c=${object.crc32c},md5=${object.md5Hash}`,
  };
  if (range === undefined) {
    res.writeHead(200, { ...headers, 'Content-Length': size });
    res.end(object.data);
    return;
  }
  res.writeHead(206, {
    ...headers,
    'Content-Length': range.end - range.start + 1,
    'Content-Range': `bytes ${range.start}-${range.end}/${size}`,
  });
  res.end(object.data.subarray(range.start, range.end + 1));
}

/** The inclusive byte range a single-range header names, clipped; undefined for none (or one we ignore). */
function parseRange(header: string | undefined, size: number): { start: number; end: number } | undefined {
  const match = header === undefined ? null : /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (match === null || (match[1] === '' && match[2] === '')) return undefined; // absent, or several ranges
  if (match[1] === '') {
    const suffix = Number(match[2]); // the last n bytes
    if (suffix === 0) throw rangeNotSatisfiable(size);
    return size === 0 ? undefined : { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(match[1]);
  if (match[2] !== '' && Number(match[2]) < start) return undefined; // malformed: ignored, as HTTP says
  if (start >= size) throw rangeNotSatisfiable(size);
  return { start, end: match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1) };
}
