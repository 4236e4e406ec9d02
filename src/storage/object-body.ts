import { Readable } from 'node:stream';
import { invalidArgument } from '../lib/errors';
import type { BodyFactory, ByteRange, ObjectBody, ObjectStore, PutOptions } from './object-store';
import { lengthMismatch } from './storage-errors';

/** Helpers around bodies shared by every adapter and decorator, so none of them repeats this. */

export function isBodyFactory(body: ObjectBody): body is BodyFactory {
  return typeof body === 'function';
}

/** A Buffer as is; a stream as is; a factory called once for a fresh stream. */
export function openBody(body: ObjectBody): Buffer | Readable {
  return isBodyFactory(body) ? body() : body;
}

/** Throws INVALID_ARGUMENT for options no adapter accepts, before anything is read or written. */
export function checkPutOptions(key: string, body: ObjectBody, options: PutOptions): void {
  const { ifNoneMatch, contentLength } = options;
  if (ifNoneMatch !== undefined && ifNoneMatch !== '*') {
    throw invalidArgument(`invalid ifNoneMatch ${JSON.stringify(ifNoneMatch)}: only '*' is supported`, {
      key,
    });
  }
  if (contentLength !== undefined && (!Number.isSafeInteger(contentLength) || contentLength < 0)) {
    throw invalidArgument(`invalid contentLength ${String(contentLength)}`, { key });
  }
  if (!Buffer.isBuffer(body) && !isBodyFactory(body) && !(body instanceof Readable)) {
    throw invalidArgument('invalid body: expected a Buffer, a Readable or a function returning one', { key });
  }
  if (Buffer.isBuffer(body) && contentLength !== undefined && contentLength !== body.length) {
    throw lengthMismatch(key, contentLength, body.length);
  }
}

/** Destroys a stream body a put will not read (it owns it), so a file stream's descriptor is not leaked. */
export function discardBody(body: ObjectBody): void {
  if (body instanceof Readable) body.destroy();
}

/** Reads a whole stream into one Buffer — for small objects (manifests) only. */
export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream)
    chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string));
  return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
}

/** The object (or the part `range` names) in one Buffer: `store.getBytes` when it has it, else `get` read whole. */
export async function getBuffer(store: ObjectStore, key: string, range?: ByteRange): Promise<Buffer> {
  if (range === undefined && store.getBytes !== undefined) return store.getBytes(key);
  return readAll(await store.get(key, range));
}
