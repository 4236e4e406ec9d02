import { TidemarkError } from '../../lib/errors';
import type { ReplicatedStateMachine } from '../raft/replicated-state-machine';

/**
 * The cluster's metadata: small keys and values every node holds the same, changed only through Raft
 * (like etcd's or Consul's key-value store, in miniature). It is the replicated state machine the
 * coordinator runs today; the cluster checkpoint record joins it next.
 *
 * Commands are binary: `u8 op | u16 key length | key | (op = SET) u32 value length | value`.
 */
const SET = 1;
const DELETE = 2;
export const MAX_KEY_BYTES = 256;
export const MAX_VALUE_BYTES = 64 * 1024;

export type MetadataCommand = { op: 'set'; key: string; value: string } | { op: 'delete'; key: string };

export interface MetadataValue {
  readonly value: string;
  /** The Raft index that last set it. */
  readonly index: number;
}

export function encodeMetadataCommand(command: MetadataCommand): Uint8Array {
  const key = Buffer.from(command.key, 'utf8');
  if (key.length === 0 || key.length > MAX_KEY_BYTES) {
    throw new TidemarkError('INVALID_ARGUMENT', `a metadata key is 1 to ${MAX_KEY_BYTES} bytes of UTF-8`);
  }
  const value = command.op === 'set' ? Buffer.from(command.value, 'utf8') : Buffer.alloc(0);
  if (value.length > MAX_VALUE_BYTES) {
    throw new TidemarkError('INVALID_ARGUMENT', `a metadata value is at most ${MAX_VALUE_BYTES} bytes`);
  }
  const out = Buffer.allocUnsafe(3 + key.length + (command.op === 'set' ? 4 + value.length : 0));
  out[0] = command.op === 'set' ? SET : DELETE;
  out.writeUInt16LE(key.length, 1);
  key.copy(out, 3);
  if (command.op === 'set') {
    out.writeUInt32LE(value.length, 3 + key.length);
    value.copy(out, 7 + key.length);
  }
  return out;
}

export class MetadataRecord implements ReplicatedStateMachine {
  private entries = new Map<string, MetadataValue>();

  get(key: string): MetadataValue | undefined {
    return this.entries.get(key);
  }

  keys(): string[] {
    return [...this.entries.keys()].sort();
  }

  /** Returns whether the key existed (a delete) or its previous value (a set). */
  apply(command: Uint8Array, index: number): MetadataValue | undefined {
    const bytes = Buffer.from(command.buffer, command.byteOffset, command.byteLength);
    const decoded = decodeCommand(bytes);
    // A command no node can read is skipped by every node alike: the state stays the same everywhere.
    if (decoded === undefined) return undefined;
    const previous = this.entries.get(decoded.key);
    if (decoded.op === 'set') this.entries.set(decoded.key, { value: decoded.value, index });
    else this.entries.delete(decoded.key);
    return previous;
  }

  snapshot(): Uint8Array {
    return Buffer.from(JSON.stringify([...this.entries]), 'utf8');
  }

  restore(snapshot: Uint8Array): void {
    const text = Buffer.from(snapshot.buffer, snapshot.byteOffset, snapshot.byteLength).toString('utf8');
    const entries = text.length === 0 ? [] : (JSON.parse(text) as [string, MetadataValue][]);
    this.entries = new Map(entries);
  }
}

function decodeCommand(bytes: Buffer): MetadataCommand | undefined {
  if (bytes.length < 3) return undefined;
  const keyLength = bytes.readUInt16LE(1);
  if (3 + keyLength > bytes.length) return undefined;
  const key = bytes.toString('utf8', 3, 3 + keyLength);
  if (bytes[0] === DELETE) return { op: 'delete', key };
  if (bytes[0] !== SET || 7 + keyLength > bytes.length) return undefined;
  const valueLength = bytes.readUInt32LE(3 + keyLength);
  if (7 + keyLength + valueLength !== bytes.length) return undefined;
  return { op: 'set', key, value: bytes.toString('utf8', 7 + keyLength) };
}
