// ESLint flat config: typescript-eslint's recommended rules over src, tests, bench, examples.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'dist/',
      'build/',
      'build-*/',
      'node_modules/',
      'bench/node_modules/',
      'bench/out/',
      'demo-output/',
      'src/**/*.gen.ts',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.{ts,mjs,js}'],
    languageOptions: {
      globals: {
        console: 'readonly',
        process: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        performance: 'readonly',
        Buffer: 'readonly',
        URL: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-constant-condition': ['error', { checkLoops: false }],
      // `import { type X }` leaves `import {}` (a run-time import) behind under verbatimModuleSyntax;
      // `import type` is erased, which .dependency-cruiser.mjs's cycle rule relies on.
      '@typescript-eslint/no-import-type-side-effects': 'error',
    },
  },
);
