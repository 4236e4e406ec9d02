import { createHash } from 'node:crypto';
import { crc32c } from '@node-rs/crc32';

/** One live object generation, as the test server holds it: bytes plus what GCS reports about them. */
export interface StoredObject {
  readonly name: string;
  /** The name's UTF-8 bytes: GCS lists in their order. */
  readonly nameBytes: Buffer;
  readonly data: Buffer;
  readonly generation: number;
  readonly metageneration: number;
  readonly contentType: string;
  /** Base64 of the big-endian CRC32C, as GCS reports it (and clients check uploads against it). */
  readonly crc32c: string;
  /** Base64 of the MD5 digest. */
  readonly md5Hash: string;
  readonly timeCreated: Date;
  readonly updated: Date;
}

export interface Checksums {
  crc32c: string;
  md5Hash: string;
}

export function checksumsOf(data: Buffer): Checksums {
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32c(data));
  return { crc32c: crc.toString('base64'), md5Hash: createHash('md5').update(data).digest('base64') };
}

/**
 * Why GCS would refuse `name` as an object name, or undefined: 1–1024 bytes of UTF-8, no carriage return or
 * line feed, not `.` or `..`.
 */
export function objectNameProblem(name: string): string | undefined {
  const bytes = Buffer.byteLength(name);
  if (bytes === 0 || bytes > 1024) return 'Object name must be 1-1024 bytes of UTF-8.';
  if (/[\r\n]/.test(name)) return 'Object name must not contain carriage return or line feed characters.';
  if (name === '.' || name === '..') return 'Object name must not be "." or "..".';
  return undefined;
}
