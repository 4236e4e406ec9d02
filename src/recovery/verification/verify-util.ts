import { TidemarkError } from '../../lib/errors';
import type { VerifyFault } from './verify-report';

/**
 * The fault an error describes. Verification collects data faults and goes on; the store being
 * unreachable (an `unavailable` error: STORAGE_UNAVAILABLE, IO_ERROR, TIMEOUT …) is rethrown, since
 * nothing read after it could be trusted to mean anything. An INVALID_ARGUMENT raised while checking
 * data (unsorted keys fed to a digest, a merge refusing a delta) is the data's fault: INVALID_STATE_DATA.
 * Anything that is not a TidemarkError is a bug, reported as INTERNAL rather than ending the run.
 */
export function faultOf(error: unknown, key?: string, context?: string): VerifyFault {
  if (TidemarkError.is(error) && error.kind === 'unavailable') throw error;
  const code = TidemarkError.is(error)
    ? error.code === 'INVALID_ARGUMENT'
      ? 'INVALID_STATE_DATA'
      : error.code
    : 'INTERNAL';
  const text = error instanceof Error ? error.message : String(error);
  return {
    code,
    message: context === undefined ? text : `${context}: ${text}`,
    ...(key === undefined ? {} : { key }),
  };
}

/** Adds `fault` unless an equal one (code, key, message) is there already. */
export function addFault(faults: VerifyFault[], fault: VerifyFault): void {
  if (!faults.some((f) => f.code === fault.code && f.key === fault.key && f.message === fault.message)) {
    faults.push(fault);
  }
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

/** 1536 → "1.5 KiB". */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${UNITS[unit]}`;
}
