import { createHmac, timingSafeEqual } from 'node:crypto';
import type { NodeId } from '../../core/types';

/**
 * The wire contract between two HTTP transports. The sender and the recipient are named in headers
 * (percent-encoded, as header values are Latin-1); a signature binds both names to the bytes it covers.
 * - `MESSAGES_ROUTE`: the body is one encoded batch (message-codec.ts), signed in a header.
 * - `STREAM_ROUTE`: what senders use — a long-lived request (chunked) whose opening is signed
 *   (`signOpening`: over the two names alone) and whose body is a sequence of frames, each one signed batch (`frameHeader`): one socket
 *   write per batch, not a request. The receiver answers 200 at once; its answer's body is a sequence of
 *   u32 LE words: each the count of frames it has taken so far (an acknowledgement, at most every
 *   `STREAM_ACK_INTERVAL_MS` while frames come), or `STREAM_REFUSED` followed by a UTF-8 reason up to the
 *   answer's end, when it refuses a frame and ends the stream.
 */
export const MESSAGES_ROUTE = '/raft/v1/messages';
export const STREAM_ROUTE = '/raft/v1/stream';

/** A frame: batch length u32 LE | HMAC-SHA256 of the batch (32 bytes) | the batch. */
export const FRAME_HEADER_BYTES = 4 + 32;

/** In a stream's answer: the word that says the receiver refused a frame (the reason follows). */
export const STREAM_REFUSED = 0xffffffff;

/** How often, at most, a receiver acknowledges what it took from a stream. */
export const STREAM_ACK_INTERVAL_MS = 100;

export const FROM_HEADER = 'x-tidemark-raft-from';
export const TO_HEADER = 'x-tidemark-raft-to';
export const SIGNATURE_HEADER = 'x-tidemark-raft-signature';

/**
 * Separate this use of the cluster secret from any other, and each signed thing from the others (a single
 * request's batch, a stream's opening, a frame), and name the version: a signature made for one never passes
 * as another.
 */
const REQUEST_DOMAIN = Buffer.from('tidemark raft messages v1\n', 'utf8');
const FRAME_DOMAIN = Buffer.from('tidemark raft frame v1\n', 'utf8');
const OPENING_DOMAIN = Buffer.from('tidemark raft stream v1\n', 'utf8');
const NOTHING = new Uint8Array(0);

const SIGNATURE_HEX = /^[0-9a-f]{64}$/;

/** HMAC-SHA256 over (domain, from, to, body) in lowercase hex; the ids length-prefixed so none can spill into another. */
export function signBatch(secret: Buffer, from: NodeId, to: NodeId, body: Uint8Array): string {
  return mac(REQUEST_DOMAIN, secret, from, to, body).toString('hex');
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
  const expected = mac(REQUEST_DOMAIN, secret, from, to, body);
  const given = Buffer.from(signature, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** The signature header of a stream's opening (lowercase hex). */
export function signOpening(secret: Buffer, from: NodeId, to: NodeId): string {
  return mac(OPENING_DOMAIN, secret, from, to, NOTHING).toString('hex');
}

/** Whether `signature` (the header's value) is the opening's, compared in constant time. */
export function openingMatches(secret: Buffer, from: NodeId, to: NodeId, signature: string): boolean {
  if (!SIGNATURE_HEX.test(signature)) return false;
  const given = Buffer.from(signature, 'hex');
  const expected = mac(OPENING_DOMAIN, secret, from, to, NOTHING);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** The header of the frame that carries `batch` on a stream. */
export function frameHeader(secret: Buffer, from: NodeId, to: NodeId, batch: Uint8Array): Buffer {
  const header = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
  header.writeUInt32LE(batch.length, 0);
  mac(FRAME_DOMAIN, secret, from, to, batch).copy(header, 4);
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
  const expected = mac(FRAME_DOMAIN, secret, from, to, batch);
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

function mac(domain: Buffer, secret: Buffer, from: NodeId, to: NodeId, body: Uint8Array): Buffer {
  const hmac = createHmac('sha256', secret);
  hmac.update(domain);
  for (const id of [from, to]) {
    const bytes = Buffer.from(id, 'utf8');
    hmac.update(Uint8Array.of(bytes.length & 0xff, bytes.length >>> 8));
    hmac.update(bytes);
  }
  hmac.update(body);
  return hmac.digest();
}
