import { echoInput, invalidArgument } from '../../../lib/errors';
import type { HardState, NodeId, Snapshot } from '../core';

/** Node ids are stored with a one-byte length; member lists with a two-byte count. */
export const MAX_NODE_ID_BYTES = 255;
export const MAX_MEMBERS = 0xffff;

/** Terms, indexes and commit indexes: safe integers from 0, as the on-disk u64 fields can hold them. */
export function isLogNumber(value: number): boolean {
  return Number.isSafeInteger(value) && value >= 0;
}

export function checkHardState(hardState: HardState): void {
  if (!isLogNumber(hardState.term) || !isLogNumber(hardState.commit)) {
    throw invalidArgument('a hard state needs a term and a commit index that are safe integers from 0', {
      term: hardState.term,
      commit: hardState.commit,
    });
  }
  checkNodeId(hardState.vote, 'the vote', true);
}

/** The parts of a snapshot that do not depend on the log it goes into. */
export function checkSnapshotShape(snapshot: Snapshot): void {
  if (!isLogNumber(snapshot.term) || !Number.isSafeInteger(snapshot.index) || snapshot.index < 1) {
    throw invalidArgument('a snapshot needs an index from 1 and a term from 0 (safe integers)', {
      index: snapshot.index,
      term: snapshot.term,
    });
  }
  if (!(snapshot.data instanceof Uint8Array)) throw invalidArgument('snapshot data must be a Uint8Array');
  for (const list of [snapshot.membership.voters, snapshot.membership.learners]) {
    if (list.length > MAX_MEMBERS)
      throw invalidArgument(`a membership list holds at most ${MAX_MEMBERS} ids`);
    for (const id of list) checkNodeId(id, 'a member id', false);
  }
}

function checkNodeId(id: NodeId, what: string, mayBeEmpty: boolean): void {
  if (typeof id !== 'string' || (!mayBeEmpty && id === '') || Buffer.byteLength(id) > MAX_NODE_ID_BYTES) {
    throw invalidArgument(`${what} must be a string of at most ${MAX_NODE_ID_BYTES} UTF-8 bytes`, {
      id: echoInput(String(id)),
    });
  }
}
