import type { NodeId } from './types';

export interface PendingRead {
  readonly requestId: number;
  /** The leader's commit index when the read was asked for: the read is served once it is applied. */
  readonly index: number;
  readonly acks: Map<NodeId, boolean>;
}

/**
 * Linearizable reads waiting for a majority to confirm the leader (ReadIndex, Raft dissertation §6.4).
 * A heartbeat carries the newest request's id; a follower's answer to it confirms every request up to
 * that id, since each was registered before the heartbeat left. Reads are released in request order.
 */
export class ReadIndexQueue {
  private pending: PendingRead[] = [];

  add(requestId: number, index: number, self: NodeId): void {
    this.pending.push({ requestId, index, acks: new Map([[self, true]]) });
  }

  /** The newest waiting request's id (what a heartbeat carries), 0 when none waits. */
  newest(): number {
    return this.pending.length > 0 ? (this.pending[this.pending.length - 1] as PendingRead).requestId : 0;
  }

  /** `from` confirmed requests up to `context`: returns those now confirmed by a quorum, oldest first. */
  ack(
    from: NodeId,
    context: number,
    isQuorum: (acks: ReadonlyMap<NodeId, boolean>) => boolean,
  ): PendingRead[] {
    let released = -1;
    for (let i = 0; i < this.pending.length; i++) {
      const read = this.pending[i] as PendingRead;
      if (read.requestId > context) break;
      read.acks.set(from, true);
      if (isQuorum(read.acks)) released = i;
    }
    if (released < 0) return [];
    return this.pending.splice(0, released + 1);
  }

  /** Leadership changed: these reads cannot be confirmed any more (the driver fails them). */
  clear(): void {
    this.pending = [];
  }
}
