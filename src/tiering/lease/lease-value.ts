import { TidemarkError } from '../../lib/errors';
import type { LeaseHolder } from './lease-provider';

/**
 * What the Redis lease key holds: `{token}:{holderId}`. One string, so a single compare of the value checks
 * holder and token together. The token is digits, so splitting at the first ':' is unambiguous even for a
 * holder id containing ':'.
 */
export function encodeLeaseValue(holder: LeaseHolder): string {
  return `${holder.token}:${holder.holderId}`;
}

export function decodeLeaseValue(key: string, value: string): LeaseHolder {
  const colon = value.indexOf(':');
  const token = Number(value.slice(0, colon));
  const holderId = value.slice(colon + 1);
  if (colon <= 0 || !/^\d+$/.test(value.slice(0, colon)) || !Number.isSafeInteger(token) || holderId === '') {
    throw new TidemarkError('INTERNAL', `lease key ${key} holds a value that is not {token}:{holderId}`, {
      details: { key, value },
    });
  }
  return { holderId, token };
}
