import type { LoggerService } from '@nestjs/common';
import type { Logger as PinoLogger } from 'pino';

/**
 * Nest's own log lines while the application is built, as JSON lines of the `http` module logger (Nest's
 * default logger prints coloured text). The ExceptionHandler's line is dropped: a start-up failure is
 * reported once, as one line, by whoever started the service (the CLI: cli/describe-failure.ts).
 */
export function nestLogBridge(logger: PinoLogger): LoggerService {
  const line =
    (level: 'debug' | 'info' | 'warn' | 'error') =>
    (message: unknown, ...rest: unknown[]) => {
      const context = rest.at(-1);
      if (context === 'ExceptionHandler') return;
      logger[level]({ context: typeof context === 'string' ? context : undefined }, String(message));
    };
  return {
    log: line('info'),
    error: line('error'),
    warn: line('warn'),
    debug: line('debug'),
    verbose: line('debug'),
    fatal: line('error'),
  };
}
