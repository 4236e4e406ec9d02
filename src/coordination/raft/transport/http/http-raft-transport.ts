import { TidemarkError } from '../../../../lib/errors';
import type { Message, NodeId } from '../../core/types';
import { encodedMessageSize } from '../message-codec';
import type { RaftTransport } from '../raft-transport';
import {
  resolveTransportOptions,
  type HttpRaftTransportOptions,
  type ResolvedTransportOptions,
} from './http-transport-options';
import { parsePeerAddress } from './peer-address';
import { PeerSender } from './peer-sender';
import { RaftHttpServer } from './raft-http-server';
import {
  emptyPeerStats,
  emptyRefusals,
  type HttpTransportStats,
  type PeerTransportStats,
} from './transport-stats';

/**
 * Raft between nodes over HTTP(S): a server of its own (not the service's Nest app), and per peer one
 * long-lived stream of signed batches (peer-sender.ts, raft-http-protocol.ts). See raft-http-server.ts for
 * what is refused inbound.
 */
export class HttpRaftTransport implements RaftTransport {
  private readonly options: ResolvedTransportOptions;
  private readonly senders = new Map<NodeId, PeerSender>();
  /** The peers map as last set: its ids are the known senders, even those whose address does not parse. */
  private peers: ReadonlyMap<NodeId, string> = new Map();
  private readonly peerStats = new Map<NodeId, PeerTransportStats>();
  private server: RaftHttpServer | undefined;
  private boundAddress: string | undefined;
  private unroutable = 0;
  private closed = false;

  /** CONFIG_INVALID for a short secret, INVALID_ARGUMENT for other unusable options. */
  constructor(options: HttpRaftTransportOptions) {
    this.options = resolveTransportOptions(options);
  }

  send(messages: readonly Message[]): void {
    const touched = new Set<PeerSender>();
    for (const message of messages) {
      if (this.closed || message.from !== this.options.nodeId) {
        this.unroutable++;
        continue;
      }
      const sender = this.senders.get(message.to);
      if (sender === undefined) {
        const stats = this.peerStats.get(message.to);
        if (stats === undefined) this.unroutable++;
        else stats.droppedMessages++; // a peer whose address does not parse
        continue;
      }
      let size: number;
      try {
        size = encodedMessageSize(message);
      } catch (error) {
        // A message the codec cannot carry is the caller's bug; the transport still never throws.
        this.options.logger.error(
          { err: error, peer: message.to, type: message.type },
          'unencodable raft message dropped',
        );
        sender.stats.droppedMessages++;
        continue;
      }
      sender.enqueue(message, size);
      touched.add(sender);
    }
    for (const sender of touched) sender.flush();
  }

  /** Peers whose address is not `host:port` are known (heard from) but unreachable: their messages drop. */
  setPeers(peers: ReadonlyMap<NodeId, string>): void {
    if (this.closed) return;
    this.peers = new Map(peers);
    for (const [id, sender] of this.senders) {
      if (peers.get(id) !== sender.stats.address) {
        sender.close();
        this.senders.delete(id);
      }
    }
    for (const id of this.peerStats.keys()) if (!peers.has(id)) this.peerStats.delete(id);
    for (const [id, address] of peers) {
      if (id === this.options.nodeId || this.senders.has(id)) continue;
      const stats = this.peerStats.get(id) ?? emptyPeerStats(address);
      stats.address = address;
      this.peerStats.set(id, stats);
      try {
        this.senders.set(id, new PeerSender(id, parsePeerAddress(address), this.options, stats));
      } catch (error) {
        this.options.logger.warn(
          { err: error, peer: id },
          'raft peer address unusable: messages to it are dropped',
        );
      }
    }
  }

  async start(onReceive: (messages: Message[]) => void): Promise<void> {
    if (this.closed) throw new TidemarkError('CLOSED', 'the raft transport is closed');
    if (this.server !== undefined) {
      throw new TidemarkError('INVALID_ARGUMENT', 'the raft transport is started already');
    }
    const server = new RaftHttpServer({
      transport: this.options,
      isKnownPeer: (id) => id !== this.options.nodeId && this.peers.has(id),
      onReceive,
    });
    this.server = server;
    try {
      this.boundAddress = await server.listen();
    } catch (error) {
      this.server = undefined;
      throw error;
    }
    this.options.logger.info(
      { address: this.boundAddress, tls: this.options.tls !== undefined },
      'raft transport listening',
    );
  }

  /** Idempotent. Queued and in-flight messages are dropped; send() drops everything after. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const sender of this.senders.values()) sender.close();
    this.senders.clear();
    await this.server?.close();
  }

  /** The `host:port` the server is bound to (the real port when `listen` asked for port 0); after start. */
  address(): string | undefined {
    return this.boundAddress;
  }

  stats(): HttpTransportStats {
    const inbound = this.server?.stats;
    return {
      peers: Object.fromEntries([...this.peerStats].map(([id, stats]) => [id, { ...stats }])),
      unroutableMessages: this.unroutable,
      inbound: {
        openedStreams: inbound?.openedStreams ?? 0,
        receivedBatches: inbound?.receivedBatches ?? 0,
        receivedMessages: inbound?.receivedMessages ?? 0,
        refused: { ...(inbound?.refused ?? emptyRefusals()) },
      },
    };
  }
}
