/**
 * Records keyed by user input (component ids, file names) must not inherit from Object.prototype: with a
 * plain `{}`, `record['constructor']` is a function and `record['__proto__'] = x` sets the prototype
 * instead of adding a key. A prototype-less record has only the keys put in it.
 */
export function nullPrototypeRecord<T>(entries?: Iterable<readonly [string, T]>): Record<string, T> {
  const record = Object.create(null) as Record<string, T>;
  if (entries) for (const [key, value] of entries) record[key] = value;
  return record;
}

/** `record[key]` when `key` is the record's own key; undefined otherwise, whatever its prototype holds. */
export function ownValue<T>(record: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.prototype.hasOwnProperty.call(record, key) ? record[key] : undefined;
}
