import fc from 'fast-check';
import * as path from 'node:path';

/**
 * The pieces arbitrary command lines are made of (cli-surface.arbitraries.ts puts them together), each
 * saying what it makes of the run:
 * - ok: valid against the fixture;
 * - fail: valid, but the work fails (a corrupt segment or block, an unknown checkpoint or component): exit 1;
 * - usage: a bad option, value, path or configuration: exit 2, before any work;
 * - late-usage: a usage error only the work can see (a target beyond the log): exit 2;
 * - any: the outcome is not pinned (a data directory that is a file, --help, a target the store alone may
 *   not reach…), only the rules every run keeps.
 */
export type Expect = 'ok' | 'fail' | 'usage' | 'late-usage' | 'any';

export interface Piece {
  args: string[];
  expect: Expect;
}

export const piece = (expect: Expect, ...args: string[]): Piece => ({ args, expect });

/**
 * What a run of these pieces must end with: usage wins, then anything unpinned, then a failure. A late usage
 * error (one only the work can see: a target beyond the log) and a failure (an unknown component) may come
 * in either order.
 */
export function expectOf(all: readonly Piece[]): Expect {
  const has = (e: Expect) => all.some((p) => p.expect === e);
  if (has('usage')) return 'usage';
  if (has('any') || (has('late-usage') && has('fail'))) return 'any';
  if (has('late-usage')) return 'usage';
  return has('fail') ? 'fail' : 'ok';
}

// ---- text a caller may type ----

/** A NUL cannot be in a command line. */
const typed = (s: string) => s.replace(/\0/g, '');

/** Long input: a short piece repeated to 300-3,000 characters, now and then 10,000-20,000. */
const longOf = (unit: fc.Arbitrary<string>) =>
  fc
    .tuple(
      unit,
      fc.oneof(
        { weight: 9, arbitrary: fc.integer({ min: 300, max: 3_000 }) },
        { weight: 1, arbitrary: fc.integer({ min: 10_000, max: 20_000 }) },
      ),
    )
    .map(([p, length]) => typed(p.repeat(Math.ceil(length / Math.max(p.length, 1))).slice(0, length)))
    .filter((s) => s.length > 0);

export const longText = fc.oneof(
  longOf(fc.string({ minLength: 1, maxLength: 6 })),
  longOf(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 3 })),
);

/** Short odd text: empty, blank, unicode, control characters, numbers, paths out of the working directory. */
export const oddText = fc.oneof(
  fc.constantFrom(
    '',
    ' ',
    '-1',
    '0',
    '..',
    '../..',
    '/',
    '~',
    'été',
    '💥',
    'null',
    '__proto__',
    'a\nb',
    '\t',
  ),
  fc.string({ maxLength: 12 }).map(typed),
  fc.string({ unit: 'grapheme', maxLength: 12 }).map(typed),
  fc.string({ unit: 'binary', maxLength: 6 }).map(typed),
);

export const anyText = fc.oneof({ weight: 4, arbitrary: oddText }, { weight: 1, arbitrary: longText });

/** A path under `dir` with a 300-5,000 character name: longer than a file name may be. */
export const longPathUnder = (dir: string) =>
  fc.integer({ min: 300, max: 5_000 }).map((n) => path.join(dir, 'a'.repeat(n)));

/** Mostly `valid`: the other pieces of a command line then decide the outcome, and reach the work. */
export const mostly = <T>(valid: fc.Arbitrary<T>, ...invalid: fc.Arbitrary<T>[]) =>
  fc.oneof(
    { weight: 6 * invalid.length, arbitrary: valid },
    ...invalid.map((arbitrary) => ({ weight: 1, arbitrary })),
  );

export const count = mostly(
  fc.oneof(
    fc.integer({ min: 1, max: 8 }).map((n) => piece('ok', String(n))),
    fc.constantFrom('256', '007').map((n) => piece('ok', n)),
  ),
  fc
    .constantFrom(
      '0',
      '-1',
      '257',
      '1e2',
      '0x10',
      '+3',
      ' 3',
      '3.0',
      '',
      'NaN',
      'Infinity',
      '٣',
      '9'.repeat(30),
    )
    .map((v) => piece('usage', v)),
  anyText.filter((v) => !/^\d+$/.test(v)).map((v) => piece('usage', v)),
);

export const level = mostly(
  fc.constantFrom('basic', 'standard', 'full').map((v) => piece('ok', '--level', v)),
  fc
    .oneof(fc.constantFrom('paranoid', 'FULL', ' full', ''), anyText)
    .filter((v) => !['basic', 'standard', 'full'].includes(v))
    .map((v) => piece('usage', '--level', v)),
);

export const numberOption = (name: string) => count.map((p) => piece(p.expect, name, ...p.args));

// ---- what fits no command ----

export const KNOWN_WORDS = ['serve', 'wal', 'catalog', 'verify', 'recover', 'help', 'inspect', 'rebuild'];
export const ROOT_OPTIONS = ['--help', '-h', '--version', '-V', '--debug'];

/** An option no command has, or one a letter away from one it has. */
export const unknownOption = fc.oneof(
  // Not `--`: it ends the options, and what follows is read as arguments.
  fc.constantFrom('--pth', '--Level', '--dryrun', '--json=1', '--dry-run=yes', '-x', '---', '--frobnicate'),
  anyText.map((v) => `--${v}`).filter((v) => !v.includes('=') && v !== '--'),
  longText.map((v) => `--${v}`),
);

/** An unknown option or an extra argument: each a usage error. */
export const noise = fc.oneof(
  unknownOption.map((v) => piece('usage', v)),
  anyText.filter((v) => !v.startsWith('-')).map((v) => piece('usage', v)),
);

/** An option of the command given without its value (kept last: it would take the next piece as one). */
export const missingValue = (valueOptions: readonly string[]) =>
  fc.constantFrom(...valueOptions).map((name) => piece('usage', name));

/** Help and version asked for among other options: whatever commander makes of it. */
export const helpOrVersion = fc.constantFrom('--help', '-h', '--version', '-V').map((v) => piece('any', v));

// ---- putting pieces together ----

export const flag = (name: string) => fc.constant(piece('ok', name));
/** `arb` one time in `n`, else undefined. */
export const sometimes = <T>(arb: fc.Arbitrary<T>, n: number) =>
  fc.oneof({ weight: n - 1, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: arb });
export const optional = (arb: fc.Arbitrary<Piece>) => sometimes(arb, 2);
export const present = (list: (Piece | undefined)[]) => list.filter((p): p is Piece => p !== undefined);
