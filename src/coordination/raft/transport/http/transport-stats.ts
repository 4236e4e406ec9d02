import type { NodeId } from '../../core/types';

/** What happened to the messages handed to one peer, since the transport started. */
export interface PeerTransportStats {
  address: string;
  /** Waiting to be sent now. */
  queued: number;
  /** Written to a stream the peer had accepted, in `sentBatches` frames (TCP delivers them or the stream breaks). */
  sentMessages: number;
  sentBatches: number;
  /** Never sent: pushed out of a full queue, too large for one batch, or left when the transport closed. */
  droppedMessages: number;
  /** Waiting when a stream could not be opened (refused, failed, timed out): lost, as Raft expects. */
  failedMessages: number;
  /** Streams opened (accepted by the peer), and those that failed: refused, broken or timed out. */
  openedStreams: number;
  failedStreams: number;
  /** Of the failed streams, those cut at the timeout: no answer to the opening, or no progress writing. */
  timedOutStreams: number;
}

/** Why an inbound request was refused. */
export type RefusalReason =
  | 'unauthenticated' // no signature or sender, or a signature that does not match
  | 'unknownSender' // a sender not in the peers map
  | 'misdirected' // addressed to another node
  | 'malformed' // a body that does not decode, or messages that do not match the headers
  | 'tooLarge' // a body (or a stream's frame) over maxBodyBytes
  | 'notFound' // another route or method
  | 'failed'; // the receive callback threw

export function emptyRefusals(): Record<RefusalReason, number> {
  return {
    unauthenticated: 0,
    unknownSender: 0,
    misdirected: 0,
    malformed: 0,
    tooLarge: 0,
    notFound: 0,
    failed: 0,
  };
}

export interface InboundTransportStats {
  /** Streams accepted (a sender opens one per connection). */
  openedStreams: number;
  /** Batches delivered: a stream's frames and single requests. */
  receivedBatches: number;
  receivedMessages: number;
  refused: Record<RefusalReason, number>;
}

export interface HttpTransportStats {
  peers: Record<NodeId, PeerTransportStats>;
  /** Handed to send() for a node not in the peers map (or from another node, or after close). */
  unroutableMessages: number;
  inbound: InboundTransportStats;
}

export function emptyPeerStats(address: string): PeerTransportStats {
  return {
    address,
    queued: 0,
    sentMessages: 0,
    sentBatches: 0,
    droppedMessages: 0,
    failedMessages: 0,
    openedStreams: 0,
    failedStreams: 0,
    timedOutStreams: 0,
  };
}
