import type { Message, NodeId } from '../core/types';

/**
 * How Raft messages travel between nodes: fire and forget. Raft tolerates loss, duplication and delay, and
 * retries on its own clock, so a transport never makes the core wait and never fails a send.
 */
export interface RaftTransport {
  /** Hands messages to the network; never throws, never waits: a message that cannot be delivered is dropped (Raft retries). */
  send(messages: readonly Message[]): void;
  /** Peers' addresses change with membership. */
  setPeers(peers: ReadonlyMap<NodeId, string>): void;
  start(onReceive: (messages: Message[]) => void): Promise<void>;
  close(): Promise<void>;
}
