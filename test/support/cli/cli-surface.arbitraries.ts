import fc from 'fast-check';
import * as path from 'node:path';
import type { CliFixture } from './cli-surface.fixture';
import {
  anyText,
  expectOf,
  flag,
  helpOrVersion,
  KNOWN_WORDS,
  level,
  longPathUnder,
  longText,
  missingValue,
  mostly,
  noise,
  numberOption,
  optional,
  piece,
  present,
  ROOT_OPTIONS,
  sometimes,
  type Expect,
  type Piece,
} from './cli-surface.pieces';

/**
 * Arbitrary command lines for `tidemark` against the fixture (cli-surface.fixture.ts), made of pieces that
 * each say what they make of the run (cli-surface.pieces.ts). `{S}` stands for the run's scratch directory
 * (the working directory is `{S}/cwd`); the harness makes `{S}/cwd`, `{S}/empty` (empty), `{S}/good.yaml` (a
 * valid configuration naming the data directory) and, for `catalog rebuild`, `{S}/data` (a copy of the
 * fixture's data directory, which the rebuild may rewrite).
 */

export interface CliCase {
  args: string[];
  env: Record<string, string>;
  expect: Expect;
  /** `--debug` is among the args: a stack trace may follow the error line. */
  debug: boolean;
  /** The data directory `{S}/good.yaml` names. */
  goodDataDir: string;
}

interface Built {
  command: string[];
  pieces: Piece[];
  valueOptions: string[];
  env: Record<string, string>;
  envExpect: Expect;
  goodDataDir: string;
}

function walInspect(f: CliFixture): fc.Arbitrary<Built> {
  const target = mostly(
    fc.constantFrom(
      piece('ok', path.join(f.dataDir, 'wal')),
      piece('ok', f.walDir),
      piece('ok', f.sealedSegment),
      piece('ok', '../../../wal'), // from {S}/cwd, {S} being {root}/runs/N
      piece('ok', path.join(f.dataDir, 'wal', '..', '..', 'wal')),
      piece('ok', f.unicodeWalDir),
      piece('ok', f.walLink),
      piece('fail', f.corruptSegment),
      piece('any', f.tornSegment),
      piece('any', f.emptySegment),
      piece('any', f.emptySegmentDir),
      piece('fail', f.file),
      piece('fail', path.join(f.dataDir, 'catalog.json')),
    ),
    fc.constantFrom(
      piece('usage', f.emptyDir),
      piece('usage', f.notesDir),
      piece('usage', f.dataDir),
      piece('usage', path.join(f.root, 'nope')),
      piece('usage', path.join(f.file, 'x')),
      piece('usage', f.loop),
      piece('usage', path.join(f.loop, 'x')),
      piece('usage'), // no path at all
    ),
    anyText.filter((v) => !v.startsWith('-')).map((v) => piece('usage', v)),
    longPathUnder(f.root).map((v) => piece('usage', v)),
  );
  return target.map((p) => ({
    command: ['wal', 'inspect'],
    pieces: [p],
    valueOptions: [],
    env: {},
    envExpect: 'ok',
    goodDataDir: f.dataDir,
  }));
}

/** A --config file: a valid one, broken ones, and paths that are none. */
function configFile(f: CliFixture): fc.Arbitrary<Piece> {
  return fc.oneof(
    { weight: 8, arbitrary: fc.constant(piece('ok', '--config', '{S}/good.yaml')) },
    {
      weight: 3,
      arbitrary: fc.constantFrom(
        piece('usage', '--config', f.configs.badYaml),
        piece('usage', '--config', f.configs.unknownKey),
        piece('usage', '--config', f.configs.notAMapping),
        piece('usage', '--config', f.notesDir),
        piece('usage', '--config', path.join(f.root, 'nope.yaml')),
        piece('usage', '-c', f.configs.badYaml),
        piece('any', '--config', f.configs.memoryStore),
      ),
    },
    { weight: 2, arbitrary: anyText.map((v) => piece('usage', '--config', v)) },
    { weight: 1, arbitrary: longPathUnder(f.root).map((v) => piece('usage', '--config', v)) },
  );
}

