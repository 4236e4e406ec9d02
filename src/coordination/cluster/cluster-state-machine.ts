import { CHECKPOINT_DOMAIN, decodeCheckpointCommand } from '../barrier/checkpoint-command-codec';
import {
  ClusterCheckpointRecord,
  type ClusterCheckpointCommand,
  type CommandOutcome,
} from '../barrier/cluster-checkpoint-record';
import type { ReplicatedStateMachine } from '../raft/replicated-state-machine';
import { MetadataRecord } from './metadata-record';

/** What applying one barrier command did, told to whoever listens (the leader's loop, the participant). */
export interface CheckpointCommandApplied {
  readonly command: ClusterCheckpointCommand;
  readonly outcome: CommandOutcome;
  readonly term: number;
  readonly index: number;
}

/** A barrier command in this node's log, not (yet) committed. */
export interface CheckpointCommandSeen {
  readonly command: ClusterCheckpointCommand;
  readonly term: number;
  readonly index: number;
}

const MAGIC = Buffer.from('TMC1', 'latin1');

/**
 * The one state machine a node's Raft runs: the cluster's metadata (key-value) and its checkpoint record,
 * told apart by a command's first byte (`C`: the barrier, see checkpoint-command-codec.ts; else the
 * metadata record's). One snapshot holds both: `TMC1 | u32 metadata length | metadata | record JSON`.
 * A snapshot of the metadata alone (written before the barrier joined) still restores.
 */
export class ClusterStateMachine implements ReplicatedStateMachine {
  readonly metadata = new MetadataRecord();
  private record = new ClusterCheckpointRecord();
  private readonly listeners: ((applied: CheckpointCommandApplied) => void)[] = [];
  private readonly restoreListeners: (() => void)[] = [];
  private readonly seenListeners: ((seen: CheckpointCommandSeen) => void)[] = [];

  get checkpoints(): ClusterCheckpointRecord {
    return this.record;
  }

  /**
   * Called after each barrier command applies, inside the Raft loop: a listener only takes note and
   * schedules its work (it must not throw, nor wait).
   */
  onCheckpointCommand(listener: (applied: CheckpointCommandApplied) => void): void {
    this.listeners.push(listener);
  }

  /**
   * Called for each barrier command as it lands in this node's log, before it is committed (it may never
   * be): for work worth starting early — a cut, a commit proposal behind the last ack. The record, on apply,
   * still decides everything.
   */
  onCheckpointCommandSeen(listener: (seen: CheckpointCommandSeen) => void): void {
    this.seenListeners.push(listener);
  }

  observe(command: Uint8Array, index: number, term: number): void {
    if (command[0] !== CHECKPOINT_DOMAIN || this.seenListeners.length === 0) return;
    const decoded = decodeCheckpointCommand(command);
    if (decoded === undefined) return;
    for (const listener of this.seenListeners) listener({ command: decoded, index, term });
  }

  /** Called after the state was replaced by a snapshot (a follower far behind). */
  onRestore(listener: () => void): void {
    this.restoreListeners.push(listener);
  }

  apply(command: Uint8Array, index: number, term: number): unknown {
    if (command[0] !== CHECKPOINT_DOMAIN) return this.metadata.apply(command, index);
    const decoded = decodeCheckpointCommand(command);
    // Unreadable: skipped by every node alike, so the state stays the same everywhere.
    if (decoded === undefined) return { applied: false, why: 'an unreadable barrier command' };
    const outcome = this.record.apply(decoded, term);
    for (const listener of this.listeners) listener({ command: decoded, outcome, term, index });
    return outcome;
  }

  snapshot(): Uint8Array {
    const metadata = this.metadata.snapshot();
    const record = Buffer.from(JSON.stringify(this.record.toJSON()), 'utf8');
    const out = Buffer.allocUnsafe(MAGIC.length + 4 + metadata.length + record.length);
    MAGIC.copy(out, 0);
    out.writeUInt32LE(metadata.length, MAGIC.length);
    out.set(metadata, MAGIC.length + 4);
    record.copy(out, MAGIC.length + 4 + metadata.length);
    return out;
  }

  restore(snapshot: Uint8Array): void {
    const bytes = Buffer.from(snapshot.buffer, snapshot.byteOffset, snapshot.byteLength);
    if (bytes.length < MAGIC.length + 4 || !bytes.subarray(0, MAGIC.length).equals(MAGIC)) {
      this.metadata.restore(bytes);
      this.record = new ClusterCheckpointRecord();
    } else {
      const metadataEnd = MAGIC.length + 4 + bytes.readUInt32LE(MAGIC.length);
      this.metadata.restore(bytes.subarray(MAGIC.length + 4, metadataEnd));
      this.record = ClusterCheckpointRecord.fromJSON(JSON.parse(bytes.toString('utf8', metadataEnd)));
    }
    for (const listener of this.restoreListeners) listener();
  }
}
