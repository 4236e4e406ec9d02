import { createParamDecorator, type ExecutionContext, UnsupportedMediaTypeException } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import { z } from 'zod';
import { invalidArgument, quoteInput } from '../../lib/errors';
import { BODY_INPUT, parseInput } from '../../lib/input-issues';
import { BINARY_MEDIA_TYPE, carriesBody, JSON_MEDIA_TYPE, mediaTypeOf } from './media-type';

/**
 * How a route reads its body. Only the media types named here are accepted (anything else is 415, never a
 * body silently read as absent); without `absent`, a body is required (400 without one).
 */
export interface BodyReaders<T> {
  /** A JSON body, as parsed: checks its shape (unknown fields included) and returns what the route needs. */
  json?: (value: unknown) => T;
  /** An `application/octet-stream` body. */
  binary?: (bytes: Buffer) => T;
  /** What an absent or empty body means, where the body is optional. */
  absent?: () => T;
}

/** The route's body read by `readers`: `@RequestBody(READERS) body: T`. */
export const RequestBody = createParamDecorator((readers: BodyReaders<unknown>, context: ExecutionContext) =>
  readBody(context.switchToHttp().getRequest<ParsedRequest>(), readers),
);

/** For routes that take no body: absent, empty or `{}`. */
export const NO_BODY: BodyReaders<Record<string, never>> = {
  json: (value) => parseInput(z.object({}).strict(), value, BODY_INPUT, 'this route takes no body'),
  absent: () => ({}),
};

/** A request once the body parsers ran: `body` holds parsed JSON or a Buffer. */
type ParsedRequest = IncomingMessage & { body?: unknown };

export function readBody<T>(req: ParsedRequest, readers: BodyReaders<T>): T {
  const accepted = [readers.json && JSON_MEDIA_TYPE, readers.binary && BINARY_MEDIA_TYPE].filter(
    (type): type is string => typeof type === 'string',
  );
  if (!carriesBody(req)) {
    if (readers.absent) return readers.absent();
    throw invalidArgument(`expected a request body (${accepted.join(' or ')})`);
  }
  const type = mediaTypeOf(req);
  if (type === JSON_MEDIA_TYPE && readers.json) return readers.json(req.body);
  if (type === BINARY_MEDIA_TYPE && readers.binary) return readers.binary(req.body as Buffer);
  const given = type === '' ? 'a body without a Content-Type' : `Content-Type ${quoteInput(type)}`;
  throw new UnsupportedMediaTypeException(
    `${given} is not accepted here; send ${accepted.join(' or ')}${readers.absent ? ', or no body' : ''}`,
  );
}
