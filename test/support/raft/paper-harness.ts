import {
  EMPTY_HARD_STATE,
  Raft,
  type Entry,
  type HardState,
  type Membership,
  type Message,
  type MessageType,
  type NodeId,
  type RaftOptions,
  type RaftStatus,
  type ReadState,
  type Ready,
  type Snapshot,
} from '../../../src/coordination/raft/core';
import { TidemarkError } from '../../../src/lib/errors';

/**
 * A tiny deterministic harness for the paper-mapped tests of the Raft core (after etcd's raft_paper_test.go):
 * a `Network` of Raft instances where nothing moves unless the test says so. Ticks go to the node named;
 * messages wait in `pending` until the test delivers, drops or holds them; every Ready is persisted to an
 * in-memory `Disk`, its messages queued, its committed entries applied (in order, or the harness throws), and
 * then advanced — unless the node is `paused`, when the test drives ready()/advance() itself. A message that
 * carries or acknowledges more than its Ready made durable also throws. Defaults: 10 election ticks, 1
 * heartbeat tick, no jitter (`() => 0`).
 */

export interface Disk {
  hardState: HardState;
  snapshot: Snapshot | undefined;
  entries: Entry[];
}

export type Tuning = Partial<
  Pick<
    RaftOptions,
    | 'electionTicks'
    | 'heartbeatTicks'
    | 'preVote'
    | 'checkQuorum'
    | 'maxInflight'
    | 'maxMessageBytes'
    | 'maxUncommittedEntries'
  >
>;

/** What a node starts from (all optional: an empty log at term 0 in the network's membership). */
export interface NodeSetup {
  /** The terms of the log's entries, index 1 on. */
  readonly terms?: readonly number[];
  /** Default: the last entry's term. */
  readonly term?: number;
  readonly vote?: NodeId;
  readonly commit?: number;
  readonly bootstrap?: Membership;
  /** The election jitter source (default `() => 0`: every timeout is exactly electionTicks). */
  readonly random?: () => number;
}

export type MessageFilter =
  | ((m: Message) => boolean)
  | { readonly from?: NodeId; readonly to?: NodeId; readonly type?: MessageType | readonly MessageType[] };

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export const text = (s: string): Uint8Array => encoder.encode(s);
export const textOf = (entry: Entry): string => decoder.decode(entry.data);

/** Normal entries with the given terms, from index `first` on (data names the entry: "3@2"). */
export function entriesOfTerms(terms: readonly number[], first = 1): Entry[] {
  return terms.map((term, i) => ({
    term,
    index: first + i,
    kind: 'normal' as const,
    data: text(`${first + i}@${term}`),
  }));
}

/** A log (or part of one) in the paper's notation: "1@1 2@1 3@2" (index@term). */
export const describeLog = (entries: readonly Entry[]): string =>
  entries.map((entry) => `${entry.index}@${entry.term}`).join(' ');

/** The TidemarkError `call` throws (the test fails if it throws nothing, or something else). */
export function refusal(call: () => unknown): TidemarkError {
  try {
    call();
  } catch (error) {
    if (error instanceof TidemarkError) return error;
    throw error;
  }
  throw new Error('expected a refusal, but the call went through');
}

function matches(filter: MessageFilter | undefined, m: Message): boolean {
  if (filter === undefined) return true;
  if (typeof filter === 'function') return filter(m);
  if (filter.from !== undefined && m.from !== filter.from) return false;
  if (filter.to !== undefined && m.to !== filter.to) return false;
  if (filter.type !== undefined) {
    const types: readonly MessageType[] = typeof filter.type === 'string' ? [filter.type] : filter.type;
    if (!types.includes(m.type)) return false;
  }
  return true;
}

export class PaperNode {
  raft: Raft | undefined;
  readonly disk: Disk = { hardState: EMPTY_HARD_STATE, snapshot: undefined, entries: [] };
  /** Every Ready this node handed out, oldest first (all incarnations). */
  readonly readies: Ready[] = [];
  /** The state machine: entries applied since the last snapshot restored (or the start). */
  applied: Entry[] = [];
  appliedIndex = 0;
  readonly readStates: ReadState[] = [];

  constructor(
    readonly id: NodeId,
    readonly bootstrap: Membership,
    readonly random: () => number,
  ) {}
}

