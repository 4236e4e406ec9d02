import type { ObjectBody, ObjectStore, PutOptions, PutResult } from '../../../../src/storage';

/**
 * A store whose puts of matching keys wait at a gate the test opens: to hold a job (or a writer) in the
 * middle of its work — a stand-in for a process that froze — while the test changes the world around it.
 */
export class GatedStore implements ObjectStore {
  private gate: Promise<void> | undefined;
  private openGate: (() => void) | undefined;
  /** Puts waiting at the gate now. */
  waiting = 0;

  constructor(
    private readonly inner: ObjectStore,
    private readonly matches: (key: string) => boolean,
  ) {}

  close(): void {
    this.gate = new Promise((resolve) => (this.openGate = resolve));
  }

  open(): void {
    this.openGate?.();
    this.gate = undefined;
  }

  init() {
    return this.inner.init();
  }

  async put(key: string, body: ObjectBody, options?: PutOptions): Promise<PutResult> {
    if (this.gate && this.matches(key)) {
      this.waiting++;
      await this.gate;
      this.waiting--;
    }
    return this.inner.put(key, body, options);
  }

  get(...args: Parameters<ObjectStore['get']>) {
    return this.inner.get(...args);
  }

  head(key: string) {
    return this.inner.head(key);
  }

  list(prefix: string) {
    return this.inner.list(prefix);
  }

  delete(keys: readonly string[]) {
    return this.inner.delete(keys);
  }
}
