import type { File, FileMetadata } from '@google-cloud/storage';
import { Readable, type Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { lengthMismatch } from '../storage-errors';
import { exactLength } from './exact-length';
import { readStart } from './stream-start';

export interface UploadPlan {
  key: string;
  body: Buffer | Readable;
  /** The caller's stated length, checked against the bytes (a Buffer's is checked before). */
  contentLength?: number;
  /** Create only if absent: `ifGenerationMatch=0`, which GCS decides atomically. */
  exclusive: boolean;
  resumableThreshold: number;
  chunkSize: number;
}

/**
 * Streams a body into `file` and resolves with the stored object's metadata; the client checks the CRC32C
 * GCS reports against the bytes it sent.
 *
 * A Buffer up to the threshold goes in one multipart request, a larger one as a resumable upload in
 * `chunkSize` requests (GCS stores it only when the last chunk arrives). A stream is read ahead by up to
 * min(threshold, chunkSize) bytes — no more than one resumable chunk, which the client holds in memory
 * anyway: if it ends within that, it is sent like a Buffer; otherwise it goes resumable, whatever its stated
 * length. Streams never go multipart because the client cannot abort a multipart request whose body fails:
 * the request would hang, half-sent, until the connection dies. A resumable upload whose body fails (or turns
 * out to have the wrong length) just never sends its last chunk, so nothing is stored.
 */
export async function uploadObject(file: File, plan: UploadPlan): Promise<FileMetadata> {
  const { key, contentLength } = plan;
  let body = plan.body;
  if (!Buffer.isBuffer(body)) {
    const readAhead = Math.max(1, Math.min(plan.resumableThreshold, plan.chunkSize));
    if (contentLength === undefined || contentLength <= readAhead) {
      const start = await readStart(body, readAhead);
      if (start.ended && contentLength !== undefined && start.head.length !== contentLength) {
        throw lengthMismatch(key, contentLength, start.head.length);
      }
      body = start.ended ? start.head : start.stream;
    }
  }
  const size = Buffer.isBuffer(body) ? body.length : contentLength;
  const resumable = !Buffer.isBuffer(body) || body.length > plan.resumableThreshold;
  const writer = file.createWriteStream({
    resumable,
    chunkSize: resumable ? plan.chunkSize : undefined,
    // A known size lets every chunk state the total, and GCS check it.
    metadata: resumable && size !== undefined ? { contentLength: size } : {},
    preconditionOpts: plan.exclusive ? { ifGenerationMatch: 0 } : undefined,
    validation: 'crc32c',
  });
  if (Buffer.isBuffer(body)) {
    await pipeline(Readable.from(body.length > 0 ? [body] : [], { objectMode: false }), writer);
  } else {
    const check: Transform[] = contentLength === undefined ? [] : [exactLength(key, contentLength)];
    await pipeline([body, ...check, writer]);
  }
  return file.metadata;
}
