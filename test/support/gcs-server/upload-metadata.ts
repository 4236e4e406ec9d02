import { badRequest } from './http-errors';
import type { Checksums } from './stored-object';

/** The fields of an upload's JSON metadata the server uses; others are accepted and ignored. */
export interface UploadMetadata {
  name?: string;
  contentType?: string;
  /** When given, GCS checks the bytes against them and refuses the upload (400) if they differ. */
  crc32c?: string;
  md5Hash?: string;
}

export function parseUploadMetadata(json: Buffer): UploadMetadata {
  if (json.length === 0) return {};
  let value: unknown;
  try {
    value = JSON.parse(json.toString());
  } catch {
    throw badRequest('Upload metadata is not valid JSON', 'parseError');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw badRequest('Upload metadata must be a JSON object');
  }
  const fields = value as Record<string, unknown>;
  const text = (field: string): string | undefined => {
    const v = fields[field];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string') throw badRequest(`Invalid value for ${field}`);
    return v;
  };
  return {
    name: text('name'),
    contentType: text('contentType'),
    crc32c: text('crc32c'),
    md5Hash: text('md5Hash'),
  };
}

/** The checksums a client sent in `X-Goog-Hash: crc32c=…,md5=…` (on a resumable upload's last request). */
export function checksumsInHeader(header: string | string[] | undefined): Partial<Checksums> {
  const found: Partial<Checksums> = {};
  for (const item of [header ?? []].flat().join(',').split(',')) {
    const eq = item.indexOf('=');
    const kind = item.slice(0, eq).trim();
    if (kind === 'crc32c') found.crc32c = item.slice(eq + 1).trim();
    if (kind === 'md5') found.md5Hash = item.slice(eq + 1).trim();
  }
  return found;
}
