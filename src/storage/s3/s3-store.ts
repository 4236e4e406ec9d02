import {
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type PutObjectCommandInput,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Readable } from 'node:stream';
import { TidemarkError } from '../../lib/errors';
import { silentLogger, type Logger } from '../../lib/logger';
import { checkRange, clipRange } from '../byte-range';
import { assertValidKey, assertValidPrefix } from '../key-rules';
import { checkPutOptions, discardBody, openBody } from '../object-body';
import type {
  ByteRange,
  ListedObject,
  ObjectBody,
  ObjectInfo,
  ObjectStore,
  PutOptions,
  PutResult,
} from '../object-store';
import { objectNotFound, storageUnavailable } from '../storage-errors';
import { createS3Client } from './s3-client';
import { CheckThenPut } from './s3-create-if-absent';
import { classify, isMissingObject, isUnsatisfiableRange, translateS3Error, type S3Call } from './s3-errors';
import { normalEtag } from './s3-etag';
import { listObjects } from './s3-listing';
import { uploadMultipart } from './s3-multipart';
import { resolveS3Options, type ResolvedS3Options, type S3StoreOptions } from './s3-options';
import { watchBody } from './s3-put-body';
import { rangeHeader, servedPart } from './s3-range';
import { readWindow } from './s3-read-window';

/** DeleteObjects takes at most 1,000 keys a request. */
const DELETE_BATCH = 1000;

/**
 * The object store in an S3 bucket: AWS S3, MinIO, s3rver and other S3 compatibles. The bucket must exist
 * (`init` checks it can be reached and names it when not; Tidemark never creates buckets).
 *
 * - put: a body known to fit `multipartThreshold` goes as one PutObject; a longer one, or a stream of unknown
 *   length, as a multipart upload of `partSize` parts (`s3-multipart.ts`), aborted when it fails. A stream of
 *   unknown length may be up to 10,000 parts long (80 GB at 8 MiB). Create-if-absent: see `createIfAbsent`.
 * - get: one GET with a `Range` header; S3's 416 for a range past the end becomes an empty body, as the port
 *   says; whatever the server answers is cut to the asked window (`s3-read-window.ts`).
 * - list: ListObjectsV2, paged and order-checked (`s3-listing.ts`); delete: DeleteObjects, 1,000 keys a time.
 *
 * Errors are translated by `s3-errors.ts`. The SDK retries once; RetryingStore does the real retrying.
 * Permissions needed: s3:ListBucket (init, list — and without it S3 answers a missing key with 403, not 404),
 * s3:GetObject, s3:PutObject, s3:DeleteObject, s3:AbortMultipartUpload.
 */
export class S3Store implements ObjectStore {
  private readonly client: S3Client;
  private readonly ownsClient: boolean;
  private readonly settings: ResolvedS3Options;
  private readonly where: string;
  private readonly log: Logger;
  private readonly checkThenPut = new CheckThenPut();
  private ready: Promise<void> | undefined;

  constructor(options: S3StoreOptions) {
    this.settings = resolveS3Options(options);
    this.client = options.client ?? createS3Client(options);
    this.ownsClient = options.client === undefined;
    this.where = options.endpoint ?? `AWS region ${options.region}`;
    this.log = options.logger ?? silentLogger;
  }

  /** Checks that the bucket exists and the credentials reach it (HeadBucket); retried after a failure. */
  init(): Promise<void> {
    this.ready ??= this.checkBucket().catch((error: unknown) => {
      this.ready = undefined;
      throw error;
    });
    return this.ready;
  }

