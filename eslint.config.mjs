import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'data/**', '.tmp/**', 'jest.config.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-imports': 'off',
    },
  },
  {
    // Cores stay framework-free: only *.module.ts, *.controller.ts, *.processor.ts and the app layer import Nest.
    files: ['src/**/*.ts'],
    ignores: [
      'src/**/*.module.ts',
      'src/**/*.controller.ts',
      'src/**/*.processor.ts',
      'src/**/*.indicator.ts',
      'src/**/*.filter.ts',
      'src/**/*.provider.ts',
      'src/main.ts',
      'src/app/**',
    ],
    rules: {
      'no-restricted-imports': ['error', { patterns: ['@nestjs/*', 'nestjs-pino'] }],
    },
  },
);