/**
 * DATA_DIR: the node's data directory (or the run's copy), or one that is not there or not a directory, or
 * (for the commands that only read it) one whose WAL a crash left torn or whose catalog.json is garbled.
 */
function dataDirEnv(
  good: string,
  f: CliFixture,
): fc.Arbitrary<{ env: Record<string, string>; expect: Expect }> {
  const odd = ['{S}/nope', '{S}/empty', f.file, path.join(f.file, 'x'), f.loop];
  if (good === f.dataDir) odd.push(f.tornDataDir, f.garbledCatalogDataDir);
  return fc.oneof(
    { weight: 6, arbitrary: fc.constant({ env: { DATA_DIR: good }, expect: 'ok' as Expect }) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(...odd).map((dir) => ({ env: { DATA_DIR: dir }, expect: 'any' as Expect })),
    },
  );
}

/** DATA_DIR as dataDirEnv has it, now and then with a configuration error in the environment. */
function configuredEnv(
  good: string,
  f: CliFixture,
): fc.Arbitrary<{ env: Record<string, string>; expect: Expect }> {
  const broken = fc.constantFrom<{ env: Record<string, string>; expect: Expect }>(
    // Unless --config names another file.
    { env: { TIDEMARK_CONFIG: f.configs.badYaml }, expect: 'any' },
    { env: { TIDEMARK_CONFIG: path.join(f.root, 'nope.yaml') }, expect: 'any' },
    { env: { TIDEMARK_WAL_SEGMENT_SIZE: 'abc' }, expect: 'usage' },
    { env: { TIDEMARK_RECOVERY_OPTIMISTIC: 'maybe' }, expect: 'usage' },
  );
  return fc.oneof(
    { weight: 8, arbitrary: dataDirEnv(good, f) },
    { weight: 1, arbitrary: broken.map(({ env, expect }) => ({ env: { DATA_DIR: good, ...env }, expect })) },
  );
}

function catalogRebuild(f: CliFixture): fc.Arbitrary<Built> {
  return fc
    .record({
      env: configuredEnv('{S}/data', f),
      config: optional(configFile(f)),
      dryRun: optional(flag('--dry-run')),
    })
    .map(({ env, config, dryRun }) => ({
      command: ['catalog', 'rebuild'],
      pieces: present([config, dryRun]),
      valueOptions: ['--config'],
      env: env.env,
      envExpect: env.expect,
      goodDataDir: '{S}/data',
    }));
}

function verify(f: CliFixture): fc.Arbitrary<Built> {
  const storePath = mostly(
    fc.constantFrom(
      piece('ok', '--path', path.join(f.dataDir, 'store')),
      piece('ok', '--path', f.unicodeStore),
      piece('ok', '--path', f.storeLink),
      piece('fail', '--path', f.corruptStore),
    ),
    fc.constantFrom(
      piece('usage', '--path', f.dataDir),
      piece('usage', '--path', f.emptyDir),
      piece('usage', '--path', f.notesDir),
      piece('usage', '--path', f.file),
      piece('usage', '--path', f.loop),
      piece('usage', '--path', path.join(f.root, 'nope')),
    ),
    anyText.map((v) => piece('usage', '--path', v)),
    longPathUnder(f.root).map((v) => piece('usage', '--path', v)),
  );
  const source = fc.oneof(
    { weight: 3, arbitrary: fc.constant([] as Piece[]) },
    { weight: 3, arbitrary: storePath.map((p) => [p]) },
    { weight: 2, arbitrary: configFile(f).map((p) => [p]) },
    // They exclude each other.
    { weight: 1, arbitrary: fc.tuple(storePath, configFile(f)).map(([p, c]) => [p, c, piece('usage')]) },
  );
  return fc
    .record({
      env: dataDirEnv(f.dataDir, f),
      source,
      level: optional(level),
      threads: optional(numberOption('--threads')),
      concurrency: optional(numberOption('--concurrency')),
      prefix: optional(
        mostly(
          fc.constant(piece('ok', '--prefix', 'tidemark')),
          anyText.filter((v) => v !== 'tidemark').map((v) => piece('usage', '--prefix', v)),
        ),
      ),
      node: optional(
        mostly(
          fc.constant(piece('ok', '--node', 'node-1')),
          anyText.map((v) => piece('any', '--node', v)),
        ),
      ),
      json: optional(flag('--json')),
    })
    .map(({ env, source, ...rest }) => ({
      command: ['verify'],
      pieces: present([...source, ...Object.values(rest)]),
      valueOptions: ['--path', '--config', '--level', '--threads', '--concurrency', '--prefix', '--node'],
      env: env.env,
      envExpect: env.expect,
      goodDataDir: f.dataDir,
    }));
}

