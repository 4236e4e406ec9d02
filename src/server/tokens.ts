/** Injection tokens of the app layer. Values: `TidemarkConfig` and `ModuleLoggers`. */
export const TIDEMARK_CONFIG = Symbol('TIDEMARK_CONFIG');
export const MODULE_LOGGERS = Symbol('MODULE_LOGGERS');