  private async checkBucket(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.settings.bucket }));
    } catch (error) {
      throw this.translate(error, 'init');
    }
  }

  /** Closes the connections of a client the store made itself (an injected client is its owner's). */
  async close(): Promise<void> {
    if (this.ownsClient) this.client.destroy();
  }

  async put(key: string, body: ObjectBody, options: PutOptions = {}): Promise<PutResult> {
    let handedOver = false; // once `upload` has the body, it destroys it on failure
    const upload = () => {
      handedOver = true;
      return this.upload(key, body, options);
    };
    try {
      assertValidKey(key);
      checkPutOptions(key, body, options);
      await this.init();
      if (options.ifNoneMatch === '*' && this.settings.createIfAbsent === 'check-then-put') {
        return await this.checkThenPut.create(key, async () => (await this.head(key)) !== undefined, upload);
      }
      return await upload();
    } catch (error) {
      if (!handedOver) discardBody(body);
      throw error;
    }
  }

  private async upload(key: string, body: ObjectBody, options: PutOptions): Promise<PutResult> {
    const params: PutObjectCommandInput & { Bucket: string; Key: string } = {
      Bucket: this.settings.bucket,
      Key: key,
      IfNoneMatch: options.ifNoneMatch,
    };
    const source = openBody(body);
    if (Buffer.isBuffer(source)) {
      try {
        const etag =
          source.length <= this.settings.multipartThreshold
            ? await this.putObject({ ...params, Body: source, ContentLength: source.length })
            : await uploadMultipart(
                this.client,
                { ...params, Body: source },
                this.multipart(),
                source.length,
              );
        return { size: source.length, etag: normalEtag(etag) };
      } catch (error) {
        throw this.translate(error, 'put', key);
      }
    }
    const known = options.contentLength;
    const watched = watchBody(source, key, known);
    try {
      const etag =
        known !== undefined && known <= this.settings.multipartThreshold
          ? await this.putObject({ ...params, Body: watched.stream, ContentLength: known }, watched.signal)
          : await uploadMultipart(this.client, { ...params, Body: watched.stream }, this.multipart(), known);
      return { size: watched.size(), etag: normalEtag(etag) };
    } catch (error) {
      watched.stream.destroy();
      throw watched.failure() ?? this.translate(error, 'put', key);
    }
  }

  private async putObject(
    input: PutObjectCommandInput,
    abortSignal?: AbortSignal,
  ): Promise<string | undefined> {
    return (await this.client.send(new PutObjectCommand(input), { abortSignal })).ETag;
  }

  private multipart() {
    return { partSize: this.settings.partSize, queueSize: this.settings.queueSize, logger: this.log };
  }

  async get(key: string, range?: ByteRange): Promise<Readable> {
    assertValidKey(key);
    checkRange(range);
    await this.init();
    if (range?.length === 0) return this.emptyIfPresent(key);
    let answer;
    try {
      answer = await this.client.send(
        new GetObjectCommand({ Bucket: this.settings.bucket, Key: key, Range: rangeHeader(range) }),
      );
    } catch (error) {
      // 416: the range starts at or past the end — an empty body if the object exists (the port clips).
      if (isUnsatisfiableRange(error)) return this.emptyIfPresent(key);
      throw this.translate(error, 'get', key);
    }
    const body = answer.Body;
    if (!(body instanceof Readable)) {
      throw new TidemarkError(
        'INTERNAL',
        `S3 get of ${key}: the SDK returned a body that is not a Node stream`,
      );
    }
    const served = servedPart(answer.ContentRange, answer.ContentLength);
    const wanted = served === undefined ? undefined : clipRange(served.size, range);
    if (
      served === undefined ||
      wanted === undefined ||
      wanted.start < served.start ||
      wanted.end > served.start + served.length
    ) {
      body.destroy();
      throw storageUnavailable(
        `S3 get of ${key} answered bytes that do not cover the range asked for`,
        undefined,
        { key, range, contentRange: answer.ContentRange, contentLength: answer.ContentLength },
      );
    }
    return readWindow(body, wanted.start - served.start, wanted.end - wanted.start, (error) =>
      this.translate(error, 'get', key),
    );
  }

  private async emptyIfPresent(key: string): Promise<Readable> {
    if ((await this.head(key)) === undefined) throw objectNotFound(key);
    return Readable.from([], { objectMode: false });
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    assertValidKey(key);
    await this.init();
    try {
      const answer = await this.client.send(
        new HeadObjectCommand({ Bucket: this.settings.bucket, Key: key }),
      );
      return {
        size: answer.ContentLength ?? 0,
        etag: normalEtag(answer.ETag),
        lastModified: answer.LastModified ?? new Date(0),
      };
    } catch (error) {
      // HEAD answers have no body, so a missing bucket is a bare 404 too; `init` has checked the bucket.
      if (isMissingObject(error)) return undefined;
      throw this.translate(error, 'head', key);
    }
  }

  async *list(prefix: string): AsyncGenerator<ListedObject> {
    assertValidPrefix(prefix);
    await this.init();
    yield* listObjects(this.client, this.settings.bucket, prefix, (error) => this.translate(error, 'list'));
  }

  async delete(keys: readonly string[]): Promise<void> {
    for (const key of keys) assertValidKey(key);
    if (keys.length === 0) return;
    await this.init();
    const unique = [...new Set(keys)];
    for (let i = 0; i < unique.length; i += DELETE_BATCH) {
      await this.deleteBatch(unique.slice(i, i + DELETE_BATCH));
    }
  }

  private async deleteBatch(keys: string[]): Promise<void> {
    let answer;
    try {
      answer = await this.client.send(
        new DeleteObjectsCommand({
          Bucket: this.settings.bucket,
          Delete: { Objects: keys.map((key) => ({ Key: key })), Quiet: true },
        }),
      );
    } catch (error) {
      throw this.translate(error, 'delete', keys[0]);
    }
    // Quiet: only failures are listed. A key that did not exist is not one (S3 reports it deleted).
    const failed = answer.Errors?.[0];
    if (failed !== undefined) {
      const key = failed.Key ?? keys[0];
      throw classify(
        { name: failed.Code ?? 'Error', message: failed.Message ?? '' },
        this.call('delete', key),
        failed,
      );
    }
  }

  private translate(error: unknown, op: string, key?: string): TidemarkError {
    return translateS3Error(error, this.call(op, key));
  }

  private call(op: string, key?: string): S3Call {
    return { op, key, bucket: this.settings.bucket, where: this.where };
  }
}