/** µs since the epoch as ISO 8601 with microseconds and a zone. */
function isoOf(micros: number): string {
  const iso = new Date(Math.floor(micros / 1000)).toISOString().slice(0, -1);
  return `${iso}${String(micros % 1000).padStart(3, '0')}Z`;
}

function recoverTarget(f: CliFixture, storeOnly: boolean): fc.Arbitrary<Piece> {
  // From the store alone, only a checkpoint is sure to be reachable (the WAL was never shipped).
  const logTarget = storeOnly ? 'any' : 'ok';
  const at = (expect: Expect, spec: string) => piece(expect, '--to', spec);
  const time = fc.integer({ min: f.firstTime, max: f.lastTime });
  return fc.oneof(
    {
      weight: 8,
      arbitrary: fc.constantFrom(...f.checkpoints).map((id) => at('ok', `checkpoint:${id}`)),
    },
    {
      weight: 6,
      arbitrary: fc.integer({ min: 1, max: f.lastLsn }).map((n) => at(logTarget, `lsn:${n}`)),
    },
    fc.constant(at(logTarget, `LSN:${f.lastLsn}`)),
    { weight: 4, arbitrary: time.map((t) => at(logTarget, `time:${t}`)) },
    { weight: 4, arbitrary: time.map((t) => at(logTarget, isoOf(t))) },
    // Beyond the log: the caller asked wrongly (from the store alone, what is beyond is not known).
    fc
      .integer({ min: f.lastLsn + 1, max: f.lastLsn + 10_000 })
      .map((n) => at(storeOnly ? 'any' : 'late-usage', `lsn:${n}`)),
    fc.constantFrom(at('fail', 'checkpoint:999'), at('any', 'lsn:0'), at('any', 'time:0')),
    fc
      .constantFrom(
        'lsn:-1',
        'checkpoint:0',
        'checkpoint:-1',
        'checkpoint:',
        'checkpoint:1.5',
        'lsn:1e3',
        `lsn:${'9'.repeat(25)}`,
        'time:',
        'time:yesterday',
        'time:-5',
        `time:${'9'.repeat(25)}`,
        '2024-05-01T12:00:00', // no zone: local time is refused
        '2024-13-45T99:99:99Z',
        'yesterday',
        '',
      )
      .map((v) => at('usage', v)),
    anyText.filter((v) => !/^\s*\d+\s*$/.test(v)).map((v) => at('usage', `time:${v}`)),
    anyText.filter((v) => !/^(checkpoint|lsn|time):/i.test(v.trim())).map((v) => at('usage', v)),
  );
}

/**
 * --components: ids the recovery's sources know (ok: at a target before a component's first entry, it is
 * recovered empty), ids they do not (fail: COMPONENT_NOT_FOUND; the store alone knows only the checkpoints'
 * components), bad lists.
 */
