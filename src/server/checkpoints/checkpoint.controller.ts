import { Controller, Delete, Get, HttpCode, Inject, Param, Post, Query } from '@nestjs/common';
import { z } from 'zod';
import { BODY_INPUT, parseInput, QUERY_INPUT } from '../../lib/input-issues';
import { type BodyReaders, NO_BODY, RequestBody } from '../http/request-body.decorator';
import { echoInput, invalidArgument, quoteInput } from '../../lib/errors';
import type { RemoveResult } from '../../checkpoint/catalog/catalog';
import type { CheckpointSummary } from '../../checkpoint/catalog/checkpoint-summary';
import { IncrementalCheckpointSystem } from '../../checkpoint/incremental-checkpoint-system';

const KIND = 'expected kind to be "full", "incremental" or "auto"';
const BODY = 'expected a JSON object {"kind": "full" | "incremental" | "auto"} (kind optional, default auto)';

const triggerRequestSchema = z
  .object(
    {
      kind: z.enum(['full', 'incremental', 'auto'], { errorMap: () => ({ message: KIND }) }).optional(),
    },
    { invalid_type_error: BODY },
  )
  .strict();

export type TriggerCheckpointRequest = z.infer<typeof triggerRequestSchema>;

/** JSON `{kind}`; an absent or empty body is `{}` (kind auto). */
const TRIGGER_BODY: BodyReaders<TriggerCheckpointRequest> = {
  json: (body) => parseInput(triggerRequestSchema, body, BODY_INPUT, BODY),
  absent: () => ({}),
};

const deleteQuerySchema = z.object({ force: z.unknown().optional() }).strict();

/**
 * `/v1/checkpoints`: take a checkpoint now (`POST`, `{kind}`: full, incremental or auto, default auto), list
 * the committed ones and read one (the catalog's summaries: kind, parent, chain, LSN range, time, logical
 * and stored bytes, dedup ratio, duration …), delete one (`DELETE /v1/checkpoints/:id`, refused with 409
 * DEPENDENT_CHECKPOINTS while retained checkpoints build on it, unless `?force=true`).
 */
@Controller('v1/checkpoints')
export class CheckpointController {
  constructor(@Inject(IncrementalCheckpointSystem) private readonly system: IncrementalCheckpointSystem) {}

  @Post()
  @HttpCode(201)
  async trigger(@RequestBody(TRIGGER_BODY) { kind }: TriggerCheckpointRequest): Promise<CheckpointSummary> {
    return this.system.checkpoint({ kind: kind ?? 'auto' });
  }

  @Get()
  list(): { checkpoints: CheckpointSummary[] } {
    return { checkpoints: this.system.list() };
  }

  @Get(':id')
  get(@Param('id') id: string): CheckpointSummary {
    return this.system.get(parseCheckpointId(id));
  }

  @Delete(':id')
  @HttpCode(200)
  remove(
    @Param('id') id: string,
    @Query() query: unknown,
    @RequestBody(NO_BODY) _body: unknown,
  ): Promise<RemoveResult> {
    const { force } = parseInput(deleteQuerySchema, query, QUERY_INPUT, 'known: force');
    return this.system.delete(parseCheckpointId(id), { force: parseForce(force) });
  }
}

const POSITIVE_ID = /^[1-9][0-9]*$/;

/** A checkpoint id in a path: a positive decimal integer, else INVALID_ARGUMENT. */
export function parseCheckpointId(text: string): number {
  const id = POSITIVE_ID.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(id)) {
    throw invalidArgument(`checkpoint id must be a positive integer, got ${quoteInput(text)}`, {
      id: echoInput(text),
    });
  }
  return id;
}

/** `?force=true` (or `1`); absent, `false` or `0` is not forced; anything else is INVALID_ARGUMENT. */
export function parseForce(value: unknown): boolean {
  if (value === undefined) return false;
  if (typeof value === 'string') {
    const normalized = value.trim().toLowerCase();
    if (normalized === 'true' || normalized === '1' || normalized === '') return true;
    if (normalized === 'false' || normalized === '0') return false;
  }
  throw invalidArgument(`force must be true or false, got ${quoteInput(value)}`, {
    force: typeof value === 'string' ? echoInput(value) : quoteInput(value),
  });
}
