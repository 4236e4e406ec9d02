import type { NodeId } from '../../core/types';

/** What happened to the messages handed to one peer, since the transport started. */
export interface PeerTransportStats {
  address: string;
  /** Waiting to be sent now. */
  queued: number;
  /** Delivered: the peer answered 2xx to the request that carried them. */
  sentMessages: number;
  sentRequests: number;
  /** Never sent: pushed out of a full queue, too large for one request, or left when the transport closed. */
  droppedMessages: number;
  /** Sent but not delivered: the request failed, was refused (non-2xx) or timed out. */
  failedMessages: number;
  failedRequests: number;
  /** Of the failed requests, those aborted at the request timeout. */
  timedOutRequests: number;
}

/** Why an inbound request was refused. */
export type RefusalReason =
  | 'unauthenticated' // no signature or sender, or a signature that does not match
  | 'unknownSender' // a sender not in the peers map
  | 'misdirected' // addressed to another node
  | 'malformed' // a body that does not decode, or messages that do not match the headers
  | 'tooLarge' // a body over maxBodyBytes
  | 'notFound'; // another route or method

export function emptyRefusals(): Record<RefusalReason, number> {
  return { unauthenticated: 0, unknownSender: 0, misdirected: 0, malformed: 0, tooLarge: 0, notFound: 0 };
}

export interface InboundTransportStats {
  receivedRequests: number;
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
    sentRequests: 0,
    droppedMessages: 0,
    failedMessages: 0,
    failedRequests: 0,
    timedOutRequests: 0,
  };
}