function recoverComponents(f: CliFixture, storeOnly: boolean): fc.Arbitrary<Piece> {
  const known = storeOnly ? f.checkpointComponents : f.components;
  const ids = fc.subarray(f.components, { minLength: 1 }).map((list) => {
    return piece(list.every((id) => known.includes(id)) ? 'ok' : 'fail', list.join(','));
  });
  return fc
    .oneof(
      { weight: 6, arbitrary: ids },
      ids.map((p) => piece(p.expect, `${p.args[0]}, ${p.args[0]}`)), // each twice
      fc.subarray(f.components).map((ids) => piece('fail', [...ids, 'nope'].join(', '))),
      fc.constantFrom(',', '', ' , ').map((v) => piece('usage', v)),
      anyText.map((v) => piece('usage', `é${v}`)), // é is no component id's character
      fc.integer({ min: 256, max: 3_000 }).map((n) => piece('usage', 'c'.repeat(n))),
    )
    .map((p) => piece(p.expect, '--components', ...p.args));
}

function recoverOut(f: CliFixture): fc.Arbitrary<Piece> {
  return fc
    .oneof(
      {
        weight: 6,
        arbitrary: fc.constantFrom(
          piece('ok', '{S}/out'),
          piece('ok', 'out'),
          piece('ok', '{S}/new/a/b'),
          piece('ok', '{S}/empty'),
        ),
      },
      fc.constantFrom(
        piece('usage', f.notesDir),
        piece('usage', f.file),
        piece('usage', path.join(f.file, 'x')),
        piece('usage', '..'), // {S}: not empty
      ),
      longPathUnder('{S}').map((v) => piece('usage', v)),
      anyText.map((v) => piece('any', v)),
    )
    .map((p) => piece(p.expect, '--out', ...p.args));
}

function recover(f: CliFixture): fc.Arbitrary<Built> {
  const source = fc.oneof(
    { weight: 3, arbitrary: fc.constant({ pieces: [] as Piece[], storeOnly: false }) },
    {
      weight: 2,
      arbitrary: fc
        .constantFrom(path.join(f.dataDir, 'store'), f.unicodeStore, f.storeLink)
        .map((store) => ({ pieces: [piece('ok', '--path', store)], storeOnly: true })),
    },
    {
      weight: 1,
      arbitrary: fc
        .oneof(
          fc.constantFrom(f.file, f.notesDir, f.dataDir, f.emptyDir, '../..', path.join(f.root, 'nope')),
          anyText,
          longPathUnder(f.root),
        )
        .map((v) => ({ pieces: [piece('usage', '--path', v)], storeOnly: true })),
    },
    { weight: 1, arbitrary: configFile(f).map((p) => ({ pieces: [p], storeOnly: false })) },
  );
  return source.chain(({ pieces: sourcePieces, storeOnly }) =>
    fc
      .record({
        env: configuredEnv(f.dataDir, f),
        to: fc.oneof(
          { weight: 1, arbitrary: fc.constant(piece('usage')) }, // --to is required
          { weight: 11, arbitrary: recoverTarget(f, storeOnly) },
        ),
        output: fc.oneof(
          { weight: 4, arbitrary: recoverOut(f).map((out) => [out]) },
          { weight: 3, arbitrary: fc.constant([piece('ok', '--dry-run')]) },
          { weight: 1, arbitrary: recoverOut(f).map((out) => [out, piece('ok', '--dry-run')]) },
          { weight: 1, arbitrary: fc.constant([piece('usage')]) }, // --out or --dry-run is required
        ),
        components: optional(recoverComponents(f, storeOnly)),
        level: optional(level),
        threads: optional(numberOption('--threads')),
        json: optional(flag('--json')),
        progress: optional(flag('--no-progress')),
      })
      .map(({ env, output, ...rest }) => ({
        command: ['recover'],
        pieces: present([...sourcePieces, ...output, ...Object.values(rest)]),
        valueOptions: ['--to', '--out', '--components', '--path', '--config', '--level', '--threads'],
        env: env.env,
        // --path reads no data directory: an odd DATA_DIR does not matter then (TIDEMARK_CONFIG still does).
        envExpect:
          storeOnly && env.expect === 'any' && env.env.TIDEMARK_CONFIG === undefined ? 'ok' : env.expect,
        goodDataDir: f.dataDir,
      })),
  );
}

