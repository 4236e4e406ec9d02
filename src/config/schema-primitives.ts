import { z } from 'zod';

/** The building blocks of the configuration schemas: one wording of each error message. */

export const POSITIVE_INT = 'expected a positive integer';
export const NON_NEGATIVE_INT = 'expected a non-negative integer';
export const BOOLEAN = 'expected a boolean (true or false)';

export const positiveInt = (fallback: number) =>
  z
    .number({ invalid_type_error: POSITIVE_INT, required_error: POSITIVE_INT })
    .int(POSITIVE_INT)
    .positive(POSITIVE_INT)
    .max(Number.MAX_SAFE_INTEGER, POSITIVE_INT)
    .default(fallback);

export const nonNegativeInt = (fallback: number) =>
  z
    .number({ invalid_type_error: NON_NEGATIVE_INT, required_error: NON_NEGATIVE_INT })
    .int(NON_NEGATIVE_INT)
    .nonnegative(NON_NEGATIVE_INT)
    .max(Number.MAX_SAFE_INTEGER, NON_NEGATIVE_INT)
    .default(fallback);

export const bool = (fallback: boolean) =>
  z.boolean({ invalid_type_error: BOOLEAN, required_error: BOOLEAN }).default(fallback);

export const nonEmptyString = (what: string) =>
  z
    .string({ invalid_type_error: `expected ${what}` })
    .trim()
    .min(1, `expected ${what}`);

export const oneOf = <T extends string>(values: readonly [T, ...T[]]) =>
  z.enum(values, { errorMap: () => ({ message: `expected one of ${values.join(', ')}` }) });
