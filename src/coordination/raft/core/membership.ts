import { quoteInput, TidemarkError } from '../../../lib/errors';
import type { ConfigChange, Membership, NodeId } from './types';

/**
 * Single-server membership changes (Ongaro's dissertation §4.1): each change adds or removes one voter at
 * most, so any majority of the old voters overlaps any majority of the new ones. A `config` entry carries
 * the change and the whole membership it leads to, so the membership in force is simply the newest one in
 * the log (taken when appended, dropped when truncated), without replaying changes.
 */

export interface ConfigRecord {
  readonly change: ConfigChange;
  readonly membership: Membership;
}

export function isVoter(membership: Membership, node: NodeId): boolean {
  return membership.voters.includes(node);
}

export function isMember(membership: Membership, node: NodeId): boolean {
  return membership.voters.includes(node) || membership.learners.includes(node);
}

export function members(membership: Membership): NodeId[] {
  return [...membership.voters, ...membership.learners];
}

/** The longest node id, in UTF-8 bytes (the message codec's limit). */
export const MAX_NODE_ID_BYTES = 255;
const utf8 = new TextEncoder();

/** The membership `change` leads to from `current`, or INVALID_ARGUMENT saying why it cannot apply. */
export function applyChange(current: Membership, change: ConfigChange): Membership {
  const { node } = change;
  if (typeof node !== 'string' || node.length === 0) {
    throw new TidemarkError('INVALID_ARGUMENT', 'a membership change needs a node id');
  }
  // The wire carries an id in at most 255 bytes: a longer one would make every snapshot unsendable.
  if (utf8.encode(node).length > MAX_NODE_ID_BYTES) {
    throw new TidemarkError('INVALID_ARGUMENT', `a node id is at most ${MAX_NODE_ID_BYTES} bytes of UTF-8`);
  }
  switch (change.type) {
    case 'addLearner':
      if (isMember(current, node)) {
        throw new TidemarkError('INVALID_ARGUMENT', `node ${quoteInput(node)} is a member already`);
      }
      return { voters: current.voters, learners: [...current.learners, node] };
    case 'promote':
      if (!current.learners.includes(node)) {
        throw new TidemarkError(
          'INVALID_ARGUMENT',
          `node ${quoteInput(node)} is not a learner: only a learner can be promoted`,
        );
      }
      return {
        voters: [...current.voters, node],
        learners: current.learners.filter((id) => id !== node),
      };
    case 'remove':
      if (!isMember(current, node)) {
        throw new TidemarkError('INVALID_ARGUMENT', `node ${quoteInput(node)} is not a member`);
      }
      if (current.voters.length === 1 && current.voters[0] === node) {
        throw new TidemarkError(
          'INVALID_ARGUMENT',
          `node ${quoteInput(node)} is the last voter: the cluster cannot remove it`,
        );
      }
      return {
        voters: current.voters.filter((id) => id !== node),
        learners: current.learners.filter((id) => id !== node),
      };
    default:
      throw new TidemarkError('INVALID_ARGUMENT', 'unknown membership change');
  }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** Config entries are rare: JSON keeps them readable in a dump of the log. */
export function encodeConfigRecord(record: ConfigRecord): Uint8Array {
  return encoder.encode(JSON.stringify(record));
}

export function decodeConfigRecord(data: Uint8Array): ConfigRecord {
  let record: unknown;
  try {
    record = JSON.parse(decoder.decode(data));
  } catch (error) {
    throw new TidemarkError('DESERIALIZATION_ERROR', 'a config entry does not hold a membership record', {
      cause: error,
    });
  }
  if (!isConfigRecord(record)) {
    throw new TidemarkError('DESERIALIZATION_ERROR', 'a config entry does not hold a membership record');
  }
  return record;
}

function isConfigRecord(value: unknown): value is ConfigRecord {
  if (typeof value !== 'object' || value === null) return false;
  const { change, membership } = value as Partial<ConfigRecord>;
  const ids = (list: unknown) => Array.isArray(list) && list.every((id) => typeof id === 'string');
  return (
    typeof change === 'object' &&
    change !== null &&
    typeof change.node === 'string' &&
    typeof membership === 'object' &&
    membership !== null &&
    ids(membership.voters) &&
    ids(membership.learners)
  );
}
