/**
 * What the cluster benchmark's parent and its Raft node children (cluster-bench-node.ts) say to each other
 * over the IPC channel of `fork()`. Times that cross the process boundary are wall-clock ms with sub-ms
 * digits (`wallNow()`), the one clock the processes share: `process.hrtime` has a per-process origin.
 */
import { performance } from 'node:perf_hooks';

/** The wall clock with performance.now()'s resolution: timeOrigin is read from the system clock at start. */
export function wallNow(): number {
  return performance.timeOrigin + performance.now();
}

/** How a child is started: its argument, as JSON. */
export interface NodeSpec {
  id: string;
  /** Every member's Raft address, this node's included. */
  members: [string, string][];
  dir: string;
  electionTimeoutMs: number;
  heartbeatIntervalMs: number;
  /** How often the child looks at its status for a leader change (onRoleChange reports them too). */
  pollMs: number;
}

/** The Raft view a child reports whenever it changes. */
export interface NodeState {
  role: string;
  leader: string;
  term: number;
}

export interface Percentiles {
  count: number;
  min: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/** The leader's log store over a load window (cluster-bench-counting-store.ts). */
export interface StoreCounts {
  saves: number;
  /** Saves that carried entries (the others carry only the hard state: a new commit index, a vote). */
  entrySaves: number;
  entries: number;
  /** Time inside save(), write + fdatasync + the store's queue, ms. */
  saveMs: Percentiles;
  /** The node's own snapshots (every snapshotEvery applied entries): the log rewritten, ms each. */
  compactMs: Percentiles;
}

/** The leader's outbound transport over a load window, summed over its peers (HttpRaftTransport.stats()). */
export interface TransportCounts {
  sentBatches: number;
  sentMessages: number;
  failedStreams: number;
  droppedMessages: number;
}

export interface LoadRequest {
  concurrency: number;
  commandBytes: number;
  warmupMs: number;
  measureMs: number;
}

export interface LoadResult {
  /** Proposals that resolved inside the measured window. */
  completed: number;
  seconds: number;
  failed: number;
  firstError: string | undefined;
  /** Propose → resolve, ms, of the proposals that resolved inside the window. */
  latencyMs: Percentiles;
  store: StoreCounts;
  transport: TransportCounts;
}

export interface StatusReply {
  role: string;
  leader: string;
  term: number;
  lastIndex: number;
  commitIndex: number;
  members: { id: string; match: number | undefined }[];
}

export type ParentMessage =
  | { type: 'status'; requestId: number }
  | ({ type: 'load'; requestId: number } & LoadRequest)
  | { type: 'exit' };

export type ChildMessage =
  | { type: 'ready'; id: string; at: number }
  | ({ type: 'state'; id: string; at: number } & NodeState)
  | { type: 'status'; requestId: number; status: StatusReply }
  | { type: 'load'; requestId: number; result: LoadResult }
  | { type: 'error'; requestId: number; message: string };
