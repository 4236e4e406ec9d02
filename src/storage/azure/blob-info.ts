import type { ObjectInfo } from '../object-store';

/**
 * Azure sends an etag quoted in headers (`"0x8D…"`) and bare in listings (`0x8D…`); the port promises the
 * same tag from put, head and list, so it is always given quoted, as HTTP has it.
 */
export function quotedEtag(etag: string | undefined): string | undefined {
  if (etag === undefined || etag === '') return undefined;
  return etag.startsWith('"') ? etag : `"${etag}"`;
}

/** What getProperties or a listing says of a blob, as the port's ObjectInfo. */
export function objectInfo(properties: {
  contentLength?: number;
  etag?: string;
  lastModified?: Date;
}): ObjectInfo {
  return {
    size: properties.contentLength ?? 0,
    etag: quotedEtag(properties.etag),
    lastModified: properties.lastModified ?? new Date(0),
  };
}
