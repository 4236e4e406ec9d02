import { z } from 'zod';
import { keyProblem } from '../storage/key-rules';
import { bool, nonEmptyString, oneOf, positiveInt } from './schema-primitives';

/**
 * The `storage` section: which object store, one variant per backend (`backend` picks it, matched without
 * regard to case). Cloud credentials may be left out: each SDK then finds them its usual way (AWS's
 * credential chain, Google's Application Default Credentials); Azure needs a connection string or an
 * account name and key.
 */

export const STORAGE_BACKENDS = ['LocalFile', 'Memory', 'S3', 'Gcs', 'Azure'] as const;
const BACKEND = `expected one of ${STORAGE_BACKENDS.join(', ')}`;
const URL_TEXT = 'expected an http:// or https:// URL';
const MIB = 1024 * 1024;

const storagePrefix = nonEmptyString('a key prefix')
  .superRefine((prefix, ctx) => {
    const problem = keyProblem(prefix);
    if (problem !== undefined)
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: `invalid key prefix: ${problem}` });
  })
  .default('tidemark');

const httpUrl = z
  .string({ invalid_type_error: URL_TEXT })
  .trim()
  .refine((value) => /^https?:\/\/[^/]/.test(value), URL_TEXT);

const localFileStorageSchema = z
  .object({
    backend: z.literal('LocalFile'),
    /** Defaults to `{dataDir}/store`. */
    basePath: nonEmptyString('a directory path').optional(),
    syncWrites: bool(true),
    prefix: storagePrefix,
  })
  .strict();

const memoryStorageSchema = z.object({ backend: z.literal('Memory'), prefix: storagePrefix }).strict();

/** AWS S3, MinIO and other S3-compatible stores. */
const s3StorageSchema = z
  .object({
    backend: z.literal('S3'),
    bucket: nonEmptyString('a bucket name'),
    region: nonEmptyString('a region').default('us-east-1'),
    /** MinIO: `http://minio:9000`. */
    endpoint: httpUrl.optional(),
    /** Path-style URLs: MinIO and most S3-compatibles need it. */
    forcePathStyle: bool(false),
    accessKeyId: nonEmptyString('an access key id').optional(),
    secretAccessKey: nonEmptyString('a secret access key').optional(),
    /** `WHEN_REQUIRED` for servers that mishandle the SDK's default checksums (s3rver). */
    checksumMode: oneOf(['WHEN_SUPPORTED', 'WHEN_REQUIRED']).default('WHEN_SUPPORTED'),
    /** `check-then-put` for stores that ignore `If-None-Match` (not atomic: fencing never relies on it). */
    createIfAbsent: oneOf(['native', 'check-then-put']).default('native'),
    // A default 64 MiB WAL segment goes in one PUT; larger bodies in 16 MiB parts (≤ 1 request per 8 MiB).
    multipartThreshold: positiveInt(64 * MIB),
    partSize: positiveInt(16 * MIB),
    prefix: storagePrefix,
  })
  .strict();

const gcsStorageSchema = z
  .object({
    backend: z.literal('Gcs'),
    bucket: nonEmptyString('a bucket name'),
    projectId: nonEmptyString('a project id').optional(),
    /** Another endpoint than storage.googleapis.com (private endpoints, test servers). */
    apiEndpoint: httpUrl.optional(),
    /** A service-account key file; without it, Application Default Credentials. */
    keyFilename: nonEmptyString('a file path').optional(),
    resumableThreshold: positiveInt(64 * MIB),
    /** A multiple of 256 KiB, at least 8 MiB. */
    resumableChunkSize: positiveInt(16 * MIB),
    prefix: storagePrefix,
  })
  .strict();

const azureStorageSchema = z
  .object({
    backend: z.literal('Azure'),
    container: nonEmptyString('a container name'),
    connectionString: nonEmptyString('a connection string').optional(),
    accountName: nonEmptyString('an account name').optional(),
    accountKey: nonEmptyString('an account key').optional(),
    /** The blob service URL for accountName/accountKey (default https://{account}.blob.core.windows.net). */
    endpoint: httpUrl.optional(),
    blockSize: positiveInt(16 * MIB),
    prefix: storagePrefix,
  })
  .strict();

/** `backend` defaults to LocalFile and is matched without regard to case (`memory` is `Memory`). */
function normalizeBackend(value: unknown): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  const backend: unknown = (value as { backend?: unknown }).backend;
  if (backend === undefined) return { ...value, backend: 'LocalFile' };
  if (typeof backend !== 'string') return value;
  const known = STORAGE_BACKENDS.find((name) => name.toLowerCase() === backend.trim().toLowerCase());
  return { ...value, backend: known ?? backend };
}

export const storageSchema = z.preprocess(
  normalizeBackend,
  z
    .discriminatedUnion(
      'backend',
      [localFileStorageSchema, memoryStorageSchema, s3StorageSchema, gcsStorageSchema, azureStorageSchema],
      {
        errorMap: (issue, ctx) => ({
          message: issue.code === z.ZodIssueCode.invalid_union_discriminator ? BACKEND : ctx.defaultError,
        }),
      },
    )
    .superRefine((storage, ctx) => {
      const problem = credentialsProblem(storage);
      if (problem) ctx.addIssue({ code: z.ZodIssueCode.custom, message: problem });
    }),
);

type StorageSection =
  | z.infer<typeof localFileStorageSchema>
  | z.infer<typeof s3StorageSchema>
  | z.infer<typeof azureStorageSchema>
  | z.infer<typeof gcsStorageSchema>
  | z.infer<typeof memoryStorageSchema>;

/** Credentials given by halves: a mistake to report, not to guess around. */
function credentialsProblem(storage: StorageSection): string | undefined {
  if (
    storage.backend === 'S3' &&
    (storage.accessKeyId === undefined) !== (storage.secretAccessKey === undefined)
  ) {
    return 'give both accessKeyId and secretAccessKey, or neither (the SDK credential chain)';
  }
  if (storage.backend === 'Azure') {
    const account = storage.accountName !== undefined || storage.accountKey !== undefined;
    const complete = storage.accountName !== undefined && storage.accountKey !== undefined;
    if ((storage.connectionString !== undefined) === account || (account && !complete)) {
      return 'give either connectionString, or accountName and accountKey';
    }
  }
  return undefined;
}
