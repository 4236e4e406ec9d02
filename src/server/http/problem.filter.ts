import {
  type ArgumentsHost,
  Catch,
  type ExceptionFilter,
  HttpException,
  Inject,
  NotFoundException,
} from '@nestjs/common';
import { HttpAdapterHost, ModulesContainer } from '@nestjs/core';
import { type IncomingMessage, STATUS_CODES } from 'node:http';
import { echoInput, type ErrorCode, type ErrorKind, quoteInput, TidemarkError } from '../../lib/errors';
import type { ModuleLoggers } from '../../node/create-logger';
import type { Logger } from '../../lib/logger';
import { RouteTable } from './route-table';
import { MODULE_LOGGERS } from '../tokens';

/** RFC 9457 problem details, plus Tidemark's stable error code. */
export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  code: ErrorCode;
  detail: string;
  details: Record<string, unknown>;
}

/** The one place error kinds become HTTP statuses. */
export const STATUS_BY_KIND: Readonly<Record<ErrorKind, number>> = {
  invalid: 400,
  not_found: 404,
  conflict: 409,
  fenced: 409,
  data: 422,
  unavailable: 503,
  closed: 503,
  internal: 500,
};

/**
 * Every error leaving the HTTP API becomes an `application/problem+json` body: TidemarkErrors by their kind,
 * Nest HttpExceptions and body-parser errors (malformed JSON, body too large) as INVALID_ARGUMENT (404 as
 * NOT_FOUND), anything else as a 500 INTERNAL that is logged but whose message and stack are not sent.
 * A request no route matched is 404 NOT_FOUND, or 405 INVALID_ARGUMENT with `Allow` when its path is known
 * but not with its method. Messages from Nest and body-parser repeat at most ECHO_LIMIT characters.
 */
@Catch()
export class ProblemFilter implements ExceptionFilter {
  private readonly log: Logger;
  private routeTable?: RouteTable;

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    @Inject(MODULE_LOGGERS) loggers: ModuleLoggers,
    @Inject(ModulesContainer) private readonly modules: ModulesContainer,
  ) {
    this.log = loggers.child('http');
  }

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<IncomingMessage>();
    // Nest answers a request no route matched with a NotFoundException; a route that does take the method
    // and throws one itself keeps its own 404.
    const allow = exception instanceof NotFoundException ? this.routes().allowedMethods(pathOf(request)) : [];
    const miss = exception instanceof NotFoundException && !allow.includes(request.method ?? '');
    const body = miss ? routeMiss(request, allow) : this.toProblem(exception);
    if (body.status >= 500) this.log.error({ err: exception, code: body.code }, 'request failed');
    const { httpAdapter } = this.adapterHost;
    const response: unknown = http.getResponse();
    httpAdapter.status(response, body.status);
    if (miss && allow.length > 0) httpAdapter.setHeader(response, 'Allow', allow.join(', '));
    httpAdapter.setHeader(response, 'Content-Type', 'application/problem+json; charset=utf-8');
    httpAdapter.end(response, JSON.stringify(body));
  }

  /** Built on first use: the controllers are all registered by the time a request comes. */
  private routes(): RouteTable {
    this.routeTable ??= RouteTable.fromModules(this.modules);
    return this.routeTable;
  }

  toProblem(exception: unknown): ProblemBody {
    if (exception instanceof TidemarkError) {
      return problem(exception.code, STATUS_BY_KIND[exception.kind], exception.message, exception.details);
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      return problem(codeForStatus(status), status, echoInput(httpExceptionDetail(exception)), {});
    }
    const clientError = asClientError(exception);
    if (clientError !== undefined) {
      return problem('INVALID_ARGUMENT', clientError.status, echoInput(clientError.message), {
        ...(clientError.type === undefined ? {} : { reason: clientError.type }),
      });
    }
    return problem('INTERNAL', 500, 'internal error', {});
  }
}

/** 405 with the methods the path takes, or 404 when no route has the path. */
function routeMiss(request: IncomingMessage, allow: readonly string[]): ProblemBody {
  const method = request.method ?? 'GET';
  const path = quoteInput(pathOf(request));
  if (allow.length === 0) return problem('NOT_FOUND', 404, `no route for ${method} ${path}`, {});
  const detail = `${method} is not allowed on ${path}; allowed: ${allow.join(', ')}`;
  return problem('INVALID_ARGUMENT', 405, detail, { method, allow });
}

/** The path of the request URL, without the query string. */
function pathOf(request: IncomingMessage): string {
  const url = request.url ?? '/';
  const query = url.indexOf('?');
  return query < 0 ? url : url.slice(0, query);
}

/** A problem body of the code, with its title; also for answers written outside Nest (client-errors.ts). */
export function problem(
  code: ErrorCode,
  status: number,
  detail: string,
  details: Record<string, unknown>,
): ProblemBody {
  return { type: `urn:tidemark:error:${code}`, title: titleOf(code), status, code, detail, details };
}

/** `INVALID_ARGUMENT` → `Invalid argument`. */
function titleOf(code: ErrorCode): string {
  const words = code.toLowerCase().replace(/_/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function codeForStatus(status: number): ErrorCode {
  if (status === 404) return 'NOT_FOUND';
  if (status >= 500) return status === 503 ? 'STORAGE_UNAVAILABLE' : 'INTERNAL';
  return 'INVALID_ARGUMENT';
}

function httpExceptionDetail(exception: HttpException): string {
  const response = exception.getResponse();
  if (typeof response === 'string') return response;
  const message: unknown = (response as { message?: unknown }).message;
  if (Array.isArray(message)) return message.map(String).join('; ');
  if (typeof message === 'string') return message;
  return STATUS_CODES[exception.getStatus()] ?? exception.message;
}

/** body-parser (http-errors) marks errors safe to show with `expose` and a 4xx `status`. */
function asClientError(exception: unknown): { status: number; message: string; type?: string } | undefined {
  if (!(exception instanceof Error)) return undefined;
  const { status, expose, type } = exception as Error & {
    status?: unknown;
    expose?: unknown;
    type?: unknown;
  };
  if (typeof status !== 'number' || status < 400 || status > 499 || expose !== true) return undefined;
  return { status, message: exception.message, type: typeof type === 'string' ? type : undefined };
}
