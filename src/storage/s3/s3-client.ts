import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { inspect } from 'node:util';
import { silentLogger, type Logger } from '../../lib/logger';
import type { S3StoreOptions } from './s3-options';

/**
 * One quick retry inside the SDK covers a pooled connection the server just closed and a single failed part
 * of a large upload; the real retrying, with backoff, is RetryingStore's, around the whole call.
 */
const SDK_MAX_ATTEMPTS = 2;
/** A store that accepts no connection within this is down, not slow. */
const CONNECTION_TIMEOUT_MS = 10_000;
/** A request (or a download the caller is reading) that moves no byte for this long has hung. */
const SOCKET_IDLE_TIMEOUT_MS = 120_000;

/** The client an S3Store builds for itself from its options; exported so callers can add middleware to it. */
export function createS3Client(options: S3StoreOptions): S3Client {
  const checksumMode = options.checksumMode ?? 'WHEN_SUPPORTED';
  return new S3Client({
    region: options.region,
    endpoint: options.endpoint,
    forcePathStyle: options.forcePathStyle ?? false,
    credentials: options.credentials,
    requestChecksumCalculation: checksumMode,
    responseChecksumValidation: checksumMode,
    maxAttempts: SDK_MAX_ATTEMPTS,
    requestHandler: { connectionTimeout: CONNECTION_TIMEOUT_MS, socketTimeout: SOCKET_IDLE_TIMEOUT_MS },
    logger: sdkLogger(options.logger ?? silentLogger),
  });
}

/**
 * The SDK's warnings and errors go to our logger. Without a logger the SDK writes some of them to the console
 * itself ("An error was encountered in a non-retryable streaming request", for a failure the store reports
 * anyway). Its info lines (one per request, with the input) are dropped.
 */
function sdkLogger(log: Logger): NonNullable<S3ClientConfig['logger']> {
  const drop = () => undefined;
  const forward = (...content: unknown[]) =>
    log.warn(
      { component: 'aws-sdk' },
      content.map((part) => (typeof part === 'string' ? part : inspect(part))).join(' '),
    );
  return { trace: drop, debug: drop, info: drop, warn: forward, error: forward };
}
