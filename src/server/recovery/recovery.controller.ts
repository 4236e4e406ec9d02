import { Controller, Get, Inject, Post, Query, Res } from '@nestjs/common';
import type { ServerResponse } from 'node:http';
import { type BodyReaders, RequestBody } from '../http/request-body.decorator';
import { TidemarkError } from '../../lib/errors';
import { binaryErrorFrame, toBinaryStream } from '../../recovery/output/binary-stream';
import { ndjsonErrorLine, toNdjson } from '../../recovery/output/ndjson';
import { RecoveryEngine } from '../../recovery/recovery-engine';
import type { RecoveryPlan, RecoveryTarget } from '../../recovery/recovery-types';
import { ClusterStateMachine } from '../../coordination/cluster/cluster-state-machine';
import type { TidemarkConfig } from '../../config/config.schema';
import { clusterRestorePoint, nodeTarget } from '../../node/cluster-restore-point';
import type { ObjectStore } from '../../storage';
import { OBJECT_STORE, TIDEMARK_CONFIG } from '../tokens';
import { ActiveRecoveries } from './active-recoveries';
import {
  parsePlanQuery,
  parseRecoverRequest,
  type RecoverRequest,
  type RequestedTarget,
} from '../../recovery/recovery-request';
import { RECOVERY_STREAM_FORMATS, type RecoveryStreamFormat } from '../../recovery/output/stream-formats';
import { ResponseWriter } from './response-writer';
import { batched, streamTo } from './stream-output';

/** A JSON body is required. */
const RECOVER_BODY: BodyReaders<RecoverRequest> = { json: parseRecoverRequest };

const CONTENT_TYPES = {
  ndjson: 'application/x-ndjson; charset=utf-8',
  binary: 'application/octet-stream',
} as const;

/**
 * `/v1/recovery`:
 * - `GET /v1/recovery/plan?checkpoint=N | lsn=N | time=<ISO 8601 | µs>[&components=a,b]` — the plan (a dry
 *   run: checkpoints, WAL range, objects, bytes, GETs, estimate); reads manifests, never a block.
 * - `POST /v1/recovery` `{target: {checkpointId} | {lsn} | {time: ISO 8601 | µs}, components?, format?,
 *   stream?}` — recovers and streams the state: NDJSON (default, `application/x-ndjson`) or binary
 *   (`application/octet-stream`); formats in src/recovery/output/ndjson.ts and binary-stream.ts. With
 *   `stream: true`, component by component as each completes (recoverStreamed).
 * - `{clusterCheckpointId: N}` (`?clusterCheckpoint=N`) is this node's own checkpoint in committed cluster
 *   checkpoint N: each member restores its part of the cluster's restore point.
 *
 * Otherwise the state is recovered completely before the first byte is sent, so every recovery error is an ordinary
 * problem+json response with its status (400 bad target, 404 unknown checkpoint, 422 corrupt data, 503 …).
 * A failure after streaming began ends the stream with an error line (NDJSON) or error frame (binary) in
 * place of the trailer. A client that disconnects aborts the recovery.
 */
@Controller('v1/recovery')
export class RecoveryController {
  constructor(
    @Inject(RecoveryEngine) private readonly engine: RecoveryEngine,
    @Inject(ActiveRecoveries) private readonly runs: ActiveRecoveries,
    @Inject(ClusterStateMachine) private readonly cluster: ClusterStateMachine,
    @Inject(OBJECT_STORE) private readonly store: ObjectStore,
    @Inject(TIDEMARK_CONFIG) private readonly config: TidemarkConfig,
  ) {}

  @Get('plan')
  async plan(@Query() query: unknown): Promise<RecoveryPlan> {
    const { target, components } = parsePlanQuery(query);
    return this.engine.findRecoveryPath(await this.resolve(target), components);
  }

  @Post()
  async recover(
    @RequestBody(RECOVER_BODY) { target, components, format, stream }: RecoverRequest,
    @Res() res: ServerResponse,
  ): Promise<void> {
    const gone = new AbortController();
    const onClose = () => {
      if (!res.writableFinished) gone.abort(new TidemarkError('CLOSED', 'the client went away'));
    };
    res.on('close', onClose);
    try {
      const resolved = await this.resolve(target);
      if (stream)
        return await this.recoverStreamed(
          resolved,
          components,
          RECOVERY_STREAM_FORMATS[format],
          res,
          gone.signal,
        );
      const result = await this.runs.run(
        (signal) => this.engine.recoverTo(resolved, components, { signal }),
        gone.signal,
      );
      res.statusCode = 200;
      res.setHeader('Content-Type', CONTENT_TYPES[format]);
      res.setHeader('Cache-Control', 'no-store');
      const chunks =
        format === 'binary'
          ? batched(toBinaryStream(result), binaryErrorFrame)
          : batched(toNdjson(result), ndjsonErrorLine);
      await streamTo(chunks, res);
    } finally {
      res.off('close', onClose);
    }
  }

  /**
   * Each component is written as soon as it is whole and then let go: the service never holds the whole
   * state. A failure before the header went out is an ordinary problem+json response; after, it ends
   * the stream with the format's error frame in place of its end — or, in a format whose frames cannot
   * follow a component cut short (binary), by cutting the connection (the stream then lacks its end).
   */
  private async recoverStreamed(
    target: RecoveryTarget,
    components: string[] | undefined,
    format: RecoveryStreamFormat,
    res: ServerResponse,
    gone: AbortSignal,
  ): Promise<void> {
    const writer = new ResponseWriter(res);
    let midComponent = false;
    try {
      const result = await this.runs.run(
        (signal) =>
          this.engine.recoverTo(target, components, {
            signal,
            onCut: async ({ lsn, componentIds }) => {
              if (signal.aborted) return;
              res.statusCode = 200;
              res.setHeader('Content-Type', format.contentType);
              res.setHeader('Cache-Control', 'no-store');
              // Sent at once: from here on the client knows the recovery has begun, and failures are told in
              // the stream.
              await writer.write(format.header(target, lsn, componentIds));
              await writer.flush();
            },
            onComponent: async (component) => {
              midComponent = true;
              for (const part of format.component(component)) {
                if (signal.aborted) throw signal.reason;
                await writer.write(part);
              }
              midComponent = false;
            },
          }),
        gone,
      );
      await writer.end(format.end(result.components, result.stats));
    } catch (error) {
      if (!res.headersSent) {
        writer.abandon();
        throw error;
      }
      if (midComponent && !format.errorFollowsAnyPart) {
        writer.abandon();
        res.destroy();
        return;
      }
      await writer.end(format.error(error));
    }
  }

  private async resolve(target: RequestedTarget): Promise<RecoveryTarget> {
    if (!('clusterCheckpointId' in target)) return target;
    const point = await clusterRestorePoint({
      id: target.clusterCheckpointId,
      record: this.cluster.checkpoints,
      store: this.store,
      prefix: this.config.storage.prefix,
    });
    return nodeTarget(point, this.config.checkpoint.nodeId);
  }
}
