/**
 * Cheap Buffer views for decoding. `buf.subarray()` goes through the species machinery and costs about
 * twice what constructing the view directly does, which shows when a block decodes into two views per
 * record. `ViewBuffer` is what Node's own FastBuffer is: a Uint8Array subclass whose prototype chain
 * holds Buffer.prototype, so its instances are Buffers in every respect (`Buffer.isBuffer`, every
 * Buffer method, `instanceof Buffer`).
 */
class ViewBuffer extends Uint8Array {}
Object.setPrototypeOf(ViewBuffer.prototype, Buffer.prototype);

/** `buf.subarray(start, end)`, for in-range indices only (callers check). */
export function bufferView(buf: Buffer, start: number, end: number): Buffer {
  return new ViewBuffer(buf.buffer as ArrayBuffer, buf.byteOffset + start, end - start) as unknown as Buffer;
}
