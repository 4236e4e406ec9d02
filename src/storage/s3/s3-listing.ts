import { ListObjectsV2Command, type _Object, type S3Client } from '@aws-sdk/client-s3';
import { TidemarkError } from '../../lib/errors';
import { compareKeys, keyProblem } from '../key-rules';
import type { ListedObject } from '../object-store';
import { normalEtag } from './s3-etag';

/**
 * Every object under `prefix`, page by page (ListObjectsV2 gives up to 1,000 keys a request), in
 * `compareKeys` order. S3 and MinIO list in UTF-8 byte order already; some S3 compatibles do not (s3rver
 * walks its directories: `a/b` before `a-c`). Each page is sorted — a no-op for S3, and enough for a listing
 * of one page — and across pages the order is checked: a key at or before one already yielded fails the
 * listing loudly rather than be yielded out of order or twice (RetryingStore resumes a listing after its last
 * key, so disorder would silently skip objects). Objects whose names are not valid keys (another tool's) are
 * not Tidemark's objects and are skipped, as the local store skips such files.
 */
export async function* listObjects(
  client: S3Client,
  bucket: string,
  prefix: string,
  translate: (error: unknown) => Error,
): AsyncGenerator<ListedObject> {
  let token: string | undefined;
  let last: string | undefined;
  do {
    let page;
    try {
      page = await client.send(
        new ListObjectsV2Command({
          Bucket: bucket,
          Prefix: prefix === '' ? undefined : prefix,
          ContinuationToken: token,
        }),
      );
    } catch (error) {
      throw translate(error);
    }
    const objects = (page.Contents ?? []).flatMap(listed).sort((a, b) => compareKeys(a.key, b.key));
    for (const object of objects) {
      if (last !== undefined && compareKeys(object.key, last) <= 0)
        throw outOfOrder(bucket, last, object.key);
      last = object.key;
      yield object;
    }
    if (page.IsTruncated === true && !page.NextContinuationToken) {
      throw new TidemarkError(
        'INTERNAL',
        `S3 listing of bucket "${bucket}" was truncated without a continuation token`,
        {
          details: { bucket, prefix },
        },
      );
    }
    token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
  } while (token !== undefined);
}

function listed(object: _Object): ListedObject[] {
  const key = object.Key;
  if (key === undefined || keyProblem(key) !== undefined) return [];
  return [
    {
      key,
      size: object.Size ?? 0,
      etag: normalEtag(object.ETag),
      lastModified: object.LastModified ?? new Date(0),
    },
  ];
}

function outOfOrder(bucket: string, previous: string, key: string): TidemarkError {
  return new TidemarkError(
    'INTERNAL',
    `the S3 store listed ${JSON.stringify(key)} after ${JSON.stringify(previous)} in bucket "${bucket}": ` +
      'it does not list keys in UTF-8 byte order across pages, as S3 does and Tidemark needs',
    { details: { bucket, previous, key } },
  );
}