/** Command lines that reach no command: unknown ones, a group without its command, help and version. */
const rootCases: fc.Arbitrary<Built> = fc
  .oneof(
    anyText
      .filter((v) => !KNOWN_WORDS.includes(v) && !ROOT_OPTIONS.includes(v) && !v.startsWith('-'))
      .map((v) => [piece('usage', v)]),
    fc.constantFrom(
      [piece('usage')], // nothing at all
      [piece('usage', 'wal')],
      [piece('usage', 'catalog')],
      [piece('usage', 'bench')], // unknown: the benchmarks left the CLI for bench/
      [piece('usage', 'wal', 'frob')],
      [piece('usage', 'catalog', 'rebuild', 'extra')],
      [piece('usage', 'help', 'frob')],
      [piece('ok', 'help')],
      [piece('ok', 'help', 'verify')],
      [piece('ok', 'wal', 'help', 'inspect')],
      [piece('ok', '--help')],
      [piece('ok', 'recover', '--help')],
      [piece('ok', 'catalog', 'rebuild', '-h')],
      [piece('ok', '--version')],
      [piece('ok', '-V')],
    ),
    longText.map((v) => [piece('usage', v.replace(/^-+/, 'x'))]),
  )
  .map((list) => ({
    command: [],
    pieces: [...list],
    valueOptions: [],
    env: {},
    envExpect: 'ok',
    goodDataDir: '',
  }));

/** Any command line, with noise, a missing value, help or `--debug` now and then. */
export function cliCase(f: CliFixture): fc.Arbitrary<CliCase> {
  const built = fc.oneof(
    { weight: 3, arbitrary: walInspect(f) },
    { weight: 3, arbitrary: catalogRebuild(f) },
    { weight: 4, arbitrary: verify(f) },
    { weight: 6, arbitrary: recover(f) },
    { weight: 2, arbitrary: rootCases },
  );
  return built.chain((b) =>
    fc
      .record({
        order: fc.shuffledSubarray(b.pieces, { minLength: b.pieces.length, maxLength: b.pieces.length }),
        noise: fc.oneof(
          { weight: 9, arbitrary: fc.constant([]) },
          { weight: 1, arbitrary: fc.array(noise, { minLength: 1, maxLength: 2 }) },
        ),
        missing:
          b.valueOptions.length === 0 ? fc.constant(undefined) : sometimes(missingValue(b.valueOptions), 20),
        help: b.command.length === 0 ? fc.constant(undefined) : sometimes(helpOrVersion, 20),
        debugAt: sometimes(fc.nat(), 5),
        // Options written `--name=value`, and one given twice: commander takes either, and the last.
        joined: fc.nat(),
        repeatAt: sometimes(fc.nat(), 6),
      })
      .map(({ order, noise: extra, missing, help, debugAt, joined, repeatAt }) => {
        const written = order.map((p, i) =>
          (joined >> i) & 1 && p.args.length === 2 && p.args[0]!.startsWith('--')
            ? piece(p.expect, `${p.args[0]}=${p.args[1]}`)
            : p,
        );
        const options = written.filter((p) => p.args[0]?.startsWith('--'));
        const again = repeatAt === undefined ? undefined : options[repeatAt % Math.max(options.length, 1)];
        const all = present([...written, again, ...(b.command.length === 0 ? [] : extra), help]);
        // --debug goes before the command or between two pieces, never between an option and its value.
        const groups = [b.command, ...all.map((p) => p.args), missing?.args ?? []];
        if (debugAt !== undefined) {
          const at = debugAt % (groups.length + 1);
          groups.splice(at, 0, ['--debug']);
        }
        return {
          args: groups.flat(),
          env: b.env,
          // Help or version wins over the usage errors commander has not reached yet.
          expect: help ? 'any' : expectOf([...all, ...present([missing]), piece(b.envExpect)]),
          debug: debugAt !== undefined,
          goodDataDir: b.goodDataDir,
        };
      }),
  );
}
