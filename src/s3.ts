/** `tidemark/s3`: the S3 (and MinIO) object store, apart from the main face so its SDK loads only when used. */
export * from './storage/s3';
