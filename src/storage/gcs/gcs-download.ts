import type { File } from '@google-cloud/storage';
import type { Readable } from 'node:stream';
import type { Clock } from '../../lib/clock';
import type { TidemarkError } from '../../lib/errors';
import { DownloadBody } from './download-body';

/** Inclusive byte positions, as an HTTP Range names them; no `end`: to the end of the object. */
export interface DownloadRange {
  start: number;
  end?: number;
}

export interface DownloadOptions {
  range?: DownloadRange;
  /** Translates the SDK's errors, before and while the body streams. */
  translate: (error: unknown) => TidemarkError;
  /** How long the body may stall while its reader waits (see DownloadBody). */
  stallMs: number;
  onStall: () => TidemarkError;
  clock: Clock;
}

/**
 * Opens a download of `file` (the part `range` names) and waits for GCS's answer, so a missing object (or any
 * refusal) rejects here, with the SDK's untranslated error, before a stream is handed out. Errors while the
 * body streams (a cut connection; on whole-object reads a CRC32C mismatch, which the SDK checks) reach the
 * returned stream translated.
 */
export function openDownload(file: File, options: DownloadOptions): Promise<Readable> {
  const { range, translate, stallMs, onStall, clock } = options;
  const source = file.createReadStream(range === undefined ? {} : { start: range.start, end: range.end });
  return new Promise((resolve, reject) => {
    const onResponse = (response: { statusCode?: number }) => {
      // On an error status the SDK reads the error body and then fails the stream: wait for that.
      if (response.statusCode === undefined || response.statusCode >= 300) return;
      settle();
      resolve(new DownloadBody(source, translate, stallMs, onStall, clock)); // wired in this event: no error slips by
    };
    const onError = (error: unknown) => {
      settle();
      source.destroy();
      reject(error);
    };
    const settle = () => {
      source.off('response', onResponse);
      source.off('error', onError);
    };
    source.on('response', onResponse);
    source.on('error', onError);
    source.read(0); // the SDK sends the request when the stream is first read
  });
}
