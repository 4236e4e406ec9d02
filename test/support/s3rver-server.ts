import { CreateBucketCommand, DeleteBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { S3StoreOptions } from '../../src/storage/s3';
import { ChildServer } from './child-server';

/** The credentials s3rver accepts (it checks the access key id, not the signature). */
export const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
const REGION = 'us-east-1';

/**
 * s3rver (a fake S3 on the local file system) for one test file, run as a child process so that
 * - it runs with `--openssl-legacy-provider`: it encrypts listing continuation tokens with DES, which
 *   Node 20's OpenSSL 3 refuses otherwise (every paginated listing would answer 500);
 * - a test can stop it (an outage) and start it again on the same port with the same data.
 * Buckets are made with the SDK, a fresh one per test (`createBucket`).
 */
export class S3rverServer {
  private readonly dir = mkdtempSync(join(tmpdir(), 'tidemark-s3rver-'));
  private child: ChildServer | undefined;
  private port = 0;
  private admin: S3Client | undefined;
  private buckets = 0;

  get endpoint(): string {
    if (this.port === 0) throw new Error('s3rver has not been started');
    return `http://127.0.0.1:${this.port}`;
  }

  /** Starts s3rver: on a port the OS picks the first time, on that same port and directory after a stop. */
  async start(): Promise<void> {
    const child = new ChildServer({
      command: process.execPath,
      args: [
        require.resolve('s3rver/bin/s3rver.js'),
        '--directory',
        this.dir,
        '--address',
        '127.0.0.1',
        '--port',
        String(this.port),
        '--silent',
      ],
      env: { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --openssl-legacy-provider`.trim() },
      ready: /S3rver listening on [^\s:]+:(\d+)/,
    });
    const port = await child.start();
    this.child = child;
    this.port = Number(port);
  }

  /** Stops s3rver (its data stays for `start`). */
  async stop(): Promise<void> {
    await this.child?.stop();
    this.child = undefined;
  }

  /** Freezes s3rver (see ChildServer.pause): requests hang instead of failing. */
  pause(): void {
    this.child?.pause();
  }

  resume(): void {
    this.child?.resume();
  }

  /** Stops s3rver and removes its data: for afterAll. */
  async dispose(): Promise<void> {
    this.admin?.destroy();
    this.admin = undefined;
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Creates a new, empty bucket with a unique name and returns the name. */
  async createBucket(): Promise<string> {
    const bucket = `b${++this.buckets}-${randomBytes(4).toString('hex')}`;
    await this.client().send(new CreateBucketCommand({ Bucket: bucket }));
    return bucket;
  }

  /** Deletes an (empty) bucket. */
  async deleteBucket(bucket: string): Promise<void> {
    await this.client().send(new DeleteBucketCommand({ Bucket: bucket }));
  }

  /** S3Store options for a bucket of this server, with the settings s3rver needs. */
  storeOptions(bucket: string): S3StoreOptions {
    return {
      bucket,
      region: REGION,
      endpoint: this.endpoint,
      forcePathStyle: true,
      credentials: S3RVER_CREDENTIALS,
      // s3rver stores the aws-chunked framing of checksummed uploads inside the object.
      checksumMode: 'WHEN_REQUIRED',
      // s3rver ignores If-None-Match.
      createIfAbsent: 'check-then-put',
    };
  }

  private client(): S3Client {
    this.admin ??= new S3Client({
      region: REGION,
      endpoint: this.endpoint,
      forcePathStyle: true,
      credentials: S3RVER_CREDENTIALS,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
    return this.admin;
  }
}
