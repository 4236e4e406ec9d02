/**
 * One error hierarchy for the whole code base, after the reference's `StateError`.
 * Every error carries a stable `code` (part of the API: REST problem bodies and CLI output show it)
 * and a coarse `kind` that edges map once: HTTP status at the REST edge, retry-or-fail at the job edge.
 */
export const ErrorCodes = {
  CHECKSUM_MISMATCH: 'data',
  CHECKPOINT_NOT_FOUND: 'not_found',
  SERIALIZATION_ERROR: 'internal',
  DESERIALIZATION_ERROR: 'data',
  INVALID_STATE_DATA: 'data',
  INVALID_ARGUMENT: 'invalid',
  NOT_FOUND: 'not_found',
  /** A component asked for by name has no state at the target (no checkpoint names it, no entry writes it). */
  COMPONENT_NOT_FOUND: 'not_found',
  /** A conditional write lost: e.g. create-if-absent on a key that exists. */
  PRECONDITION_FAILED: 'conflict',
  UNSUPPORTED_VERSION: 'data',
  LOCKED: 'conflict',
  /** The address the service is to listen on is taken by another process. */
  ADDRESS_IN_USE: 'conflict',
  CLOSED: 'closed',
  IO_ERROR: 'unavailable',
  DISK_FULL: 'unavailable',
  STORAGE_UNAVAILABLE: 'unavailable',
  NOT_LEADER: 'conflict',
  /** Redis (leases, job queues) could not be reached: retryable. */
  COORDINATION_UNAVAILABLE: 'unavailable',
  FENCED: 'fenced',
  /** A checkpoint cannot be removed while retained checkpoints build on it (unless forced). */
  DEPENDENT_CHECKPOINTS: 'conflict',
  CONFIG_INVALID: 'invalid',
  /** An operation ran past its time limit (recovery's recoveryTimeout) and was aborted cleanly. */
  TIMEOUT: 'unavailable',
  INTERNAL: 'internal',
} as const;

export type ErrorCode = keyof typeof ErrorCodes;
export type ErrorKind = (typeof ErrorCodes)[ErrorCode];

export interface ErrorOptions {
  cause?: unknown;
  /** Structured facts about the failure (file, offset, key …), shown in problem bodies. */
  details?: Record<string, unknown>;
}

export class TidemarkError extends Error {
  readonly code: ErrorCode;
  readonly kind: ErrorKind;
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options: ErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TidemarkError';
    this.code = code;
    this.kind = ErrorCodes[code];
    this.details = options.details ?? {};
  }

  static is(error: unknown, code?: ErrorCode): error is TidemarkError {
    return error instanceof TidemarkError && (code === undefined || error.code === code);
  }
}

export function invalidArgument(message: string, details?: Record<string, unknown>): TidemarkError {
  return new TidemarkError('INVALID_ARGUMENT', message, { details });
}

export function checksumMismatch(message: string, details: Record<string, unknown>): TidemarkError {
  return new TidemarkError('CHECKSUM_MISMATCH', message, { details });
}

/**
 * The most characters of a caller's input an error repeats: enough to recognise it, while a 10 KB id is not
 * sent back (twice) in full.
 */
export const ECHO_LIMIT = 128;

/** Caller input for a `details` field: as is up to ECHO_LIMIT characters, else cut with its length noted. */
export function echoInput(value: string): string {
  if (value.length <= ECHO_LIMIT) return value;
  return `${value.slice(0, ECHO_LIMIT)}… (${value.length} characters)`;
}

/** Caller input quoted for an error message (JSON, so control characters show), cut as `echoInput` cuts. */
export function quoteInput(value: unknown): string {
  if (typeof value === 'string') {
    if (value.length <= ECHO_LIMIT) return JSON.stringify(value);
    return `${JSON.stringify(`${value.slice(0, ECHO_LIMIT)}…`)} (${value.length} characters)`;
  }
  const json = JSON.stringify(value) ?? String(value);
  return json.length <= ECHO_LIMIT ? json : `${json.slice(0, ECHO_LIMIT)}… (${json.length} characters)`;
}
