import { BadRequestException, NotFoundException, PayloadTooLargeException } from '@nestjs/common';
import { type HttpAdapterHost, ModulesContainer } from '@nestjs/core';
import { ProblemFilter, STATUS_BY_KIND } from '../../../src/server/http/problem.filter';
import { loadConfig } from '../../../src/config';
import { ECHO_LIMIT, ErrorCodes, type ErrorCode, TidemarkError } from '../../../src/lib/errors';
import { createLogger } from '../../../src/node/create-logger';

const filter = new ProblemFilter(
  {} as HttpAdapterHost,
  createLogger(loadConfig({ env: { LOG_LEVEL: 'silent' } })),
  new ModulesContainer(),
);

describe('ProblemFilter', () => {
  it.each(Object.keys(ErrorCodes) as ErrorCode[])('maps %s by its kind', (code) => {
    const error = new TidemarkError(code, `${code} happened`, { details: { file: 'x' } });
    expect(filter.toProblem(error)).toEqual({
      type: `urn:tidemark:error:${code}`,
      title: expect.any(String),
      status: STATUS_BY_KIND[ErrorCodes[code]],
      code,
      detail: `${code} happened`,
      details: { file: 'x' },
    });
  });

  it('uses the agreed statuses', () => {
    expect(STATUS_BY_KIND).toEqual({
      invalid: 400,
      not_found: 404,
      conflict: 409,
      fenced: 409,
      data: 422,
      unavailable: 503,
      closed: 503,
      internal: 500,
    });
    expect(filter.toProblem(new TidemarkError('INVALID_ARGUMENT', 'x')).title).toBe('Invalid argument');
  });

  it('turns Nest HttpExceptions into INVALID_ARGUMENT (404 into NOT_FOUND)', () => {
    expect(filter.toProblem(new BadRequestException('bad'))).toMatchObject({
      status: 400,
      code: 'INVALID_ARGUMENT',
      detail: 'bad',
    });
    expect(filter.toProblem(new PayloadTooLargeException())).toMatchObject({
      status: 413,
      code: 'INVALID_ARGUMENT',
    });
    expect(filter.toProblem(new NotFoundException('Cannot GET /x'))).toMatchObject({
      status: 404,
      code: 'NOT_FOUND',
    });
  });

  it('repeats at most ECHO_LIMIT characters of a Nest or body-parser message', () => {
    const long = 'y'.repeat(5000);
    for (const error of [
      new BadRequestException(long),
      Object.assign(new Error(long), { status: 400, expose: true, type: 'entity.parse.failed' }),
    ]) {
      const { detail } = filter.toProblem(error);
      expect(detail).toBe(`${'y'.repeat(ECHO_LIMIT)}… (5000 characters)`);
    }
  });

  it('turns body-parser errors into INVALID_ARGUMENT with their status', () => {
    const error = Object.assign(new Error('request entity too large'), {
      status: 413,
      expose: true,
      type: 'entity.too.large',
    });
    expect(filter.toProblem(error)).toMatchObject({
      status: 413,
      code: 'INVALID_ARGUMENT',
      detail: 'request entity too large',
      details: { reason: 'entity.too.large' },
    });
  });

  it('hides the message and stack of an unknown error', () => {
    const problem = filter.toProblem(new Error('password=hunter2 at /secret/path'));
    expect(problem).toEqual({
      type: 'urn:tidemark:error:INTERNAL',
      title: 'Internal',
      status: 500,
      code: 'INTERNAL',
      detail: 'internal error',
      details: {},
    });
    expect(JSON.stringify(problem)).not.toContain('hunter2');
  });
});