export class Network {
  readonly nodes = new Map<NodeId, PaperNode>();
  /** Sent and not yet delivered or dropped, in the order sent. */
  pending: Message[] = [];
  /** Nodes whose Readies the test handles itself (ready(id), advance(id)). */
  readonly paused = new Set<NodeId>();
  private readonly cuts = new Set<string>();

  constructor(
    ids: readonly NodeId[],
    readonly tuning: Tuning = {},
    setups: Readonly<Record<NodeId, NodeSetup>> = {},
  ) {
    for (const id of ids) this.add(id, { bootstrap: { voters: [...ids], learners: [] }, ...setups[id] });
  }

  /** A node joins (a new member: by default an empty log that knows no membership). */
  add(id: NodeId, setup: NodeSetup = {}): PaperNode {
    const node = new PaperNode(
      id,
      setup.bootstrap ?? { voters: [], learners: [] },
      setup.random ?? (() => 0),
    );
    const entries = entriesOfTerms(setup.terms ?? []);
    node.disk.entries = entries;
    node.disk.hardState = {
      term: setup.term ?? entries[entries.length - 1]?.term ?? 0,
      vote: setup.vote ?? '',
      commit: setup.commit ?? 0,
    };
    this.nodes.set(id, node);
    this.restart(id);
    return node;
  }

  node(id: NodeId): PaperNode {
    const node = this.nodes.get(id);
    if (node === undefined) throw new Error(`no node ${id}`);
    return node;
  }

  raft(id: NodeId): Raft {
    const raft = this.node(id).raft;
    if (raft === undefined) throw new Error(`${id} is down`);
    return raft;
  }

  status(id: NodeId): RaftStatus {
    return this.raft(id).status();
  }

  /** The node's persisted log, "index@term" each. */
  log(id: NodeId): string {
    return describeLog(this.node(id).disk.entries);
  }

  // ---- time and Readies -----------------------------------------------------------------------------

  tick(id: NodeId, times = 1): void {
    for (let i = 0; i < times; i++) {
      this.raft(id).tick();
      this.flush(id);
    }
  }

  /** Handles every Ready the node has (persist, send, apply, advance), unless it is paused. */
  flush(id: NodeId): void {
    if (this.paused.has(id)) return;
    const raft = this.raft(id);
    while (raft.hasReady()) {
      this.ready(id);
      raft.advance();
    }
  }

  /** Takes one Ready: persists it, queues its messages, applies what it commits. Does not advance. */
  ready(id: NodeId): Ready {
    const node = this.node(id);
    const rd = this.raft(id).ready();
    node.readies.push(rd);
    persist(node.disk, rd);
    assertDurableBeforeSent(node, rd);
    for (const m of rd.messages) if (!this.cuts.has(`${m.from}>${m.to}`)) this.pending.push(m);
    if (rd.snapshot) {
      node.applied = [];
      node.appliedIndex = rd.snapshot.index;
    }
    for (const entry of rd.committed) {
      if (entry.index !== node.appliedIndex + 1) {
        throw new Error(`${id} applied ${entry.index} after ${node.appliedIndex}`);
      }
      node.applied.push(entry);
      node.appliedIndex = entry.index;
    }
    node.readStates.push(...rd.readStates);
    return rd;
  }

  advance(id: NodeId): void {
    this.raft(id).advance();
  }

  // ---- messages -------------------------------------------------------------------------------------

  /** Removes the matching pending messages and returns them, undelivered. */
  take(filter?: MessageFilter): Message[] {
    const taken = this.pending.filter((m) => matches(filter, m));
    this.pending = this.pending.filter((m) => !matches(filter, m));
    return taken;
  }

  drop(filter?: MessageFilter): Message[] {
    return this.take(filter);
  }

  /**
   * Delivers the matching messages pending now (one hop: answers they cause wait in `pending`), in the order
   * sent, each followed by its recipient's Readies. Messages to a down node or over a cut link are lost.
   */
  deliver(filter?: MessageFilter): Message[] {
    const delivered: Message[] = [];
    for (const m of this.take(filter)) {
      const recipient = this.nodes.get(m.to)?.raft;
      if (recipient === undefined || this.cuts.has(`${m.from}>${m.to}`)) continue;
      this.step(m);
      delivered.push(m);
    }
    return delivered;
  }

  /** Steps one message (pending or made by the test) into its recipient and handles its Readies. */
  step(m: Message): void {
    this.raft(m.to).step(m);
    this.flush(m.to);
  }

