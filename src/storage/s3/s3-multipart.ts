import { AbortMultipartUploadCommand, type PutObjectCommandInput, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { Readable } from 'node:stream';
import type { Logger } from '../../lib/logger';
import { MAX_PARTS } from './s3-options';

export interface MultipartSettings {
  partSize: number;
  queueSize: number;
  logger: Logger;
}

/**
 * Uploads `body` with lib-storage's `Upload`: parts of `partSize` bytes, `queueSize` at a time (so at most
 * `partSize × queueSize` bytes are buffered); a body that turns out to fit in one part goes as one PutObject.
 * `params.IfNoneMatch` reaches PutObject and CompleteMultipartUpload, where S3 enforces it.
 *
 * On failure the multipart upload is aborted here rather than by `Upload`, whose own abort would replace the
 * error that caused it with the abort's (s3rver, for one, answers AbortMultipartUpload with 405). An abort
 * that fails is logged with the upload id; S3 keeps (and bills) the parts until a lifecycle rule with
 * AbortIncompleteMultipartUpload removes them — set one on the bucket. Resolves to the object's ETag.
 */
export async function uploadMultipart(
  client: S3Client,
  params: PutObjectCommandInput & { Bucket: string; Key: string; Body: Buffer | Readable },
  settings: MultipartSettings,
  knownLength?: number,
): Promise<string | undefined> {
  const upload = new Upload({
    client,
    params,
    partSize: partSizeFor(settings.partSize, knownLength),
    queueSize: settings.queueSize,
    leavePartsOnError: true,
  });
  try {
    return (await upload.done()).ETag;
  } catch (error) {
    if (upload.uploadId !== undefined)
      await abort(client, params.Bucket, params.Key, upload.uploadId, settings.logger);
    throw error;
  }
}

/** Grows parts for a known length that would need more than S3's 10,000 of them. */
function partSizeFor(partSize: number, knownLength: number | undefined): number {
  return knownLength === undefined ? partSize : Math.max(partSize, Math.ceil(knownLength / MAX_PARTS));
}

async function abort(
  client: S3Client,
  bucket: string,
  key: string,
  uploadId: string,
  logger: Logger,
): Promise<void> {
  try {
    await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }));
  } catch (error) {
    logger.warn(
      { bucket, key, uploadId, err: error },
      'could not abort a failed multipart upload; its parts stay until a lifecycle rule removes them',
    );
  }
}
