import { parseContentRange } from './content-range';
import type { Exchange, Handler } from './exchange';
import { badRequest } from './http-errors';
import { readBody, sendEmpty, sendJson } from './http-io';
import { parseMultipartRelated } from './multipart';
import { preconditionsOf } from './preconditions';
import { objectResource } from './resources';
import { checksumsInHeader, parseUploadMetadata } from './upload-metadata';

const OCTET_STREAM = 'application/octet-stream';

function objectName(exchange: Exchange, fromMetadata: string | undefined): string {
  const name = exchange.url.searchParams.get('name') ?? fromMetadata;
  if (name === undefined || name === '') throw badRequest('Required parameter: name', 'required');
  return name;
}

function header(exchange: Exchange, name: string): string | undefined {
  const value = exchange.req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** `POST /upload/storage/v1/b/{b}/o?uploadType=media|multipart|resumable&name=…[&ifGenerationMatch=…]`. */
export const startUpload: Handler = async (exchange) => {
  switch (exchange.url.searchParams.get('uploadType')) {
    case 'media':
      return mediaUpload(exchange);
    case 'multipart':
      return multipartUpload(exchange);
    case 'resumable':
      return startResumableUpload(exchange);
    default:
      throw badRequest(`Unsupported uploadType: ${String(exchange.url.searchParams.get('uploadType'))}`);
  }
};

/** The body is the object; the name is in the query. Nothing is stored unless the whole body arrived. */
async function mediaUpload(exchange: Exchange): Promise<void> {
  const { res, url, baseUrl, bucket, data } = exchange;
  const body = await readBody(exchange.req);
  const draft = {
    name: objectName(exchange, undefined),
    data: body,
    contentType: header(exchange, 'content-type') ?? OCTET_STREAM,
  };
  const object = data.buckets.write(bucket, draft, preconditionsOf(url.searchParams));
  sendJson(res, 200, objectResource(baseUrl, bucket, object));
}

/** JSON metadata, then the bytes, in one multipart/related request. */
async function multipartUpload(exchange: Exchange): Promise<void> {
  const { res, url, baseUrl, bucket, data } = exchange;
  const parts = parseMultipartRelated(header(exchange, 'content-type'), await readBody(exchange.req));
  const metadata = parseUploadMetadata(parts.metadata);
  const object = data.buckets.write(
    bucket,
    {
      name: objectName(exchange, metadata.name),
      data: parts.data,
      contentType: metadata.contentType ?? parts.dataContentType ?? OCTET_STREAM,
      expected: { crc32c: metadata.crc32c, md5Hash: metadata.md5Hash },
    },
    preconditionsOf(url.searchParams),
  );
  sendJson(res, 200, objectResource(baseUrl, bucket, object));
}

/** Opens a session and answers its URI in `Location`, which the client then PUTs the bytes to. */
async function startResumableUpload(exchange: Exchange): Promise<void> {
  const { res, url, baseUrl, bucket, data } = exchange;
  const metadata = parseUploadMetadata(await readBody(exchange.req));
  const name = objectName(exchange, metadata.name);
  const declared = header(exchange, 'x-upload-content-length');
  if (declared !== undefined && !/^\d+$/.test(declared))
    throw badRequest(`Invalid X-Upload-Content-Length: ${declared}`);
  const id = data.sessions.start({
    bucket,
    name,
    contentType: header(exchange, 'x-upload-content-type') ?? metadata.contentType ?? OCTET_STREAM,
    conditions: preconditionsOf(url.searchParams),
    declaredLength: declared === undefined ? undefined : Number(declared),
  });
  const location =
    `${baseUrl}/upload/storage/v1/b/${encodeURIComponent(bucket)}/o?uploadType=resumable` +
    `&name=${encodeURIComponent(name)}&upload_id=${id}`;
  sendEmpty(res, 200, { Location: location });
}

function uploadId(exchange: Exchange): string {
  const id = exchange.url.searchParams.get('upload_id');
  if (id === null) throw badRequest('Required parameter: upload_id', 'required');
  return id;
}

/**
 * `PUT {session URI}` with a chunk, or a status query (a Content-Range naming no bytes): 308 with
 * `Range: bytes=0-{last persisted}` while incomplete, 200 with the object once complete.
 */
export const resumeUpload: Handler = async (exchange) => {
  const { res, baseUrl, bucket, data } = exchange;
  const body = await readBody(exchange.req);
  const outcome = data.sessions.receive(
    uploadId(exchange),
    parseContentRange(header(exchange, 'content-range'), body.length),
    body,
    checksumsInHeader(exchange.req.headers['x-goog-hash']),
  );
  if (outcome.done) sendJson(res, 200, objectResource(baseUrl, bucket, outcome.object));
  else sendEmpty(res, 308, outcome.persisted > 0 ? { Range: `bytes=0-${outcome.persisted - 1}` } : {});
};

/** `DELETE {session URI}` cancels the upload; GCS answers 499. */
export const cancelUpload: Handler = (exchange) => {
  exchange.data.sessions.cancel(uploadId(exchange));
  sendEmpty(exchange.res, 499);
};
