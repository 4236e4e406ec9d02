import { Readable } from 'node:stream';
import type { BlobRequestConditions, BlockBlobClient } from '@azure/storage-blob';
import type { Logger } from '../../lib/logger';
import type { PutResult } from '../object-store';
import { objectExists } from '../storage-errors';
import { isBlobMissing } from './azure-errors';
import { quotedEtag } from './blob-info';
import { CountedBody } from './counted-body';

export interface UploadPlan {
  key: string;
  /** Create-if-absent. */
  exclusive: boolean;
  contentLength?: number;
  blockSize: number;
  singleShotThreshold: number;
  concurrency: number;
  log: Logger;
  /** Turns an SDK error into the port's error. */
  translate: (error: unknown) => Error;
}

/**
 * How a body becomes a block blob, atomically either way:
 * - up to `singleShotThreshold` bytes: one Put Blob request;
 * - more: blocks of `blockSize` staged in parallel, then one Put Block List that commits them. Staged blocks
 *   are invisible (no `head`, no `list`) until that commit, so a body that fails or has the wrong length
 *   leaves nothing behind but uncommitted blocks, which Azure discards (on the next commit of the key, or
 *   after a week).
 * Create-if-absent sends `If-None-Match: *` with the request that makes the blob visible; Azure answers 409
 * BlobAlreadyExists (or 412) when the key exists.
 */
export async function uploadBuffer(
  blob: BlockBlobClient,
  data: Buffer,
  plan: UploadPlan,
): Promise<PutResult> {
  try {
    return await putBuffer(blob, data, plan);
  } catch (error) {
    throw plan.translate(error);
  }
}

async function putBuffer(blob: BlockBlobClient, data: Buffer, plan: UploadPlan): Promise<PutResult> {
  const conditions = conditionsOf(plan);
  if (data.length <= plan.singleShotThreshold) {
    const response = await blob.upload(data, data.length, { conditions });
    return { size: data.length, etag: quotedEtag(response.etag) };
  }
  await refuseIfExists(blob, plan);
  plan.log.debug({ key: plan.key, size: data.length, blockSize: plan.blockSize }, 'uploading in blocks');
  const response = await blob.uploadData(data, {
    blockSize: plan.blockSize,
    concurrency: plan.concurrency,
    maxSingleShotSize: plan.singleShotThreshold,
    conditions,
  });
  return { size: data.length, etag: quotedEtag(response.etag) };
}

/**
 * A stream of unknown length is read up to `singleShotThreshold` bytes first: a body that ends by then goes
 * up in one request (so small creates, like manifests, are one atomic Put Blob); a longer one is staged block
 * by block with at most `concurrency` blocks in memory, and committed only once the body ended at the length
 * `contentLength` said. A failure of the body stream rejects with the stream's own error, any other failure
 * with its translation.
 */
export async function uploadStream(
  blob: BlockBlobClient,
  source: Readable,
  plan: UploadPlan,
): Promise<PutResult> {
  const body = new CountedBody(source, plan.key, plan.contentLength);
  try {
    const head = await body.readBeyond(plan.singleShotThreshold);
    if (head.ended) return await putBuffer(blob, Buffer.concat(head.chunks), plan);
    await refuseIfExists(blob, plan);
    plan.log.debug({ key: plan.key, blockSize: plan.blockSize }, 'uploading a stream in blocks');
    const rest = Readable.from(body.followedByRest(head.chunks), { objectMode: false });
    try {
      const response = await blob.uploadStream(rest, plan.blockSize, plan.concurrency, {
        conditions: conditionsOf(plan),
      });
      return { size: body.size, etag: quotedEtag(response.etag) };
    } finally {
      rest.destroy();
    }
  } catch (error) {
    const failure = body.failure;
    throw failure === undefined ? plan.translate(error) : failure.error;
  }
}

function conditionsOf(plan: UploadPlan): BlobRequestConditions | undefined {
  return plan.exclusive ? { ifNoneMatch: '*' } : undefined;
}

/**
 * Before staging blocks for a create-if-absent, a cheap look whether the key is taken — only to spare a doomed
 * upload; the commit's condition is what decides.
 */
async function refuseIfExists(blob: BlockBlobClient, plan: UploadPlan): Promise<void> {
  if (!plan.exclusive) return;
  try {
    await blob.getProperties();
  } catch (error) {
    if (isBlobMissing(error)) return;
    throw error;
  }
  throw objectExists(plan.key);
}
