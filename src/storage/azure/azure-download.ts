import { PassThrough, Readable } from 'node:stream';
import type { BlockBlobClient } from '@azure/storage-blob';
import { TidemarkError } from '../../lib/errors';
import type { ByteRange } from '../object-store';
import { isRangeUnsatisfiable } from './azure-errors';

/**
 * Opens a blob, or the part `range` names, for reading — resolving only once Azure answered, so a missing blob
 * rejects before any stream exists. Azure clips a range that runs past the end and answers 416 to one that
 * starts at or past it (azurite answers an empty 206 there): both give an empty body, as the port says. A
 * zero-length range cannot be said in a Range header; the caller checks the blob exists instead. The SDK
 * resumes a broken download by itself (up to 5 times, pinned to the blob's etag so the bytes cannot change
 * underneath); an error after that is emitted on the stream, translated by `translate`.
 */
export async function downloadBlob(
  blob: BlockBlobClient,
  range: ByteRange | undefined,
  translate: (error: unknown) => Error,
): Promise<Readable> {
  let response;
  try {
    response = await blob.download(range?.offset ?? 0, range?.length);
  } catch (error) {
    if (isRangeUnsatisfiable(error)) return emptyBody();
    throw error;
  }
  const body = response.readableStreamBody;
  if (!(body instanceof Readable)) {
    throw new TidemarkError('INTERNAL', 'Azure SDK gave no Node.js stream for a download', {
      details: { blob: blob.name },
    });
  }
  return translatedErrors(body, translate);
}

export function emptyBody(): Readable {
  return Readable.from([], { objectMode: false });
}

/** The bytes of `source`, with its errors translated; destroying the result releases the connection. */
function translatedErrors(source: Readable, translate: (error: unknown) => Error): Readable {
  const out = new PassThrough();
  source.once('error', (error) => out.destroy(translate(error)));
  out.once('close', () => source.destroy());
  source.pipe(out);
  return out;
}
