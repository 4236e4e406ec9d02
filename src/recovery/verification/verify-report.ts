import type { CheckpointCatalog } from '../../checkpoint/catalog/catalog';
import type { CheckpointKind } from '../../checkpoint/manifest/manifest';
import type { CheckpointMerger } from '../../checkpoint/merge/checkpoint-merger';
import type { Clock } from '../../lib/clock';
import type { ObjectStore } from '../../storage';
import type { BlockPool } from '../block-pool';
import type { VerificationLevel } from '../recovery-types';

export type { VerificationLevel } from '../recovery-types';

/**
 * One thing wrong with one object. `code` is a stable error code (errors/tidemark-error.ts):
 * CHECKPOINT_NOT_FOUND (a manifest or a chain link is missing), NOT_FOUND (a named block is missing),
 * DESERIALIZATION_ERROR / UNSUPPORTED_VERSION (a manifest, block or pack that does not decode),
 * CHECKSUM_MISMATCH (a checksum, content hash or state digest disagrees), INVALID_STATE_DATA (objects
 * that decode but contradict each other: sizes, counts, chain links, LSN gaps), INVALID_ARGUMENT (a key
 * of the wrong shape). `key` is the object the fault is about, when there is one.
 */
export interface VerifyFault {
  code: string;
  message: string;
  key?: string;
}

export type VerifyStatus = 'ok' | 'fault';

export interface CheckpointVerification {
  id: number;
  /** undefined when the manifest could not be read. */
  kind: CheckpointKind | undefined;
  parentId: number | null | undefined;
  lsn: number | undefined;
  /** The manifest's object key. */
  key: string;
  /** Distinct blocks its manifest names. */
  blocks: number;
  status: VerifyStatus;
  faults: VerifyFault[];
}

export interface WalPackVerification {
  key: string;
  /** From the key; undefined when the key does not parse. */
  nodeId: string | undefined;
  firstLsn: number | undefined;
  lastLsn: number | undefined;
  size: number;
  /** Entries read (full level only; 0 below). */
  entries: number;
  status: VerifyStatus;
  faults: VerifyFault[];
}

export interface VerificationTotals {
  checkpoints: number;
  faultyCheckpoints: number;
  /** Distinct blocks named by the manifests verified. */
  blocks: number;
  /** Stored bytes of those blocks (as the manifests give them). */
  blockBytes: number;
  /** Block reads, each checked whole: standard reads each distinct block once, full again to rebuild state. */
  blocksRead: number;
  /** Bytes read from the store: blocks (once per read) and WAL packs. */
  bytesRead: number;
  walPacks: number;
  faultyWalPacks: number;
  /** WAL entries read and checked (full only). */
  walEntries: number;
  /** All faults: checkpoints', packs' and `other`. */
  faults: number;
}

export interface VerificationReport {
  level: VerificationLevel;
  prefix: string;
  /** Checkpoints taken from the store's manifests, or from the catalog given. */
  source: 'store' | 'catalog';
  /** The node whose WAL packs were checked; undefined: every node's. */
  nodeId: string | undefined;
  ok: boolean;
  durationMs: number;
  /** By rising id. */
  checkpoints: CheckpointVerification[];
  /** By node, then first LSN. */
  walPacks: WalPackVerification[];
  /** Faults of no checkpoint or pack: objects under checkpoints/ named like a manifest but not one. */
  other: VerifyFault[];
  totals: VerificationTotals;
}

/** Where to verify: the store and prefix; the catalog's checkpoints instead of every manifest, when given. */
export interface VerifySource {
  store: ObjectStore;
  prefix: string;
  /** Check only this node's WAL packs (default: every node's under `{prefix}/wal/`). */
  nodeId?: string;
  catalog?: CheckpointCatalog;
}

export interface VerifyProgress {
  phase: 'manifests' | 'blocks' | 'digests' | 'wal' | 'done';
  /** Objects (manifests, blocks, checkpoints, packs) done in this phase, and in all. */
  done: number;
  total: number;
}

export interface VerifyOptions {
  level: VerificationLevel;
  /** Store requests in flight at once (HEADs and GETs of blocks). Default 8. */
  concurrency?: number;
  /** Worker threads that check and decompress blocks (standard and full), when no `pool` is given. Default 1: this thread. */
  threads?: number;
  /** A block pool to use (not closed here); otherwise one of `threads` is made and closed. */
  pool?: BlockPool;
  /** The block pool's worker file (tests point it at the build's copy). */
  workerFilename?: string;
  /** Merges incrementals for the full level's digests; otherwise a default merger is made and closed. */
  merger?: CheckpointMerger;
  onProgress?: (progress: VerifyProgress) => void;
  /** Times the run (default: the system clock). */
  clock?: Clock;
}
