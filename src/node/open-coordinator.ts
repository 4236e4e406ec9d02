import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { MetadataRecord } from '../coordination/cluster/metadata-record';
import { FileRaftLogStore } from '../coordination/raft/log-store/file-raft-log-store';
import { RaftNode } from '../coordination/raft/raft-node';
import { HttpRaftTransport } from '../coordination/raft/transport/http/http-raft-transport';
import type { RaftTransport } from '../coordination/raft/transport/raft-transport';
import type { TidemarkConfig } from '../config/config.schema';
import type { Clock } from '../lib/clock';
import { TidemarkError } from '../lib/errors';
import type { Logger } from '../lib/logger';

export interface Coordinator {
  readonly raft: RaftNode;
  /** The cluster's replicated key-value record (the state machine Raft runs today). */
  readonly metadata: MetadataRecord;
}

/**
 * The node's Raft coordinator from its settings: its log in `{dataDir}/raft`, the cluster's metadata as the
 * replicated state, and — when the cluster has peers (or this node joins one) — the HTTP transport on
 * `cluster.listen` (default: its own endpoint), signed with the cluster secret. Without endpoints the node
 * is a one-voter cluster of itself, with no network: the embedded mode runs the same code.
 */
export async function openCoordinator(
  settings: TidemarkConfig,
  clock: Clock,
  logger: Logger,
): Promise<Coordinator> {
  const { cluster } = settings;
  const id = settings.checkpoint.nodeId;
  const members = new Map(cluster.endpoints.map((e) => [e.id, e.address]));
  if (members.size === 0) members.set(id, '');
  const networked = cluster.endpoints.length > 1 || cluster.join;
  const metadata = new MetadataRecord();
  const raft = await RaftNode.open({
    id,
    initialMembers: members,
    join: cluster.join,
    electionTimeoutMs: cluster.electionTimeoutMs,
    heartbeatIntervalMs: cluster.heartbeatIntervalMs,
    partitionToleranceMs: cluster.partitionToleranceMs,
    snapshotEvery: cluster.snapshotEvery,
    store: new FileRaftLogStore(path.join(settings.dataDir, 'raft'), { logger }),
    transport: networked ? transport(settings, members.get(id), clock, logger) : undefined,
    stateMachine: metadata,
    clock,
    logger,
  });
  return { raft, metadata };
}

function transport(
  settings: TidemarkConfig,
  own: string | undefined,
  clock: Clock,
  logger: Logger,
): RaftTransport {
  const { cluster } = settings;
  const listen = cluster.listen ?? own;
  if (listen === undefined) {
    throw new TidemarkError(
      'CONFIG_INVALID',
      'cluster.listen: a joining node needs an address to listen on (TIDEMARK_CLUSTER_LISTEN)',
    );
  }
  const tls = cluster.tls && {
    key: readFileSync(cluster.tls.keyFile),
    cert: readFileSync(cluster.tls.certFile),
    ca: cluster.tls.caFile === undefined ? undefined : readFileSync(cluster.tls.caFile),
  };
  return new HttpRaftTransport({
    nodeId: settings.checkpoint.nodeId,
    listen,
    secret: cluster.secret as string,
    tls,
    clock,
    logger,
  });
}
