import { getBucket, insertBucket } from './bucket-handlers';
import type { Handler } from './exchange';
import { notImplemented } from './http-errors';
import { deleteObject, getObject, listObjects } from './object-handlers';
import { cancelUpload, resumeUpload, startUpload } from './upload-handlers';

/** Requests by kind, named after the JSON API methods (uploads split by protocol step). */
export const REQUEST_KINDS = [
  'buckets.insert',
  'buckets.get',
  'objects.list',
  'objects.get',
  'objects.download',
  'objects.delete',
  'uploads.media',
  'uploads.multipart',
  'uploads.resumableStart',
  'uploads.resumableChunk',
  'uploads.resumableStatus',
  'uploads.resumableCancel',
  'unknown',
] as const;

export type RequestKind = (typeof REQUEST_KINDS)[number];

export interface Route {
  kind: RequestKind;
  handle: Handler;
  /** Bucket and object name, percent-decoded ('' where the path has none). */
  bucket: string;
  object: string;
}

const BUCKETS = /^\/storage\/v1\/b\/?$/;
const BUCKET = /^\/storage\/v1\/b\/([^/]+)\/?$/;
const OBJECTS = /^\/storage\/v1\/b\/([^/]+)\/o\/?$/;
// The object name is the rest of the path: clients encode '/' in names as %2F, but not all of them do.
const OBJECT = /^\/(?:download\/)?storage\/v1\/b\/([^/]+)\/o\/(.+)$/;
const UPLOADS = /^\/upload\/storage\/v1\/b\/([^/]+)\/o\/?$/;
const UPLOAD_KINDS: Record<string, RequestKind> = {
  resumable: 'uploads.resumableStart',
  media: 'uploads.media',
};

/** Which handler answers `method path`; the path is matched still percent-encoded, then decoded. */
export function routeOf(method: string, url: URL, contentRange: string | undefined): Route {
  const path = url.pathname;
  const at = (pattern: RegExp) => pattern.exec(path);
  const route = (kind: RequestKind, handle: Handler, match: RegExpExecArray | null = null): Route => ({
    kind,
    handle,
    bucket: match?.[1] === undefined ? '' : decodeURIComponent(match[1]),
    object: match?.[2] === undefined ? '' : decodeURIComponent(match[2]),
  });
  let match: RegExpExecArray | null;
  if (method === 'POST' && at(BUCKETS)) return route('buckets.insert', insertBucket);
  if (method === 'GET' && (match = at(BUCKET))) return route('buckets.get', getBucket, match);
  if (method === 'GET' && (match = at(OBJECTS))) return route('objects.list', listObjects, match);
  if ((match = at(OBJECT))) {
    if (method === 'GET') {
      const media = url.searchParams.get('alt') === 'media';
      return route(media ? 'objects.download' : 'objects.get', getObject, match);
    }
    if (method === 'DELETE') return route('objects.delete', deleteObject, match);
  }
  if ((match = at(UPLOADS))) {
    if (method === 'POST') {
      const type = url.searchParams.get('uploadType') ?? '';
      return route(UPLOAD_KINDS[type] ?? 'uploads.multipart', startUpload, match);
    }
    if (method === 'PUT') {
      const status = contentRange?.startsWith('bytes */') === true;
      return route(status ? 'uploads.resumableStatus' : 'uploads.resumableChunk', resumeUpload, match);
    }
    if (method === 'DELETE') return route('uploads.resumableCancel', cancelUpload, match);
  }
  return route('unknown', () => {
    throw notImplemented(method, path);
  });
}
