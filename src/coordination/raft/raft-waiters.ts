import type { Clock, Timer } from '../../lib/clock';
import { TidemarkError } from '../../lib/errors';

/** What a proposer learns once its entry applied: where it went, and the state machine's result. */
export interface Applied<T = unknown> {
  readonly index: number;
  readonly term: number;
  readonly result: T;
}

/** A caller waiting: for its entry (`index` of `term`, once proposed) to apply, or for read `requestId`. */
export interface Waiter {
  readonly resolve: (applied: Applied) => void;
  readonly reject: (error: unknown) => void;
  timer: Timer;
  index: number;
  term: number;
  requestId: number;
}

/**
 * The callers a Raft node answers: proposers waiting for their entry to apply, and linearizable reads
 * waiting first for their read index, then for the state machine to reach it. Each waiter has a deadline;
 * every way a wait can end (applied, replaced by another leader's entry, covered by a snapshot, the lead
 * lost, the node stopped) settles it exactly once.
 */
export class RaftWaiters {
  private readonly entries = new Map<number, Waiter>();
  private readonly reads = new Map<number, Waiter>();
  /** Reads whose index is known, waiting for the state machine to reach it. */
  private readsToServe: { index: number; waiter: Waiter }[] = [];

  constructor(
    private readonly clock: Clock,
    private readonly timeoutMs: number,
  ) {}

  /** A waiter with its deadline; what it waits for is set once known (`awaitEntry`, `awaitRead`). */
  create(resolve: (applied: Applied) => void, reject: (error: unknown) => void): Waiter {
    const waiter: Waiter = {
      resolve,
      reject,
      timer: undefined as unknown as Timer,
      index: 0,
      term: 0,
      requestId: 0,
    };
    waiter.timer = this.clock
      .setTimeout(() => {
        if (this.entries.get(waiter.index) === waiter) this.entries.delete(waiter.index);
        if (this.reads.get(waiter.requestId) === waiter) this.reads.delete(waiter.requestId);
        reject(
          new TidemarkError(
            'COORDINATION_UNAVAILABLE',
            `not done within ${this.timeoutMs} ms (no leader with a majority?); a proposal may still commit`,
          ),
        );
      }, this.timeoutMs)
      .unref();
    return waiter;
  }

  /** Settles a waiter that never got to wait (its request was refused at once). */
  refuse(waiter: Waiter, error: unknown): void {
    waiter.timer.cancel();
    waiter.reject(error);
  }

  awaitEntry(index: number, term: number, waiter: Waiter): void {
    // A waiter on this index from an earlier term: its entry was cut from the log, so it cannot commit.
    const replaced = this.entries.get(index);
    if (replaced !== undefined && replaced !== waiter) this.refuse(replaced, overwritten(index));
    waiter.index = index;
    waiter.term = term;
    this.entries.set(index, waiter);
  }

  /** Entry `index` of `term` applied with `result`: its proposer is answered (or told it was replaced). */
  applied(index: number, term: number, result: unknown): void {
    const waiter = this.entries.get(index);
    if (waiter === undefined) return;
    this.entries.delete(index);
    waiter.timer.cancel();
    if (waiter.term === term) waiter.resolve({ index, term, result });
    else waiter.reject(overwritten(index));
  }

  /** A snapshot covered everything up to `index`: whether those were the proposals cannot be told. */
  failUpTo(index: number): void {
    for (const [at, waiter] of this.entries) {
      if (at > index) continue;
      this.entries.delete(at);
      this.refuse(
        waiter,
        new TidemarkError(
          'COORDINATION_UNAVAILABLE',
          `entry ${at} arrived inside a snapshot: its outcome is unknown`,
        ),
      );
    }
  }

  awaitRead(requestId: number, waiter: Waiter): void {
    waiter.requestId = requestId;
    this.reads.set(requestId, waiter);
  }

  /** The read's index is known: it is served once the state machine reaches it. */
  readIndexKnown(requestId: number, index: number): void {
    const waiter = this.reads.get(requestId);
    if (waiter === undefined) return;
    this.reads.delete(requestId);
    this.readsToServe.push({ index, waiter });
  }

  /** Reads whose index the state machine has reached (in practice all: a read's index is a commit index). */
  serveReads(appliedIndex: number): void {
    const waiting: { index: number; waiter: Waiter }[] = [];
    for (const read of this.readsToServe) {
      if (read.index > appliedIndex) {
        waiting.push(read);
        continue;
      }
      read.waiter.timer.cancel();
      read.waiter.resolve({ index: read.index, term: 0, result: undefined });
    }
    this.readsToServe = waiting;
  }

  /** Reads whose index is not known yet fail (the lead that took them was lost). */
  failPendingReads(error: unknown): void {
    for (const waiter of this.reads.values()) this.refuse(waiter, error);
    this.reads.clear();
  }

  /** Everything waiting fails (the node stopped), with `others` the caller still held. */
  failAll(reason: unknown, others: readonly Waiter[]): void {
    const all = [...this.entries.values(), ...this.reads.values(), ...this.readsToServe.map((r) => r.waiter)];
    this.entries.clear();
    this.reads.clear();
    this.readsToServe = [];
    for (const waiter of [...all, ...others]) this.refuse(waiter, reason);
  }
}

function overwritten(index: number): TidemarkError {
  return new TidemarkError(
    'COORDINATION_UNAVAILABLE',
    `entry ${index} was replaced by another leader's: the proposal did not commit; propose it again`,
  );
}
