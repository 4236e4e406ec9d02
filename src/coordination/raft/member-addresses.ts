import { TidemarkError } from '../../lib/errors';
import type { ConfigRecord, NodeId } from './core';

/**
 * Where each member listens: replicated with the membership (an addLearner entry carries the address, a
 * removal drops it) and snapshotted with the state machine, so a node added later knows every peer.
 */
export class MemberAddresses {
  private readonly addresses: Map<NodeId, string>;

  constructor(initial: ReadonlyMap<NodeId, string>) {
    this.addresses = new Map(initial);
  }

  get(node: NodeId): string | undefined {
    return this.addresses.get(node);
  }

  all(): ReadonlyMap<NodeId, string> {
    return this.addresses;
  }

  /** A committed membership change. */
  apply(record: ConfigRecord): void {
    const { change } = record;
    if (change.type === 'addLearner') this.addresses.set(change.node, change.address);
    else if (change.type === 'remove') this.addresses.delete(change.node);
  }

  /** The snapshot: the addresses, then the state machine's bytes. */
  encodeWith(state: Uint8Array): Uint8Array {
    const book = Buffer.from(JSON.stringify([...this.addresses]), 'utf8');
    const out = Buffer.allocUnsafe(4 + book.length + state.length);
    out.writeUInt32LE(book.length, 0);
    book.copy(out, 4);
    out.set(state, 4 + book.length);
    return out;
  }

  /** Restores the addresses from a snapshot and returns the state machine's bytes. */
  restoreFrom(snapshot: Uint8Array): Uint8Array {
    const bytes = Buffer.from(snapshot.buffer, snapshot.byteOffset, snapshot.byteLength);
    const length = bytes.length >= 4 ? bytes.readUInt32LE(0) : -1;
    let entries: unknown;
    try {
      if (length < 0 || 4 + length > bytes.length) throw new Error('truncated');
      entries = JSON.parse(bytes.subarray(4, 4 + length).toString('utf8'));
    } catch (error) {
      throw new TidemarkError('DESERIALIZATION_ERROR', 'a raft snapshot does not start with its members', {
        cause: error,
      });
    }
    if (!Array.isArray(entries) || !entries.every((e) => Array.isArray(e) && e.length === 2)) {
      throw new TidemarkError('DESERIALIZATION_ERROR', 'a raft snapshot does not start with its members');
    }
    this.addresses.clear();
    for (const [node, address] of entries as [string, string][]) this.addresses.set(node, address);
    return bytes.subarray(4 + length);
  }
}
