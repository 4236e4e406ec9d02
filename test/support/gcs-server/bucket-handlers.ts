import type { Handler } from './exchange';
import { badRequest } from './http-errors';
import { readBody, sendJson } from './http-io';
import { bucketResource } from './resources';

/** `POST /storage/v1/b?project=…` with `{"name": …}`. */
export const insertBucket: Handler = async ({ req, res, baseUrl, data }) => {
  let name: unknown;
  try {
    name = (JSON.parse((await readBody(req)).toString()) as { name?: unknown }).name;
  } catch {
    throw badRequest('Bucket resource is not valid JSON', 'parseError');
  }
  if (typeof name !== 'string') throw badRequest('Bucket name is required', 'required');
  sendJson(res, 200, bucketResource(baseUrl, data.buckets.createBucket(name)));
};

/** `GET /storage/v1/b/{bucket}`: what a client reads to learn the bucket exists and it may use it. */
export const getBucket: Handler = ({ res, baseUrl, bucket, data }) => {
  sendJson(res, 200, bucketResource(baseUrl, data.buckets.bucket(bucket)));
};
