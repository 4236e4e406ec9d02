import { Controller, Delete, Get, HttpCode, Inject, Param, Post, Put, Query } from '@nestjs/common';
import { z } from 'zod';
import {
  encodeMetadataCommand,
  MetadataRecord,
  type MetadataValue,
} from '../../coordination/cluster/metadata-record';
import { clusterHealth, type ClusterHealth } from '../../coordination/cluster/cluster-health';
import { ClusterStateMachine } from '../../coordination/cluster/cluster-state-machine';
import { RaftNode, type RaftNodeStatus } from '../../coordination/raft/raft-node';
import { echoInput, quoteInput, TidemarkError } from '../../lib/errors';
import { BODY_INPUT, parseInput, QUERY_INPUT } from '../../lib/input-issues';
import { type BodyReaders, NO_BODY, RequestBody } from '../http/request-body.decorator';

const memberBody = z
  .object({
    id: z
      .string()
      .trim()
      .min(1, 'expected a node id')
      .refine((id) => Buffer.byteLength(id) <= 255, 'at most 255 bytes of UTF-8'),
    address: z
      .string()
      .trim()
      .regex(/^(?:\[[0-9A-Fa-f:.]+\]|[^:[\]\s/]+):\d{1,5}$/, 'expected host:port')
      .refine((address) => {
        const port = Number(address.slice(address.lastIndexOf(':') + 1));
        return port >= 1 && port <= 65535;
      }, 'expected a port from 1 to 65535'),
  })
  .strict();
const MEMBER_BODY: BodyReaders<z.infer<typeof memberBody>> = {
  json: (body) => parseInput(memberBody, body, BODY_INPUT, 'expected {"id": "n4", "address": "host:port"}'),
};

const transferBody = z.object({ to: z.string().trim().min(1, 'expected a node id') }).strict();
const TRANSFER_BODY: BodyReaders<z.infer<typeof transferBody>> = {
  json: (body) => parseInput(transferBody, body, BODY_INPUT, 'expected {"to": "<voter id>"}'),
};

const valueBody = z.object({ value: z.string({ required_error: 'expected a string' }) }).strict();
const VALUE_BODY: BodyReaders<z.infer<typeof valueBody>> = {
  json: (body) => parseInput(valueBody, body, BODY_INPUT, 'expected {"value": "<text>"}'),
};

const readQuery = z.object({ consistency: z.enum(['linearizable', 'local']).optional() }).strict();

export interface ClusterView extends RaftNodeStatus, ClusterHealth {
  /** `embedded`: a one-voter cluster of this node; `cluster`: peers configured. */
  readonly mode: 'embedded' | 'cluster';
  /** The cluster checkpoints' counters (GET /v1/cluster/checkpoints has the rest). */
  readonly checkpoints: {
    readonly lastId: number;
    readonly lastCommittedId: number;
    readonly pending: number[];
    readonly consecutiveFailures: number;
  };
}

/**
 * The Raft coordinator over REST: `GET /v1/cluster` (members, role, term, commit and applied index; on the
 * leader each member's match index, lag and last contact), membership changes and leadership transfer
 * (on the leader; a follower answers 409 NOT_LEADER naming the leader and its address), and the cluster's
 * replicated metadata (`/v1/cluster/metadata/:key`; reads are linearizable unless `?consistency=local`).
 */
@Controller('v1/cluster')
export class ClusterController {
  constructor(
    @Inject(RaftNode) private readonly raft: RaftNode,
    @Inject(MetadataRecord) private readonly metadata: MetadataRecord,
    @Inject(ClusterStateMachine) private readonly state: ClusterStateMachine,
  ) {}

  @Get()
  status(): ClusterView {
    const status = this.raft.status();
    const embedded = status.members.length === 1 && status.members[0]?.address === '';
    const record = this.state.checkpoints;
    return {
      mode: embedded ? 'embedded' : 'cluster',
      ...status,
      ...clusterHealth(status),
      checkpoints: {
        lastId: record.lastId,
        lastCommittedId: record.lastCommittedId,
        pending: record.pendingCheckpoints().map((c) => c.id),
        consecutiveFailures: record.consecutiveFailures,
      },
    };
  }

  @Post('members')
  @HttpCode(201)
  async addMember(@RequestBody(MEMBER_BODY) { id, address }: z.infer<typeof memberBody>) {
    const applied = await this.raft.addLearner(id, address);
    return { id, address, voter: false, index: applied.index, term: applied.term };
  }

  @Post('members/:id/promote')
  @HttpCode(200)
  async promote(@Param('id') id: string, @RequestBody(NO_BODY) _body: unknown) {
    const applied = await this.raft.promote(id);
    return { id, voter: true, index: applied.index, term: applied.term };
  }

  @Delete('members/:id')
  async remove(@Param('id') id: string, @RequestBody(NO_BODY) _body: unknown) {
    const applied = await this.raft.removeMember(id);
    return { id, removed: true, index: applied.index, term: applied.term };
  }

  @Post('leader')
  @HttpCode(202)
  transfer(@RequestBody(TRANSFER_BODY) { to }: z.infer<typeof transferBody>) {
    this.raft.transferLeadership(to);
    return { transferringTo: to };
  }

  @Get('metadata')
  async keys(@Query() query: unknown): Promise<{ keys: string[] }> {
    await this.readBarrier(query);
    return { keys: this.metadata.keys() };
  }

  @Get('metadata/:key')
  async get(@Param('key') key: string, @Query() query: unknown): Promise<{ key: string } & MetadataValue> {
    await this.readBarrier(query);
    const found = this.metadata.get(key);
    if (found === undefined) {
      throw new TidemarkError('NOT_FOUND', `no metadata key ${quoteInput(key)}`, {
        details: { key: echoInput(key) },
      });
    }
    return { key, ...found };
  }

  @Put('metadata/:key')
  async set(@Param('key') key: string, @RequestBody(VALUE_BODY) { value }: z.infer<typeof valueBody>) {
    const applied = await this.raft.propose(encodeMetadataCommand({ op: 'set', key, value }));
    return { key, value, index: applied.index, term: applied.term };
  }

  @Delete('metadata/:key')
  async delete(@Param('key') key: string, @RequestBody(NO_BODY) _body: unknown) {
    const applied = await this.raft.propose<MetadataValue | undefined>(
      encodeMetadataCommand({ op: 'delete', key }),
    );
    return { key, deleted: applied.result !== undefined, index: applied.index, term: applied.term };
  }

  private async readBarrier(query: unknown): Promise<void> {
    const { consistency } = parseInput(readQuery, query, QUERY_INPUT, 'known: consistency');
    if (consistency !== 'local') await this.raft.readBarrier();
  }
}
