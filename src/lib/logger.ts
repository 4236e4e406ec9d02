/**
 * The logging port the cores use: the subset of pino's API they call. The service passes pino child
 * loggers (one per module, so `LOG_LEVELS=wal=debug` works); library users may pass their own or none.
 */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};
