import type { SlicedComponent } from '../checkpoint/run/sliced-component';

/**
 * A streamed recovery's hand-overs (`onComponent`): one call at a time, in the order components are pushed.
 * Backpressure: with `maxWaiting` components pushed and not yet handed over, `gate()` returns a promise the
 * fetch lanes wait on before their next block. The first failed hand-over ends the hand-overs (later
 * components are dropped) and `gate()` rejects with it, so that the lanes stop; `drain()` throws it.
 */
export class HandOverQueue {
  private chain: Promise<void> = Promise.resolve();
  private failure: { error: unknown } | undefined;
  private waiting = 0;
  private closed: { promise: Promise<void>; open: () => void } | undefined;
  private stopped = false;

  constructor(
    private readonly deliver: (component: SlicedComponent) => Promise<void> | void,
    private readonly signal: AbortSignal,
    private readonly maxWaiting: number,
  ) {}

  /** A hand-over failed, the queue was stopped, or the recovery aborted: nothing more is handed over. */
  get ended(): boolean {
    return this.failure !== undefined || this.stopped || this.signal.aborted;
  }

  /** For the fetch lanes: undefined while open; a promise while full; a rejection once a hand-over failed. */
  gate(): Promise<void> | undefined {
    if (this.failure !== undefined) return Promise.reject(this.failure.error as Error);
    return this.closed?.promise;
  }

  push(component: SlicedComponent): void {
    if (this.ended) return;
    this.waiting++;
    if (this.closed === undefined && this.waiting >= this.maxWaiting) {
      let open = (): void => undefined;
      const promise = new Promise<void>((resolve) => (open = resolve));
      this.closed = { promise, open };
    }
    this.chain = this.chain
      .then(() => (this.ended ? undefined : this.deliver(component)))
      .catch((error: unknown) => {
        this.failure ??= { error };
      })
      .finally(() => {
        this.waiting--;
        if (this.closed !== undefined && (this.waiting < this.maxWaiting || this.failure !== undefined)) {
          this.closed.open();
          this.closed = undefined;
        }
      });
  }

  /** The recovery failed: components not handed over yet are dropped; resolves once the one in flight settled. */
  stop(): Promise<void> {
    this.stopped = true;
    return this.chain;
  }

  /** settled(), then the first hand-over's failure, if any. */
  async drain(): Promise<void> {
    await this.chain;
    if (this.failure !== undefined) throw this.failure.error;
  }
}
