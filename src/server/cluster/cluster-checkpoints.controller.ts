import { Controller, Get, HttpCode, Inject, Param, Post, Query } from '@nestjs/common';
import { z } from 'zod';
import { CheckpointCoordinator } from '../../coordination/barrier/checkpoint-coordinator';
import { failing } from '../../coordination/barrier/checkpoint-policy';
import type { ClusterCheckpoint } from '../../coordination/barrier/cluster-checkpoint-record';
import { ClusterStateMachine } from '../../coordination/cluster/cluster-state-machine';
import { RaftNode } from '../../coordination/raft/raft-node';
import { TidemarkError } from '../../lib/errors';
import { parseInput, QUERY_INPUT } from '../../lib/input-issues';
import { NO_BODY, RequestBody } from '../http/request-body.decorator';
import { TIDEMARK_CONFIG } from '../tokens';
import type { TidemarkConfig } from '../../config/config.schema';

const listQuery = z
  .object({
    consistency: z.enum(['linearizable', 'local']).optional(),
    state: z.enum(['pending', 'committed', 'aborted']).optional(),
    limit: z.coerce.number().int().min(1).max(1000).optional(),
  })
  .strict();
const readQuery = z.object({ consistency: z.enum(['linearizable', 'local']).optional() }).strict();
const idParam = z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER);

/** One cluster checkpoint as the API shows it: times as ISO strings, durations in ms. */
export function checkpointView(c: ClusterCheckpoint, endAppliedAt?: number) {
  const acks = Object.fromEntries(
    c.members
      .filter((node) => Object.hasOwn(c.acks, node))
      .map((node) => {
        const ack = c.acks[node]!;
        return [
          node,
          {
            checkpointId: ack.checkpointId,
            barrierLsn: ack.barrierLsn,
            manifestKey: ack.manifestKey,
            ackedAt: new Date(ack.ackedAt).toISOString(),
            durationMs: Math.max(0, ack.ackedAt - c.beganAt),
            cutMs: ack.cutMs,
          },
        ];
      }),
  );
  return {
    id: c.id,
    state: c.state,
    members: c.members,
    acks,
    waitingFor: c.state === 'pending' ? c.members.filter((node) => !Object.hasOwn(c.acks, node)) : [],
    beganInTerm: c.beganInTerm,
    endedInTerm: c.endedInTerm,
    beganAt: new Date(c.beganAt).toISOString(),
    endedAt: c.endedAt === undefined ? undefined : new Date(c.endedAt).toISOString(),
    durationMs: c.endedAt === undefined ? undefined : Math.max(0, c.endedAt - c.beganAt),
    /** When this node applied the end (committed through Raft), if it did while running: the latency seen. */
    appliedHereAt: endAppliedAt === undefined ? undefined : new Date(endAppliedAt).toISOString(),
    appliedHereMs: endAppliedAt === undefined ? undefined : Math.max(0, endAppliedAt - c.beganAt),
    reason: c.reason,
  };
}

/**
 * Cluster checkpoints over REST: `GET /v1/cluster/checkpoints` (newest first, with the record's counters),
 * `GET /v1/cluster/checkpoints/:id` (state, per-node acks and durations) and `POST /v1/cluster/checkpoints`
 * (begin one now, on the leader: 202 once "begin" applied; 409 NOT_LEADER on a follower, naming the leader;
 * 409 PRECONDITION_FAILED when the policy refuses, with why). Reads show this node's applied record (a
 * follower's lags the leader's by about a heartbeat; an ended checkpoint never changes again), so every
 * member answers them; `?consistency=linearizable` on the leader waits for a read barrier first.
 */
@Controller('v1/cluster/checkpoints')
export class ClusterCheckpointsController {
  constructor(
    @Inject(RaftNode) private readonly raft: RaftNode,
    @Inject(ClusterStateMachine) private readonly state: ClusterStateMachine,
    @Inject(CheckpointCoordinator) private readonly coordinator: CheckpointCoordinator,
    @Inject(TIDEMARK_CONFIG) private readonly config: TidemarkConfig,
  ) {}

  @Get()
  async list(@Query() query: unknown) {
    const { consistency, state, limit } = parseInput(
      listQuery,
      query,
      QUERY_INPUT,
      'known: consistency, state, limit',
    );
    if (consistency === 'linearizable') await this.raft.readBarrier();
    const record = this.state.checkpoints;
    const checkpoints = record
      .list()
      .filter((c) => state === undefined || c.state === state)
      .slice(0, limit ?? 100);
    return {
      lastId: record.lastId,
      lastCommittedId: record.lastCommittedId,
      consecutiveFailures: record.consecutiveFailures,
      failing: failing(record, this.config.cluster.checkpoints),
      jobs: record.jobs,
      settings: this.config.cluster.checkpoints,
      checkpoints: checkpoints.map((c) => checkpointView(c, this.coordinator.endAppliedAt(c.id))),
    };
  }

  @Get(':id')
  async get(@Param('id') id: string, @Query() query: unknown) {
    const { consistency } = parseInput(readQuery, query, QUERY_INPUT, 'known: consistency');
    const parsed = idParam.safeParse(id);
    if (!parsed.success) {
      throw new TidemarkError('INVALID_ARGUMENT', 'a cluster checkpoint id is a positive integer');
    }
    if (consistency === 'linearizable') await this.raft.readBarrier();
    const checkpoint = this.state.checkpoints.get(parsed.data);
    if (checkpoint === undefined) {
      throw new TidemarkError('CHECKPOINT_NOT_FOUND', `no cluster checkpoint ${parsed.data} in the record`, {
        details: { clusterCheckpointId: parsed.data },
      });
    }
    return checkpointView(checkpoint, this.coordinator.endAppliedAt(checkpoint.id));
  }

  @Post()
  @HttpCode(202)
  async trigger(@RequestBody(NO_BODY) _body: unknown) {
    const begun = await this.coordinator.trigger();
    return checkpointView(begun, this.coordinator.endAppliedAt(begun.id));
  }
}
