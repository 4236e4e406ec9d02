import type { S3Client } from '@aws-sdk/client-s3';
import { TidemarkError } from '../../lib/errors';
import type { Logger } from '../../lib/logger';

const MiB = 1024 * 1024;

/** S3's limits: every part but the last at least 5 MiB, at most 10,000 parts, a single PUT at most 5 GiB. */
export const MIN_PART_SIZE = 5 * MiB;
export const MAX_PARTS = 10_000;
export const MAX_SINGLE_PUT = 5 * 1024 * MiB;

export const DEFAULT_MULTIPART_THRESHOLD = 16 * MiB;
export const DEFAULT_PART_SIZE = 8 * MiB;
export const DEFAULT_QUEUE_SIZE = 4;

export interface S3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/**
 * When the SDK adds checksums: `WHEN_SUPPORTED` (the SDK's default, right for AWS S3 and MinIO) checksums
 * every upload and checks downloads; `WHEN_REQUIRED` only where the API demands it. s3rver needs
 * `WHEN_REQUIRED`: it stores the aws-chunked framing of a checksummed streamed upload inside the object.
 */
export type S3ChecksumMode = 'WHEN_SUPPORTED' | 'WHEN_REQUIRED';

/**
 * How `put(…, { ifNoneMatch: '*' })` is done:
 * - `native`: the store decides, atomically (`If-None-Match: *` on PutObject and CompleteMultipartUpload;
 *   AWS S3 since 2024, MinIO). A store that ignores the header silently overwrites.
 * - `check-then-put`: for stores that ignore `If-None-Match` (s3rver, some S3 compatibles). See
 *   `s3-create-if-absent.ts`: NOT atomic across processes.
 */
export type CreateIfAbsentMode = 'native' | 'check-then-put';

export interface S3StoreOptions {
  bucket: string;
  /** The bucket's region (for MinIO and s3rver any name, e.g. `us-east-1`). */
  region: string;
  /** A non-AWS endpoint, e.g. `http://minio:9000`. */
  endpoint?: string;
  /** Path-style URLs (`endpoint/bucket/key`), which MinIO and s3rver need. Default false. */
  forcePathStyle?: boolean;
  /** Default: the SDK's chain (environment, shared files, instance or task role). */
  credentials?: S3Credentials;
  /** Default `WHEN_SUPPORTED`. */
  checksumMode?: S3ChecksumMode;
  /** Default `native`. */
  createIfAbsent?: CreateIfAbsentMode;
  /** A body known to be at most this long goes in one PutObject; longer or unknown, multipart. Default 16 MiB. */
  multipartThreshold?: number;
  /** Bytes per multipart part, at least 5 MiB. Default 8 MiB. */
  partSize?: number;
  /** Parts uploaded at once; a multipart upload buffers up to `queueSize × partSize` bytes. Default 4. */
  queueSize?: number;
  logger?: Logger;
  /**
   * A ready client (tests, custom middleware, shared connection pools). When given, region, endpoint,
   * forcePathStyle, credentials and checksumMode are the client's business, not the store's.
   */
  client?: S3Client;
}

export interface ResolvedS3Options {
  bucket: string;
  createIfAbsent: CreateIfAbsentMode;
  multipartThreshold: number;
  partSize: number;
  queueSize: number;
}

/** Applies defaults and refuses impossible settings with CONFIG_INVALID, before any request is made. */
export function resolveS3Options(options: S3StoreOptions): ResolvedS3Options {
  const problems: string[] = [];
  if (typeof options.bucket !== 'string' || options.bucket === '') problems.push('bucket is required');
  if (typeof options.region !== 'string' || options.region === '') problems.push('region is required');
  const createIfAbsent = options.createIfAbsent ?? 'native';
  if (createIfAbsent !== 'native' && createIfAbsent !== 'check-then-put') {
    problems.push(`createIfAbsent must be 'native' or 'check-then-put'`);
  }
  const checksumMode = options.checksumMode ?? 'WHEN_SUPPORTED';
  if (checksumMode !== 'WHEN_SUPPORTED' && checksumMode !== 'WHEN_REQUIRED') {
    problems.push(`checksumMode must be 'WHEN_SUPPORTED' or 'WHEN_REQUIRED'`);
  }
  const multipartThreshold = options.multipartThreshold ?? DEFAULT_MULTIPART_THRESHOLD;
  if (!isCount(multipartThreshold) || multipartThreshold > MAX_SINGLE_PUT) {
    problems.push(
      `multipartThreshold must be an integer from 0 to ${MAX_SINGLE_PUT} (5 GiB, S3's largest PUT)`,
    );
  }
  const partSize = options.partSize ?? DEFAULT_PART_SIZE;
  if (!isCount(partSize) || partSize < MIN_PART_SIZE || partSize > MAX_SINGLE_PUT) {
    problems.push(`partSize must be an integer from ${MIN_PART_SIZE} (5 MiB) to ${MAX_SINGLE_PUT} (5 GiB)`);
  }
  const queueSize = options.queueSize ?? DEFAULT_QUEUE_SIZE;
  if (!isCount(queueSize) || queueSize < 1) problems.push('queueSize must be a positive integer');
  if (problems.length > 0) {
    throw new TidemarkError('CONFIG_INVALID', `invalid S3 store options: ${problems.join('; ')}`, {
      details: { bucket: options.bucket, problems },
    });
  }
  return { bucket: options.bucket, createIfAbsent, multipartThreshold, partSize, queueSize };
}

function isCount(n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
}
