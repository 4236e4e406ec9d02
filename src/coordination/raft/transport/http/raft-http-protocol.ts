import { createHmac, timingSafeEqual } from 'node:crypto';
import type { NodeId } from '../../core/types';

/**
 * The wire contract between two HTTP transports. The sender and the recipient are named in headers
 * (percent-encoded, as header values are Latin-1); a signature binds both names to the bytes it covers.
 * - `MESSAGES_ROUTE`: the body is one encoded batch (message-codec.ts), signed in a header.
 * - `STREAM_ROUTE`: a long-lived request (chunked) whose body is a sequence of frames, each one signed
 *   batch (`frameHeader`); its opening is signed over `STREAM_OPEN`. The receiver answers 200 at once and
 *   keeps reading until either side goes. What senders use: one batch costs one socket write, not a request.
 */
export const MESSAGES_ROUTE = '/raft/v1/messages';
export const STREAM_ROUTE = '/raft/v1/stream';

/** What the opening signature of a stream covers (frames are signed one by one). */
export const STREAM_OPEN = Buffer.from('stream', 'utf8');

/** A frame: batch length u32 LE | HMAC-SHA256 of the batch (32 bytes) | the batch. */
export const FRAME_HEADER_BYTES = 4 + 32;

export const FROM_HEADER = 'x-tidemark-raft-from';
export const TO_HEADER = 'x-tidemark-raft-to';
export const SIGNATURE_HEADER = 'x-tidemark-raft-signature';

/**
 * Separates this use of the cluster secret from any other, and names the version: a signature made for
 * something else with the same secret never passes here.
 */
const DOMAIN = Buffer.from('tidemark raft messages v1\n', 'utf8');

const SIGNATURE_HEX = /^[0-9a-f]{64}$/;

/** HMAC-SHA256 over (domain, from, to, body) in lowercase hex; the ids length-prefixed so none can spill into another. */
export function signBatch(secret: Buffer, from: NodeId, to: NodeId, body: Uint8Array): string {
  return mac(secret, from, to, body).toString('hex');
}

/** Whether `signature` (the header's value) is the batch's, compared in constant time. */
export function signatureMatches(
  secret: Buffer,
  from: NodeId,
  to: NodeId,
  body: Uint8Array,
  signature: string,
): boolean {
  if (!SIGNATURE_HEX.test(signature)) return false;
  const expected = mac(secret, from, to, body);
  const given = Buffer.from(signature, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** The header of the frame that carries `batch` on a stream. */
export function frameHeader(secret: Buffer, from: NodeId, to: NodeId, batch: Uint8Array): Buffer {
  const header = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
  header.writeUInt32LE(batch.length, 0);
  mac(secret, from, to, batch).copy(header, 4);
  return header;
}

/** Whether `signature` (32 raw bytes) is the batch's, compared in constant time. */
export function frameSignatureMatches(
  secret: Buffer,
  from: NodeId,
  to: NodeId,
  batch: Uint8Array,
  signature: Uint8Array,
): boolean {
  const expected = mac(secret, from, to, batch);
  return signature.length === expected.length && timingSafeEqual(signature, expected);
}

/** A node id for a header: percent-encoded UTF-8. */
export function headerId(id: NodeId): string {
  return encodeURIComponent(id);
}

/** A node id from a header; undefined when absent or not valid percent-encoding. */
export function idFromHeader(value: string | string[] | undefined): NodeId | undefined {
  if (typeof value !== 'string') return undefined;
  try {
    return decodeURIComponent(value);
  } catch {
    return undefined;
  }
}

function mac(secret: Buffer, from: NodeId, to: NodeId, body: Uint8Array): Buffer {
  const hmac = createHmac('sha256', secret);
  hmac.update(DOMAIN);
  for (const id of [from, to]) {
    const bytes = Buffer.from(id, 'utf8');
    hmac.update(Uint8Array.of(bytes.length & 0xff, bytes.length >>> 8));
    hmac.update(bytes);
  }
  hmac.update(body);
  return hmac.digest();
}
