/**
 * S3 quotes ETags (`"9b2c…"`, `"9b2c…-3"` for multipart); a few compatibles do not. Always quoted, so put,
 * head and list report the same string whatever the store.
 */
export function normalEtag(etag: string | undefined): string | undefined {
  if (etag === undefined || etag === '') return undefined;
  return etag.startsWith('"') || etag.startsWith('W/"') ? etag : `"${etag}"`;
}
