import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const CLOCK_ONLY =
  'Keep time on the injected Clock (src/lib/clock.ts): clock.now() for wall time, clock.monotonic() for ' +
  'durations and deadlines, clock.setTimeout/setInterval for timers.';

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'bench/dist/**',
      'node_modules/**',
      'coverage/**',
      'data/**',
      '.tmp/**',
      'jest.config.js',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-imports': 'off',
    },
  },
  {
    // Nest lives in src/server only: every other folder, the benchmarks too, is framework-free.
    files: ['src/**/*.ts', 'bench/src/**/*.ts'],
    ignores: ['src/server/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: ['@nestjs/*', 'nestjs-pino'] }],
    },
  },
  {
    // The cores keep time on the injected Clock, so that tests and simulations set the pace: no direct
    // reading of the machine's clock, no timer of their own. src/lib/clock.ts is the one place that may.
    files: ['src/{wal,checkpoint,storage,jobs,tiering,recovery,coordination,node,lib}/**/*.ts'],
    ignores: ['src/lib/clock.ts'],
    rules: {
      'no-restricted-globals': [
        'error',
        ...['setTimeout', 'setInterval', 'clearTimeout', 'clearInterval', 'setImmediate'].map((name) => ({
          name,
          message: CLOCK_ONLY,
        })),
      ],
      'no-restricted-properties': [
        'error',
        { object: 'Date', property: 'now', message: CLOCK_ONLY },
        { object: 'performance', property: 'now', message: CLOCK_ONLY },
        { object: 'process', property: 'hrtime', message: CLOCK_ONLY },
      ],
      'no-restricted-syntax': [
        'error',
        { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: CLOCK_ONLY },
      ],
    },
  },
  {
    // The Raft core draws no random number of its own: election jitter comes from the injected source, so a
    // simulation seed replays exactly.
    files: ['src/coordination/raft/core/**/*.ts'],
    rules: {
      'no-restricted-properties': [
        'error',
        { object: 'Date', property: 'now', message: CLOCK_ONLY },
        { object: 'performance', property: 'now', message: CLOCK_ONLY },
        { object: 'Math', property: 'random', message: 'Use the injected `random` (RaftOptions).' },
      ],
    },
  },
);
