import type { Message, NodeId } from '../../../src/coordination/raft/core';
import type { Prng } from './prng';

export interface NetworkFaults {
  /** Probability that a message is lost. */
  drop: number;
  /** Probability that a message is delivered twice. */
  duplicate: number;
  /** Each delivery waits 0..maxDelay steps (uniform), which also reorders messages. */
  maxDelay: number;
}

interface InFlight {
  readonly at: number;
  readonly seq: number;
  readonly message: Message;
}

/**
 * An in-memory network between simulated nodes: it loses, delays (and so reorders) and duplicates messages,
 * and cuts links (`from -> to`, one direction at a time, so asymmetric partitions are possible). A link cut
 * while a message is in flight loses that message too.
 */
export class SimNetwork {
  private queue: InFlight[] = [];
  private readonly cut = new Set<string>();
  private seq = 0;
  faults: NetworkFaults = { drop: 0, duplicate: 0, maxDelay: 0 };
  sent = 0;
  delivered = 0;

  constructor(private readonly rng: Prng) {}

  send(message: Message, now: number): void {
    this.sent++;
    if (this.blocked(message.from, message.to) || this.rng.chance(this.faults.drop)) return;
    const copies = this.rng.chance(this.faults.duplicate) ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      this.queue.push({ at: now + this.rng.int(this.faults.maxDelay + 1), seq: this.seq++, message });
    }
  }

  /** Messages due at `now`, in a random order among those due together. */
  due(now: number): Message[] {
    const ready: InFlight[] = [];
    const later: InFlight[] = [];
    for (const item of this.queue) (item.at <= now ? ready : later).push(item);
    this.queue = later;
    const out = this.rng
      .shuffle(ready)
      .filter((item) => !this.blocked(item.message.from, item.message.to))
      .map((item) => item.message);
    this.delivered += out.length;
    return out;
  }

  blocked(from: NodeId, to: NodeId): boolean {
    return this.cut.has(`${from}>${to}`);
  }

  cutLink(from: NodeId, to: NodeId): void {
    this.cut.add(`${from}>${to}`);
  }

  /** Cuts both directions between every node of `a` and every node of `b`. */
  partition(a: readonly NodeId[], b: readonly NodeId[]): void {
    for (const x of a) {
      for (const y of b) {
        this.cutLink(x, y);
        this.cutLink(y, x);
      }
    }
  }

  heal(): void {
    this.cut.clear();
  }

  /** Forgets what is in flight to or from `node` (a node whose identity is retired). */
  forget(node: NodeId): void {
    this.queue = this.queue.filter((item) => item.message.from !== node && item.message.to !== node);
  }

  inFlight(): number {
    return this.queue.length;
  }
}
