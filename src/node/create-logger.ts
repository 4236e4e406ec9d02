import pino, { type DestinationStream, type Logger as PinoLogger } from 'pino';
import type { LogConfig } from '../config/config.schema';

/**
 * The root pino logger and one child per module. A child carries `{ module }` in every line and has its own
 * level: `log.modules[module]` when set (LOG_LEVELS="wal=debug,http=warn"), else `log.level` (LOG_LEVEL).
 * Children satisfy the `Logger` port, so cores get `loggers.child('wal')`.
 */
export interface ModuleLoggers {
  readonly root: PinoLogger;
  child(module: string): PinoLogger;
}

export function createLogger(config: { log: LogConfig }, destination?: DestinationStream): ModuleLoggers {
  const { level, modules } = config.log;
  const options = { name: 'tidemark', level, timestamp: pino.stdTimeFunctions.isoTime };
  const root = destination === undefined ? pino(options) : pino(options, destination);
  const children = new Map<string, PinoLogger>();
  return {
    root,
    child(module: string): PinoLogger {
      let child = children.get(module);
      if (child === undefined) {
        child = root.child({ module }, { level: modules[module] ?? level });
        children.set(module, child);
      }
      return child;
    },
  };
}