  /** Delivers until no matching message is pending. */
  stabilize(filter?: MessageFilter): void {
    for (let rounds = 0; this.deliver(filter).length > 0; rounds++) {
      if (rounds > 1000) throw new Error('the network does not settle');
    }
  }

  /** Cuts every link to and from `id`. */
  isolate(id: NodeId): void {
    for (const other of this.nodes.keys()) if (other !== id) this.cut(id, other);
  }

  /** Cuts both directions between a and b. */
  cut(a: NodeId, b: NodeId): void {
    this.cuts.add(`${a}>${b}`);
    this.cuts.add(`${b}>${a}`);
  }

  heal(): void {
    this.cuts.clear();
  }

  // ---- crashes, snapshots, elections -----------------------------------------------------------------

  /** The process dies: what it persisted stays on its disk; messages it sent are still in flight. */
  crash(id: NodeId): void {
    this.node(id).raft = undefined;
  }

  /** A new Raft from what the node's disk holds (the state machine is rebuilt from the snapshot). */
  restart(id: NodeId): void {
    const node = this.node(id);
    node.raft = new Raft({
      electionTicks: 10,
      heartbeatTicks: 1,
      ...this.tuning,
      id,
      random: node.random,
      initial: {
        hardState: node.disk.hardState,
        snapshot: node.disk.snapshot,
        entries: node.disk.entries.slice(),
        bootstrap: node.bootstrap,
      },
    });
    node.applied = [];
    node.appliedIndex = node.disk.snapshot?.index ?? 0;
    this.flush(id);
  }

  /** The node snapshots its state machine at `index` and drops the log before it. */
  compact(id: NodeId, index: number): Snapshot {
    const node = this.node(id);
    const snapshot = this.raft(id).compact(index, text(`state@${index}`));
    node.disk.snapshot = snapshot;
    node.disk.entries = node.disk.entries.filter((entry) => entry.index > index);
    return snapshot;
  }

  /** Ticks `id` until its election timeout fires, then delivers everything: it must end up leading. */
  elect(id: NodeId): void {
    const raft = this.raft(id);
    for (let i = 0; raft.status().role === 'follower'; i++) {
      if (i > 100) throw new Error(`${id} never campaigned`);
      this.tick(id);
    }
    this.stabilize();
    if (raft.status().role !== 'leader') throw new Error(`${id} did not win: ${raft.status().role}`);
  }

  /** Proposes one entry per string on `id` (which must lead). */
  propose(id: NodeId, ...data: string[]): { index: number; term: number } {
    const result = this.raft(id).propose(data.map(text));
    this.flush(id);
    return result;
  }
}

/** What a driver does first with a Ready: snapshot, then entries (replacing the log from the first), then hard state. */
function persist(disk: Disk, rd: Ready): void {
  if (rd.snapshot) {
    disk.snapshot = rd.snapshot;
    disk.entries = [];
  }
  const first = rd.entries[0];
  if (first !== undefined) {
    disk.entries = [...disk.entries.filter((entry) => entry.index < first.index), ...rd.entries];
  }
  if (rd.hardState) disk.hardState = rd.hardState;
}

/**
 * The Ready contract (Raft's "respond to RPCs only after updating stable storage"): every entry a message
 * carries or acknowledges, and every vote it grants, is on the disk once this Ready is persisted.
 */
function assertDurableBeforeSent(node: PaperNode, rd: Ready): void {
  const { disk } = node;
  const lastDurable = disk.entries[disk.entries.length - 1]?.index ?? disk.snapshot?.index ?? 0;
  const durableTerm = (index: number) =>
    disk.entries.find((entry) => entry.index === index)?.term ??
    (disk.snapshot?.index === index ? disk.snapshot.term : undefined);
  for (const m of rd.messages) {
    // A forwarded proposal's entries are not in any log yet: nothing to persist first.
    if (m.type === 'propose') continue;
    for (const entry of m.entries) {
      if (durableTerm(entry.index) !== entry.term) {
        throw new Error(`${node.id} sent ${entry.index}@${entry.term} before persisting it`);
      }
    }
    if (m.type === 'appendResponse' && !m.reject && m.index > lastDurable) {
      throw new Error(`${node.id} acknowledged ${m.index} with only ${lastDurable} durable`);
    }
    if (m.type === 'voteResponse' && !m.reject) {
      const { term, vote } = disk.hardState;
      if (term !== m.term || vote !== m.to) {
        throw new Error(`${node.id} granted ${m.to} a vote in term ${m.term} before persisting it`);
      }
    }
  }
}
