import { invalidArgument, TidemarkError } from '../../../../lib/errors';
import { systemClock, type Clock } from '../../../../lib/clock';
import { silentLogger, type Logger } from '../../../../lib/logger';
import type { NodeId } from '../../core/types';
import { MAX_ID_BYTES } from '../message-codec';
import { parsePeerAddress, type PeerAddress } from './peer-address';

/** PEM (or DER) material for HTTPS on both sides: the server presents key+cert, clients trust `ca`. */
export interface RaftTlsOptions {
  readonly key: Buffer | string;
  readonly cert: Buffer | string;
  /** The authority peers' certificates chain to; the system's roots when absent. */
  readonly ca?: Buffer | string | (Buffer | string)[];
}

export interface HttpRaftTransportOptions {
  /** This node: the `from` of what it sends, the only `to` it accepts. */
  readonly nodeId: NodeId;
  /** Where this node's server listens, `host:port` (port 0: any free port; see `address()`). */
  readonly listen: string;
  /** The cluster's shared secret, at least 16 bytes: every batch (and a stream's opening) is signed with it. */
  readonly secret: Buffer | string;
  /** HTTPS on both sides when given; plain HTTP otherwise. */
  readonly tls?: RaftTlsOptions;
  /**
   * Accept messages from a sender that is not in the peers map (default false). Off, a node that is being
   * added is heard only once the receiver's membership names it; the leader knows the new node's address
   * from the addLearner entry it proposes, so replication reaches it, and its replies are heard once the
   * entry is applied on the leader. Any holder of the secret may speak either way: the secret, not the
   * peers map, is what authenticates.
   */
  readonly acceptUnknownSenders?: boolean;
  /**
   * A stream whose opening is not answered, or whose frames are not acknowledged, within this is cut and
   * what waited for it dropped (default 2 s).
   */
  readonly requestTimeoutMs?: number;
  /** After a failed stream, the wait before the next to that peer (default 100 ms): a down peer is not hammered. */
  readonly retryBackoffMs?: number;
  /** Messages waiting per peer; beyond, the oldest are dropped (default 4,096). */
  readonly maxQueuedMessages?: number;
  /** Encoded bytes waiting per peer; beyond, the oldest are dropped (default 64 MiB). */
  readonly maxQueuedBytes?: number;
  /** One frame's batch, as the sender batches it (default 4 MiB; a larger single message goes alone). */
  readonly maxBatchBytes?: number;
  /** The largest batch the server accepts (413 beyond) and the client sends (default 64 MiB). */
  readonly maxBodyBytes?: number;
  readonly clock?: Clock;
  readonly logger?: Logger;
}

export interface ResolvedTransportOptions {
  readonly nodeId: NodeId;
  readonly listen: PeerAddress;
  readonly secret: Buffer;
  readonly tls: RaftTlsOptions | undefined;
  readonly acceptUnknownSenders: boolean;
  readonly requestTimeoutMs: number;
  readonly retryBackoffMs: number;
  readonly maxQueuedMessages: number;
  readonly maxQueuedBytes: number;
  readonly maxBatchBytes: number;
  readonly maxBodyBytes: number;
  readonly clock: Clock;
  readonly logger: Logger;
}

/** Below this a shared secret is too easy to guess. */
export const MIN_SECRET_BYTES = 16;

const MiB = 1024 * 1024;

/** The options with their defaults; CONFIG_INVALID or INVALID_ARGUMENT when one cannot work. */
export function resolveTransportOptions(options: HttpRaftTransportOptions): ResolvedTransportOptions {
  const secret = Buffer.isBuffer(options.secret)
    ? Buffer.from(options.secret)
    : Buffer.from(options.secret, 'utf8');
  if (secret.length < MIN_SECRET_BYTES) {
    throw new TidemarkError(
      'CONFIG_INVALID',
      `the raft cluster secret must be at least ${MIN_SECRET_BYTES} bytes (it has ${secret.length})`,
    );
  }
  const idBytes = Buffer.byteLength(options.nodeId, 'utf8');
  if (idBytes === 0 || idBytes > MAX_ID_BYTES) {
    throw invalidArgument(`a raft node id must be 1 to ${MAX_ID_BYTES} bytes of UTF-8 (it has ${idBytes})`);
  }
  return {
    nodeId: options.nodeId,
    listen: parsePeerAddress(options.listen, true),
    secret,
    tls: options.tls,
    acceptUnknownSenders: options.acceptUnknownSenders ?? false,
    requestTimeoutMs: positive('requestTimeoutMs', options.requestTimeoutMs ?? 2_000),
    retryBackoffMs: atLeastZero('retryBackoffMs', options.retryBackoffMs ?? 100),
    maxQueuedMessages: positive('maxQueuedMessages', options.maxQueuedMessages ?? 4_096),
    maxQueuedBytes: positive('maxQueuedBytes', options.maxQueuedBytes ?? 64 * MiB),
    maxBatchBytes: positive('maxBatchBytes', options.maxBatchBytes ?? 4 * MiB),
    maxBodyBytes: positive('maxBodyBytes', options.maxBodyBytes ?? 64 * MiB),
    clock: options.clock ?? systemClock,
    logger: options.logger ?? silentLogger,
  };
}

function positive(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value <= 0) throw invalidArgument(`${name} must be a positive integer`);
  return value;
}

function atLeastZero(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 0) throw invalidArgument(`${name} must be an integer ≥ 0`);
  return value;
}
