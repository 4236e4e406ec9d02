import { objectExists } from '../storage-errors';

/**
 * Create-if-absent for S3 compatibles that ignore `If-None-Match: *` (s3rver; some older gateways): HEAD the
 * key, refuse with PRECONDITION_FAILED when it exists, else PUT (still sending `If-None-Match: *`, so a store
 * that does honour it stays atomic).
 *
 * ┌──────────────────────────────────────────────────────────────────────────────────────────────────────┐
 * │ NOT ATOMIC. Two processes (or two S3Store instances) can both see "absent" and both PUT; the last     │
 * │ write wins and both callers are told they created the object. Within one S3Store the creators of a    │
 * │ key are queued, so this instance alone never races itself — that is all. Nothing in Tidemark relies   │
 * │ on this for correctness: fencing is the catalog's fencing token (the Raft term, checked on every      │
 * │ commit), and a manifest written twice holds the same bytes. Use `native` wherever the store enforces   │
 * │ If-None-Match (AWS S3, MinIO).                                                                        │
 * └──────────────────────────────────────────────────────────────────────────────────────────────────────┘
 */
export class CheckThenPut {
  private readonly tails = new Map<string, Promise<void>>();

  /**
   * Runs `put` for `key` unless `exists` finds the object, which throws PRECONDITION_FAILED. Calls for one
   * key run one after another, in call order; calls for other keys are not held up.
   */
  create<T>(key: string, exists: () => Promise<boolean>, put: () => Promise<T>): Promise<T> {
    return this.queued(key, async () => {
      if (await exists()) throw objectExists(key);
      return put();
    });
  }

  private queued<T>(key: string, call: () => Promise<T>): Promise<T> {
    const result = (this.tails.get(key) ?? Promise.resolve()).then(call);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key); // the last in line: nothing to wait for
    });
    return result;
  }
}
