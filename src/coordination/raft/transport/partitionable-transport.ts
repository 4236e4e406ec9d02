import type { Message, NodeId } from '../core/types';
import type { RaftTransport } from './raft-transport';

/**
 * A test-only fault hook around a transport: while `cut`, this node neither sends to nor takes from any
 * peer — a network partition of one node, on a machine where network namespaces are out of reach. The
 * service wraps its transport in it only when `cluster.testFaults` is set (docs/coordination.md).
 */
export class PartitionableTransport implements RaftTransport {
  private isCut = false;

  constructor(private readonly inner: RaftTransport) {}

  get cut(): boolean {
    return this.isCut;
  }

  setCut(cut: boolean): void {
    this.isCut = cut;
  }

  send(messages: readonly Message[]): void {
    if (!this.isCut) this.inner.send(messages);
  }

  setPeers(peers: ReadonlyMap<NodeId, string>): void {
    this.inner.setPeers(peers);
  }

  start(onReceive: (messages: Message[]) => void): Promise<void> {
    return this.inner.start((messages) => {
      if (!this.isCut) onReceive(messages);
    });
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
