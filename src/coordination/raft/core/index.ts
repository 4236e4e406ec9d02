/** The Raft core's face: a pure state machine (no I/O, no clock) and the words it speaks. */
export { Raft, type RaftOptions, type RaftStatus } from './raft';
export * from './types';
export {
  applyChange,
  decodeConfigRecord,
  encodeConfigRecord,
  isMember,
  isVoter,
  members,
  type ConfigRecord,
} from './membership';
