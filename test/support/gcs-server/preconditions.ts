import { badRequest, conditionNotMet, notModified } from './http-errors';
import type { StoredObject } from './stored-object';

/** The generation preconditions of the JSON API, from the query string. */
export interface Preconditions {
  ifGenerationMatch?: number;
  ifGenerationNotMatch?: number;
  ifMetagenerationMatch?: number;
  ifMetagenerationNotMatch?: number;
}

const NAMES = [
  'ifGenerationMatch',
  'ifGenerationNotMatch',
  'ifMetagenerationMatch',
  'ifMetagenerationNotMatch',
] as const;

export function preconditionsOf(query: URLSearchParams): Preconditions {
  const conditions: Preconditions = {};
  for (const name of NAMES) {
    const text = query.get(name);
    if (text === null) continue;
    if (!/^\d+$/.test(text)) throw badRequest(`Invalid value for ${name}: ${text}`);
    conditions[name] = Number(text);
  }
  return conditions;
}

/**
 * For writes: `ifGenerationMatch=0` means "only if no live object", `n` means "only if the live generation is
 * n"; the metageneration conditions need a live object. A failure is 412 conditionNotMet.
 */
export function checkWrite(conditions: Preconditions, current: StoredObject | undefined): void {
  const { ifGenerationMatch, ifGenerationNotMatch, ifMetagenerationMatch, ifMetagenerationNotMatch } =
    conditions;
  const generation = current?.generation ?? 0;
  if (ifGenerationMatch !== undefined && ifGenerationMatch !== generation) throw conditionNotMet();
  if (ifGenerationNotMatch !== undefined && (current === undefined || ifGenerationNotMatch === generation)) {
    throw conditionNotMet();
  }
  if (ifMetagenerationMatch !== undefined && current?.metageneration !== ifMetagenerationMatch) {
    throw conditionNotMet();
  }
  if (
    ifMetagenerationNotMatch !== undefined &&
    (current === undefined || current.metageneration === ifMetagenerationNotMatch)
  ) {
    throw conditionNotMet();
  }
}

/** For reads of a live object: a failed "not match" is 304 Not Modified, a failed "match" is 412. */
export function checkRead(conditions: Preconditions, current: StoredObject): void {
  const { ifGenerationNotMatch, ifMetagenerationNotMatch } = conditions;
  if (ifGenerationNotMatch === current.generation || ifMetagenerationNotMatch === current.metageneration) {
    throw notModified();
  }
  checkWrite(
    { ...conditions, ifGenerationNotMatch: undefined, ifMetagenerationNotMatch: undefined },
    current,
  );
}
