import { invalidArgument } from '../../lib/errors';
import type { LeaseGrant } from './lease-provider';

/**
 * The argument rules both adapters enforce, so a call refused by one is refused by the other.
 * Names become Redis keys (`lease:{name}` beside `lease:{name}:token`), so they are restricted to a safe
 * alphabet without ':' — otherwise the name `a:token` would collide with the token key of `a`.
 * A holder id is stored after the token (`{token}:{holderId}`) and read back by splitting at the first
 * ':', so it may contain ':' (`host:port`), but no control characters.
 */
const NAME = /^[A-Za-z0-9._-]{1,200}$/;
const MAX_HOLDER_LENGTH = 256;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

export function checkLeaseName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw invalidArgument(
      `lease name must be 1-200 characters of A-Z a-z 0-9 . _ - (got ${describe(name)})`,
      {
        name,
      },
    );
  }
}

export function checkHolderId(holderId: unknown): asserts holderId is string {
  if (
    typeof holderId !== 'string' ||
    holderId.length === 0 ||
    holderId.length > MAX_HOLDER_LENGTH ||
    CONTROL.test(holderId)
  ) {
    throw invalidArgument(
      `lease holder id must be 1-${MAX_HOLDER_LENGTH} characters without control characters (got ${describe(holderId)})`,
      { holderId },
    );
  }
}

export function checkTtl(ttlMs: unknown): asserts ttlMs is number {
  if (typeof ttlMs !== 'number' || !Number.isSafeInteger(ttlMs) || ttlMs <= 0) {
    throw invalidArgument(`lease ttl must be a positive integer of ms (got ${describe(ttlMs)})`, { ttlMs });
  }
}

export function checkMinToken(minToken: unknown): asserts minToken is number | undefined {
  if (minToken === undefined) return;
  if (typeof minToken !== 'number' || !Number.isSafeInteger(minToken) || minToken < 0) {
    throw invalidArgument(`minToken must be a non-negative safe integer (got ${describe(minToken)})`, {
      minToken,
    });
  }
}

export function checkGrant(grant: LeaseGrant): void {
  if (typeof grant !== 'object' || grant === null) throw invalidArgument('a lease grant is required');
  checkLeaseName(grant.name);
  checkHolderId(grant.holderId);
  if (!Number.isSafeInteger(grant.token) || grant.token <= 0) {
    throw invalidArgument(`lease token must be a positive safe integer (got ${describe(grant.token)})`, {
      token: grant.token,
    });
  }
}

function describe(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}
