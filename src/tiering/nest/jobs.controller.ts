import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query } from '@nestjs/common';
import { z } from 'zod';
import { TidemarkError, invalidArgument } from '../../errors';
import { JOB_NAMES, type JobQueue, type JobRecord } from '../jobs/job-queue';
import { TieringNode } from '../tiering-node';
import { JOB_QUEUE } from './tiering.tokens';

const listQuerySchema = z
  .object({
    state: z.enum(['waiting', 'delayed', 'active', 'completed', 'failed']).optional(),
    name: z.enum(JOB_NAMES).optional(),
    limit: z.coerce.number().int().min(1).max(1000).optional(),
  })
  .strict();

const gcBodySchema = z.object({ fullSweep: z.boolean().optional() }).strict();

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
    const parsed = listQuerySchema.safeParse(query);
    if (!parsed.success) throw invalidArgument(`bad job filter: ${parsed.error.issues[0]?.message ?? ''}`);
    return { jobs: await this.queue.list(parsed.data) };
  }

  @Get('jobs/:id')
  async get(@Param('id') id: string): Promise<JobRecord> {
    const job = await this.queue.get(id);
    if (!job) throw new TidemarkError('NOT_FOUND', `no job ${JSON.stringify(id)}`, { details: { id } });
    return job;
  }

  @Post('compaction')
  @HttpCode(202)
  compaction(): Promise<JobRecord> {
    return this.tiering.scheduler.trigger('checkpoint-compaction');
  }

  @Post('retention')
  @HttpCode(202)
  retention(): Promise<JobRecord> {
    return this.tiering.scheduler.trigger('retention');
  }

  @Post('gc')
  @HttpCode(202)
  gc(@Body() body: unknown): Promise<JobRecord> {
    const parsed = gcBodySchema.safeParse(body ?? {});
    if (!parsed.success) throw invalidArgument('expected a JSON object {"fullSweep": boolean} (optional)');
    return this.tiering.scheduler.trigger('garbage-collection', {
      fullSweep: parsed.data.fullSweep === true,
    });
  }

  @Post('uploads')
  @HttpCode(202)
  async uploads(): Promise<JobRecord | { pending: 0 }> {
    return (await this.tiering.reconciler.reconcile({ flush: true })) ?? { pending: 0 };
  }
}
