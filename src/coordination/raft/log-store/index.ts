/** The durable store behind a Raft node (docs/raft-log-store.md), and its in-memory twin for simulations. */
export type { RaftLogStore, RaftLogUpdate, StoredRaftState } from './raft-log-store';
export { FileRaftLogStore, type FileRaftLogStoreOptions } from './file-raft-log-store';
export { MemoryRaftLogStore } from './memory-raft-log-store';
