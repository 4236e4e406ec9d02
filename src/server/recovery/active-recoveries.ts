import { TidemarkError } from '../../lib/errors';

/**
 * The recoveries the service is running, so that shutdown can abort them (CLOSED) and wait for them to
 * settle before the engine's worker threads end and the WAL closes.
 */
export class ActiveRecoveries {
  private readonly running = new Map<AbortController, Promise<unknown>>();
  private closed = false;

  get size(): number {
    return this.running.size;
  }

  /** Runs `task` with a signal aborted by `outer` (the client went away) or by close(). */
  async run<T>(task: (signal: AbortSignal) => Promise<T>, outer?: AbortSignal): Promise<T> {
    if (this.closed) throw new TidemarkError('CLOSED', 'the service is shutting down');
    const abort = new AbortController();
    const onOuter = () => abort.abort(outer?.reason);
    outer?.addEventListener('abort', onOuter, { once: true });
    if (outer?.aborted) onOuter();
    const done = task(abort.signal);
    this.running.set(abort, done);
    try {
      return await done;
    } finally {
      this.running.delete(abort);
      outer?.removeEventListener('abort', onOuter);
    }
  }

  /** Aborts every recovery in flight and waits until they have all settled; refuses new ones. */
  async close(): Promise<void> {
    this.closed = true;
    const reason = new TidemarkError('CLOSED', 'the service is shutting down');
    for (const abort of this.running.keys()) abort.abort(reason);
    await Promise.allSettled(this.running.values());
  }
}
