import type { Handler } from './exchange';
import { noSuchObject } from './http-errors';
import { sendEmpty, sendJson } from './http-io';
import { listPage, listQueryOf } from './listing';
import { sendMedia } from './media';
import { checkRead, checkWrite, preconditionsOf } from './preconditions';
import { objectResource } from './resources';
import type { StoredObject } from './stored-object';
import type { Exchange } from './exchange';

/** The live object the request names, honouring `generation=` (there are no older generations to find). */
function liveObject({ url, bucket, object, data }: Exchange): StoredObject {
  const found = data.buckets.bucket(bucket).require(object);
  const generation = url.searchParams.get('generation');
  if (generation !== null && generation !== String(found.generation)) throw noSuchObject(bucket, object);
  return found;
}

/** `GET /storage/v1/b/{b}/o/{o}`: metadata, or with `alt=media` the bytes. */
export const getObject: Handler = (exchange) => {
  const { req, res, url, baseUrl, bucket } = exchange;
  const found = liveObject(exchange);
  checkRead(preconditionsOf(url.searchParams), found);
  if (url.searchParams.get('alt') === 'media') sendMedia(res, found, req.headers.range);
  else sendJson(res, 200, objectResource(baseUrl, bucket, found));
};

/** `DELETE /storage/v1/b/{b}/o/{o}`: 204, or 404 for a missing object, 412 for a failed precondition. */
export const deleteObject: Handler = (exchange) => {
  const { res, url, bucket, object, data } = exchange;
  checkWrite(preconditionsOf(url.searchParams), liveObject(exchange));
  data.buckets.bucket(bucket).remove(object);
  sendEmpty(res, 204);
};

/** `GET /storage/v1/b/{b}/o?prefix&delimiter&maxResults&pageToken&startOffset&endOffset`. */
export const listObjects: Handler = ({ res, url, baseUrl, bucket, data }) => {
  const page = listPage(data.buckets.bucket(bucket).inOrder(), listQueryOf(url.searchParams));
  sendJson(res, 200, {
    kind: 'storage#objects',
    ...(page.nextPageToken === undefined ? {} : { nextPageToken: page.nextPageToken }),
    ...(page.prefixes.length === 0 ? {} : { prefixes: page.prefixes }),
    ...(page.items.length === 0
      ? {}
      : { items: page.items.map((item) => objectResource(baseUrl, bucket, item)) }),
  });
};
