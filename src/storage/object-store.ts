import type { Readable } from 'node:stream';

/**
 * What Tidemark needs from an object store — a bucket of immutable-ish blobs named by keys — and nothing
 * more, so S3, GCS, Azure Blob, a local directory and memory can all stand behind it (in the spirit of
 * Litestream's replica client). Keys are built by `object-keys.ts` and obey `key-rules.ts`; every adapter
 * refuses an invalid key with INVALID_ARGUMENT before doing anything.
 *
 * Durability: a `put` that resolved is durable (the local store has fsynced the file and its directory when
 * `syncWrites` is on; the clouds acknowledge after storing). A `put` that rejected or never settled (crash)
 * leaves either the previous object or the new one under the key — never a partial body. Deletes are durable
 * when they resolve.
 *
 * Ordering and visibility: once `put` resolves, `get`, `head` and `list` anywhere see the new object
 * (read-after-write, which S3, GCS and Azure all give today). Nothing orders two writes that are in flight
 * at the same time; callers that need "B only after A" (a manifest only after its blocks, invariant 4)
 * await A before starting B. A listing is not a snapshot: objects put or deleted while it is iterated may
 * or may not appear, but no key appears twice and keys come in `compareKeys` order (UTF-8 byte order, the
 * order the clouds list in).
 *
 * Errors (TidemarkError): NOT_FOUND (get of a missing key), PRECONDITION_FAILED (create-if-absent on a key
 * that exists), INVALID_ARGUMENT (bad key, range or length — nothing changed), STORAGE_UNAVAILABLE (the
 * store could not be reached or failed transiently: retryable, see `retrying-store.ts`). An adapter
 * translates its SDK's or the file system's errors into these; it never lets a raw SDK error out.
 */
export interface ObjectStore {
  /**
   * Prepares the store (creates the local directory, removes a crash's leftovers, …). Idempotent; every
   * other method calls it lazily, so calling it is optional — do so at start-up to fail fast.
   */
  init(): Promise<void>;

  /**
   * Stores `body` under `key`, replacing what was there — or, with `ifNoneMatch: '*'`, only if nothing is
   * there (atomically: of many concurrent create-if-absent puts of one key exactly one wins, the others get
   * PRECONDITION_FAILED). Bodies are streamed, never held whole in memory by the port or a disk/cloud
   * adapter. The store owns a stream body: it is consumed, or destroyed when the put fails. A failure of the
   * body stream itself rejects the put with that stream's error.
   */
  put(key: string, body: ObjectBody, options?: PutOptions): Promise<PutResult>;

  /**
   * Opens the object (or the part `range` names) for reading. A missing key rejects with NOT_FOUND before any
   * stream exists; errors while streaming are emitted on the stream. A range is clipped to the object: an
   * offset at or past the end gives an empty body. `getBuffer` (object-body.ts) reads it into one Buffer.
   */
  get(key: string, range?: ByteRange): Promise<Readable>;

  /**
   * Optional: the whole object in one Buffer, where a store does that better than through a stream (a
   * local file in one read: recovery reads every block this way). NOT_FOUND as `get`. `getBuffer` uses
   * it when it is there.
   */
  getBytes?(key: string): Promise<Buffer>;

  /** Size, etag and time of the object, or undefined when there is none. */
  head(key: string): Promise<ObjectInfo | undefined>;

  /**
   * Every object whose key begins with `prefix` (plain text, `''` for all), in `compareKeys` order.
   * Adapters page through the store internally (S3 gives 1,000 keys a request); callers just iterate.
   */
  list(prefix: string): AsyncIterable<ListedObject>;

  /** Deletes the objects; a key that does not exist is not an error. All keys are validated first. */
  delete(keys: readonly string[]): Promise<void>;
}

/**
 * A body to put: a Buffer, a stream (consumed once: a put of it is never retried), or a function that opens
 * a fresh stream each time it is called (a put of it may be retried: `() => fs.createReadStream(path)`).
 */
export type ObjectBody = Buffer | Readable | BodyFactory;
export type BodyFactory = () => Readable;

export interface PutOptions {
  /** `'*'`: create only if no object has the key (S3 `If-None-Match: *`, GCS `ifGenerationMatch: 0`). */
  ifNoneMatch?: '*';
  /**
   * The body's exact length, when known. Cloud adapters use it to choose a single PUT over a multipart
   * upload; every adapter refuses (INVALID_ARGUMENT, nothing stored) a body whose length differs.
   */
  contentLength?: number;
}

export interface PutResult {
  /** Bytes stored. */
  size: number;
  /** Opaque version tag, as `head` and `list` then report it; it changes when the object is replaced. */
  etag?: string;
}

/** `length` bytes from `offset`; without `length`, to the end. Both non-negative integers. */
export interface ByteRange {
  offset: number;
  length?: number;
}

export interface ObjectInfo {
  size: number;
  etag?: string;
  lastModified: Date;
}

export interface ListedObject extends ObjectInfo {
  key: string;
}
