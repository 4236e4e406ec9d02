import { Controller, Get, HttpCode, Inject, Param, Post, Query } from '@nestjs/common';
import { z } from 'zod';
import { BODY_INPUT, parseInput, QUERY_INPUT } from '../../lib/input-issues';
import { type BodyReaders, NO_BODY, RequestBody } from '../http/request-body.decorator';
import { echoInput, quoteInput, TidemarkError } from '../../lib/errors';
import { JOB_NAMES, type JobQueue, type JobRecord } from '../../jobs/job-queue';
import { TieringNode } from '../../tiering/tiering-node';
import { JOB_QUEUE } from '../tokens';

const listQuerySchema = z
  .object({
    state: z.enum(['waiting', 'delayed', 'active', 'completed', 'failed']).optional(),
    name: z.enum(JOB_NAMES).optional(),
    limit: z.coerce.number().int().min(1).max(1000).optional(),
  })
  .strict();

const gcBodySchema = z
  .object({ fullSweep: z.boolean({ invalid_type_error: 'expected true or false' }).optional() })
  .strict();

type GcRequest = z.infer<typeof gcBodySchema>;

/** JSON `{"fullSweep": boolean}`; an absent or empty body is a sweep of what is known to be unreferenced. */
const GC_BODY: BodyReaders<GcRequest> = {
  json: (body) => parseInput(gcBodySchema, body, BODY_INPUT, 'expected {"fullSweep": boolean} (optional)'),
  absent: () => ({}),
};

/**
 * Background jobs: `GET /v1/jobs` (newest first; `?state=&name=&limit=`), `GET /v1/jobs/:id` (state,
 * attempts, result or last error), and triggers that enqueue a run now and answer 202 with the job:
 * `POST /v1/compaction`, `POST /v1/retention`, `POST /v1/gc` (`{"fullSweep": true}` also lists the store
 * for orphans), `POST /v1/uploads` (ship pending segments, partial packs included).
 */
@Controller('v1')
export class JobsController {
  constructor(
    @Inject(JOB_QUEUE) private readonly queue: JobQueue,
    @Inject(TieringNode) private readonly tiering: TieringNode,
  ) {}

  @Get('jobs')
  async list(@Query() query: unknown): Promise<{ jobs: JobRecord[] }> {
    const filter = parseInput(listQuerySchema, query, QUERY_INPUT, 'known: state, name, limit');
    return { jobs: await this.queue.list(filter) };
  }

  @Get('jobs/:id')
  async get(@Param('id') id: string): Promise<JobRecord> {
    const job = await this.queue.get(id);
    if (!job) {
      throw new TidemarkError('NOT_FOUND', `no job ${quoteInput(id)}`, { details: { id: echoInput(id) } });
    }
    return job;
  }

  @Post('compaction')
  @HttpCode(202)
  compaction(@RequestBody(NO_BODY) _body: unknown): Promise<JobRecord> {
    return this.tiering.scheduler.trigger('checkpoint-compaction');
  }

  @Post('retention')
  @HttpCode(202)
  retention(@RequestBody(NO_BODY) _body: unknown): Promise<JobRecord> {
    return this.tiering.scheduler.trigger('retention');
  }

  @Post('gc')
  @HttpCode(202)
  gc(@RequestBody(GC_BODY) { fullSweep }: GcRequest): Promise<JobRecord> {
    return this.tiering.scheduler.trigger('garbage-collection', { fullSweep: fullSweep === true });
  }

  @Post('uploads')
  @HttpCode(202)
  async uploads(@RequestBody(NO_BODY) _body: unknown): Promise<JobRecord | { pending: 0 }> {
    return (await this.tiering.reconciler.reconcile({ flush: true })) ?? { pending: 0 };
  }
}
