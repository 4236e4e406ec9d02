import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger as PinoLogger } from 'pino';
import type { Options } from 'pino-http';

/**
 * Request logging through the `http` module logger (so `LOG_LEVELS=http=warn` quiets it): one line per
 * request, warn for 4xx, error for 5xx; health probes are not logged.
 */
export function httpLoggingOptions(logger: PinoLogger): Options {
  return {
    logger,
    autoLogging: { ignore: (req: IncomingMessage) => req.url === '/health' },
    customLogLevel: (_req: IncomingMessage, res: ServerResponse, error?: Error) => {
      if (error !== undefined || res.statusCode >= 500) return 'error';
      return res.statusCode >= 400 ? 'warn' : 'info';
    },
    serializers: {
      req: (req: { method?: string; url?: string }) => ({ method: req.method, url: req.url }),
      res: (res: { statusCode?: number }) => ({ statusCode: res.statusCode }),
    },
  };
}
