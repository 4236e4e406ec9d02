export { S3Store } from './s3-store';
export { createS3Client } from './s3-client';
export {
  DEFAULT_MULTIPART_THRESHOLD,
  DEFAULT_PART_SIZE,
  DEFAULT_QUEUE_SIZE,
  type CreateIfAbsentMode,
  type S3ChecksumMode,
  type S3Credentials,
  type S3StoreOptions,
} from './s3-options';
