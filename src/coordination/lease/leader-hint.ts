import { invalidArgument, quoteInput } from '../../lib/errors';

/**
 * The leader hint port: where the Raft leader announces `{term, nodeId}` so that workers in other processes,
 * which take no part in Raft, learn who leads and stop work when leadership moves.
 *
 * It is a hint, never the authority: Raft decides who leads, and nothing here can change that. The store
 * only keeps a stale leader from overwriting a newer one — a publish under a lower term than the highest
 * ever stored is refused — and lets a hint nobody renews run out after its TTL.
 * Adapters: RedisLeaderHint (cluster; './redis-leader-hint') and LocalLeaderHint (embedded mode, tests).
 */
export interface LeaderClaim {
  /** The Raft term the node leads in: a positive safe integer. */
  term: number;
  nodeId: string;
  /** Where workers reach the leader (`host:port`, a URL); informational. */
  address?: string;
}

export interface LeaderHintValue extends LeaderClaim {
  /**
   * ms since epoch by the reader's clock, never later than the store's own expiry (the TTL is counted from
   * when the read was sent); undefined when the stored hint has no expiry (written by hand).
   */
  expiresAt?: number;
}

/** `refused`: a higher term is stored, or the same term by another node. */
export type PublishOutcome = 'stored' | 'refused';

export interface LeaderHint {
  /**
   * Compare-and-set: stores `claim` for `ttlMs` unless the highest term ever published is above
   * `claim.term`, or equal to it but published by another node. The same node under the same term renews;
   * a higher term replaces.
   */
  publish(claim: LeaderClaim, ttlMs: number): Promise<PublishOutcome>;
  /** The current hint, or undefined (none, expired, or a stored value that is not a hint). */
  read(): Promise<LeaderHintValue | undefined>;
  /**
   * Compare-and-delete: removes the hint only while it is still exactly this term and node, so a node that
   * stepped down never removes its successor's hint. The highest term is kept.
   */
  clear(claim: Pick<LeaderClaim, 'term' | 'nodeId'>): Promise<void>;
  close(): Promise<void>;
}

/**
 * The argument rules both adapters enforce, so a call one refuses the other refuses too. The node id limit
 * is Raft's own (255 bytes of UTF-8); strings must be well-formed UTF-16, or they would not survive the
 * round trip through Redis unchanged and the compare in clear() would miss.
 */
const MAX_NODE_ID_BYTES = 255;
const MAX_ADDRESS_LENGTH = 1_024;

export function checkClaim(claim: LeaderClaim): void {
  if (typeof claim !== 'object' || claim === null) throw invalidArgument('a leader claim is required');
  checkTerm(claim.term);
  checkNodeId(claim.nodeId);
  if (claim.address === undefined) return;
  if (
    typeof claim.address !== 'string' ||
    claim.address.length === 0 ||
    claim.address.length > MAX_ADDRESS_LENGTH ||
    !isWellFormed(claim.address)
  ) {
    throw invalidArgument(
      `a leader address is 1-${MAX_ADDRESS_LENGTH} characters of well-formed text (got ${quoteInput(claim.address)})`,
    );
  }
}

export function checkTerm(term: unknown): asserts term is number {
  if (typeof term !== 'number' || !Number.isSafeInteger(term) || term <= 0) {
    throw invalidArgument(`a leader term is a positive safe integer (got ${quoteInput(term)})`);
  }
}

export function checkNodeId(nodeId: unknown): asserts nodeId is string {
  if (
    typeof nodeId !== 'string' ||
    nodeId.length === 0 ||
    !isWellFormed(nodeId) ||
    Buffer.byteLength(nodeId) > MAX_NODE_ID_BYTES
  ) {
    throw invalidArgument(
      `a node id is 1-${MAX_NODE_ID_BYTES} bytes of well-formed UTF-8 (got ${quoteInput(nodeId)})`,
    );
  }
}

export function checkHintTtl(ttlMs: unknown): asserts ttlMs is number {
  if (typeof ttlMs !== 'number' || !Number.isSafeInteger(ttlMs) || ttlMs <= 0) {
    throw invalidArgument(`a leader hint ttl is a positive integer of ms (got ${quoteInput(ttlMs)})`);
  }
}

/** The shape read() accepts back: anything else in the store reads as no hint. */
export function isLeaderClaim(value: unknown): value is LeaderClaim {
  if (typeof value !== 'object' || value === null) return false;
  const { term, nodeId, address } = value as Record<string, unknown>;
  return (
    typeof term === 'number' &&
    Number.isSafeInteger(term) &&
    term > 0 &&
    typeof nodeId === 'string' &&
    nodeId.length > 0 &&
    (address === undefined || typeof address === 'string')
  );
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function isWellFormed(text: string): boolean {
  return !LONE_SURROGATE.test(text);
}
