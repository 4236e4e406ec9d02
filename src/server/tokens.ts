/**
 * The service's injection tokens, in one place. Values: the loaded `TidemarkConfig`, the `ModuleLoggers`,
 * the node's `JobQueue` and `ObjectStore` (ports, so they have no class to inject by; the node's other parts
 * are injected by their classes — see node.module.ts).
 */
export const TIDEMARK_CONFIG = Symbol('TIDEMARK_CONFIG');
export const MODULE_LOGGERS = Symbol('MODULE_LOGGERS');
export const JOB_QUEUE = Symbol('JOB_QUEUE');
export const OBJECT_STORE = Symbol('OBJECT_STORE');
