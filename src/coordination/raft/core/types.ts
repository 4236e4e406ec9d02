/**
 * The words of the Raft core (after etcd's raftpb): what is persisted, what travels between nodes, and what
 * the core hands its driver. Plain data only — no Buffers inside the core but the opaque `data` it carries.
 * Node ids are short strings ("n1"); terms and indexes are safe integers starting at 0 (index 0 is the empty
 * log's sentinel).
 */

export type NodeId = string;

/** `normal`: the application's data (empty data is a leader's no-op). `config`: a membership change. */
export type EntryKind = 'normal' | 'config';

export interface Entry {
  readonly term: number;
  readonly index: number;
  readonly kind: EntryKind;
  readonly data: Uint8Array;
}

/** What must be durable before any message that depends on it leaves: term, vote, commit index. */
export interface HardState {
  readonly term: number;
  /** Whom this node voted for in `term` ('' for nobody). */
  readonly vote: NodeId;
  readonly commit: number;
}

/** Who votes and who only listens. A node is in at most one of the two lists. */
export interface Membership {
  readonly voters: readonly NodeId[];
  readonly learners: readonly NodeId[];
}

/**
 * One single-server change, carried (encoded, config-change.ts) by a `config` entry. A learner's `address`
 * is for the transport; the core ignores it.
 */
export type ConfigChange =
  | { readonly type: 'addLearner'; readonly node: NodeId; readonly address: string }
  | { readonly type: 'promote'; readonly node: NodeId }
  | { readonly type: 'remove'; readonly node: NodeId };

/** The applied state up to `index` (of `term`), with the membership in force there. */
export interface Snapshot {
  readonly index: number;
  readonly term: number;
  readonly membership: Membership;
  readonly data: Uint8Array;
}

export type MessageType =
  | 'preVote'
  | 'preVoteResponse'
  | 'vote'
  | 'voteResponse'
  | 'append'
  | 'appendResponse'
  | 'heartbeat'
  | 'heartbeatResponse'
  | 'snapshot'
  | 'timeoutNow'
  | 'propose';

/**
 * One message, one shape (as etcd's raftpb.Message): the fields a type does not use are 0, '' or empty.
 * - append: `index`/`logTerm` name the entry before `entries`; `commit` is the leader's commit index.
 * - appendResponse: `index` is the last index now matching (or the rejected index); on `reject`,
 *   `rejectHint`/`logTerm` point the leader at the follower's last entry at or below it with a term no
 *   higher (fast back-off).
 * - (pre)vote: `index`/`logTerm` describe the candidate's last entry; a pre-vote carries the term the
 *   candidate would take, without taking it. `force` marks a campaign a leadership transfer started.
 * - heartbeat(Response): `context` echoes a read-index request (linearizable reads).
 * - snapshot: carries `snapshot`; its response is an appendResponse at the snapshot's index.
 * - propose: a follower's proposals forwarded to its leader (etcd's MsgProp): `entries` carry only data
 *   (term and index 0), the message's term is 0 — it is no claim about terms, and no answer comes back.
 */
export interface Message {
  readonly type: MessageType;
  readonly from: NodeId;
  readonly to: NodeId;
  readonly term: number;
  readonly logTerm: number;
  readonly index: number;
  readonly entries: readonly Entry[];
  readonly commit: number;
  readonly reject: boolean;
  readonly rejectHint: number;
  readonly force: boolean;
  readonly context: number;
  readonly snapshot: Snapshot | undefined;
}

export type Role = 'follower' | 'preCandidate' | 'candidate' | 'leader';

/** What changes often and need not be persisted. */
export interface SoftState {
  readonly leader: NodeId;
  readonly role: Role;
}

/** A linearizable read may be served once the state machine has applied `index`. */
export interface ReadState {
  readonly index: number;
  readonly requestId: number;
}

/**
 * What the driver must do, in this order of obligation: persist `snapshot`, `entries` (replacing the
 * stored log from `entries[0].index` on) and `hardState` durably; then send `messages`; then apply
 * `snapshot` and `committed` to the state machine and serve `readStates`; then call `advance()`.
 */
export interface Ready {
  readonly softState: SoftState | undefined;
  readonly hardState: HardState | undefined;
  readonly snapshot: Snapshot | undefined;
  readonly entries: readonly Entry[];
  readonly messages: readonly Message[];
  readonly committed: readonly Entry[];
  readonly readStates: readonly ReadState[];
}

/** The state a node starts from: what its log store held (all empty for a new node). */
export interface InitialState {
  readonly hardState: HardState;
  /** The newest snapshot, if any; entries continue from `snapshot.index + 1`. */
  readonly snapshot: Snapshot | undefined;
  readonly entries: readonly Entry[];
  /** The membership for a node with no snapshot and no config entries (the configured cluster). */
  readonly bootstrap: Membership;
}

export const EMPTY_HARD_STATE: HardState = { term: 0, vote: '', commit: 0 };

/** A message with every field at its zero, and `fields` over it. */
export function message(fields: Partial<Message> & Pick<Message, 'type' | 'from' | 'to' | 'term'>): Message {
  return {
    logTerm: 0,
    index: 0,
    entries: [],
    commit: 0,
    reject: false,
    rejectHint: 0,
    force: false,
    context: 0,
    snapshot: undefined,
    ...fields,
  };
}
