import { readFileSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { CheckpointCoordinator } from '../coordination/barrier/checkpoint-coordinator';
import { CheckpointParticipant } from '../coordination/barrier/checkpoint-participant';
import { ClusterStateMachine } from '../coordination/cluster/cluster-state-machine';
import { LeaderHintKeeper, type LeaderHint } from '../coordination/lease';
import type { MetadataRecord } from '../coordination/cluster/metadata-record';
import { FileRaftLogStore } from '../coordination/raft/log-store/file-raft-log-store';
import { RaftNode } from '../coordination/raft/raft-node';
import { HttpRaftTransport } from '../coordination/raft/transport/http/http-raft-transport';
import { PartitionableTransport } from '../coordination/raft/transport/partitionable-transport';
import type { RaftTransport } from '../coordination/raft/transport/raft-transport';
import type { IncrementalCheckpointSystem } from '../checkpoint/incremental-checkpoint-system';
import type { TidemarkConfig } from '../config/config.schema';
import type { Clock } from '../lib/clock';
import { TidemarkError } from '../lib/errors';
import type { Logger } from '../lib/logger';
import type { ObjectStore } from '../storage';
import { barrierCheckpoints, clusterPinnedCheckpoints } from './barrier-checkpoints';
import { raftBootstrap } from './raft-bootstrap-record';

export interface Coordinator {
  readonly raft: RaftNode;
  /** What Raft replicates: the cluster's metadata and its checkpoint record. */
  readonly state: ClusterStateMachine;
  /** The cluster's replicated key-value record. */
  readonly metadata: MetadataRecord;
  /** The leader's half of cluster checkpoints (begin, commit, abort); idle on a follower. */
  readonly checkpoints: CheckpointCoordinator;
  /** This node's half: cut at each barrier, acknowledge, record what committed. */
  readonly participant: CheckpointParticipant;
  /** With Redis: keeps the leader hint while this node leads (a hint for other processes, not authority). */
  readonly leaderHint: { readonly keeper: LeaderHintKeeper; readonly hint: LeaderHint } | undefined;
}

/** What the coordinator's barrier participant cuts with. */
export interface CoordinatorParts {
  readonly system: IncrementalCheckpointSystem;
  readonly store: ObjectStore;
}

/**
 * The node's Raft coordinator from its settings: its log in `{dataDir}/raft`, the cluster's state machine
 * (metadata and checkpoint record) with the barrier's leader loop and this node's participant, the leader
 * hint when Redis is configured, and — when the cluster has peers (or this node joins one) — the HTTP transport on
 * `cluster.listen` (default: its own endpoint), signed with the cluster secret. Without endpoints the node
 * is a one-voter cluster of itself, with no network: the embedded mode runs the same code.
 */
export async function openCoordinator(
  settings: TidemarkConfig,
  clock: Clock,
  logger: Logger,
  parts: CoordinatorParts,
): Promise<Coordinator> {
  const { cluster } = settings;
  const id = settings.checkpoint.nodeId;
  const configured = new Map(cluster.endpoints.map((e) => [e.id, e.address]));
  if (configured.size === 0) configured.set(id, '');
  // What Raft starts from is the first start's (raft-bootstrap-record.ts), not whatever the settings say now.
  await fs.mkdir(settings.dataDir, { recursive: true });
  const bootstrap = await raftBootstrap(
    settings.dataDir,
    { members: configured, join: cluster.join },
    logger,
  );
  const members = new Map(bootstrap.members);
  // The addresses of today's settings where they name the same members (a host may have moved).
  for (const [member, address] of configured) if (members.has(member)) members.set(member, address);
  const networked =
    cluster.endpoints.length > 1 || cluster.join || bootstrap.members.size > 1 || bootstrap.join;
  const state = new ClusterStateMachine();
  const raft = await RaftNode.open({
    id,
    initialMembers: members,
    join: bootstrap.join,
    electionTimeoutMs: cluster.electionTimeoutMs,
    heartbeatIntervalMs: cluster.heartbeatIntervalMs,
    partitionToleranceMs: cluster.partitionToleranceMs,
    snapshotEvery: cluster.snapshotEvery,
    store: new FileRaftLogStore(path.join(settings.dataDir, 'raft'), { logger }),
    transport: networked
      ? faultHooked(settings, transport(settings, members.get(id), clock, logger), logger)
      : undefined,
    stateMachine: state,
    clock,
    logger,
  });
  const prefix = settings.storage.prefix;
  const checkpoints = new CheckpointCoordinator({
    nodeId: id,
    raft,
    state,
    // Embedded (a cluster of itself): a cluster checkpoint only when asked; the node's own periodic
    // checkpoints (checkpoint.checkpointInterval) already cover it.
    settings: networked ? cluster.checkpoints : { ...cluster.checkpoints, intervalMs: 0 },
    pollMs: cluster.heartbeatIntervalMs,
    clock,
    logger,
  });
  const participant = new CheckpointParticipant({
    nodeId: id,
    raft,
    state,
    local: barrierCheckpoints(parts.system, parts.store, prefix),
    resendMs: cluster.electionTimeoutMs,
    clock,
    logger,
  });
  parts.system.pins.add(
    'cluster checkpoints',
    clusterPinnedCheckpoints(() => state.checkpoints, id, cluster.checkpoints.retained),
  );
  const leaderHint = openLeaderHint(settings, clock, logger);
  if (leaderHint !== undefined) {
    raft.onRoleChange((role, term) => leaderHint.keeper.leadershipChanged(role, term));
  }
  return { raft, state, metadata: state.metadata, checkpoints, participant, leaderHint };
}

function openLeaderHint(settings: TidemarkConfig, clock: Clock, logger: Logger): Coordinator['leaderHint'] {
  const { redisUrl, redisKeyPrefix } = settings.tiering;
  if (redisUrl === undefined) return undefined;
  // ioredis loads only when Redis is configured (as the lease's provider does).
  const hint = new (loadRedisLeaderHint().RedisLeaderHint)({
    url: redisUrl,
    keyPrefix: `${redisKeyPrefix}:`,
    clock,
    logger,
  });
  const keeper = new LeaderHintKeeper({
    hint,
    nodeId: settings.checkpoint.nodeId,
    address: settings.cluster.apiUrl,
    ttlMs: settings.cluster.leaderHintTtlMs,
    clock,
    logger,
  });
  return { keeper, hint };
}

/** With `cluster.testFaults`: SIGUSR2 toggles a partition of this node (a hook for tests alone). */
function faultHooked(settings: TidemarkConfig, inner: RaftTransport, logger: Logger): RaftTransport {
  if (!settings.cluster.testFaults) return inner;
  const partitionable = new PartitionableTransport(inner);
  const toggle = () => {
    partitionable.setCut(!partitionable.cut);
    logger.warn({ cut: partitionable.cut }, 'test fault: raft transport cut off from every peer (SIGUSR2)');
  };
  process.on('SIGUSR2', toggle);
  const close = partitionable.close.bind(partitionable);
  partitionable.close = async () => {
    process.off('SIGUSR2', toggle);
    await close();
  };
  return partitionable;
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

function loadRedisLeaderHint(): typeof import('../coordination/lease/redis-leader-hint') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('../coordination/lease/redis-leader-hint');
}
