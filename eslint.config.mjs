import js from '@eslint/js';
import tseslint from 'typescript-eslint';

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
);
