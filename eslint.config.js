// `npm run lint` (eslint .): ESLint's and typescript-eslint's recommended rules
// over the TypeScript sources, tests, scripts and this file.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    // Build output, dependencies, the local database, and pgtyped's generated code (checked by `npm run codegen` instead).
    ignores: ['dist/**', 'node_modules/**', '.data/**', 'coverage/**', 'src/queries/**'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      ecmaVersion: 2023,
      sourceType: 'module',
      globals: {
        console: 'readonly',
        process: 'readonly',
        performance: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setImmediate: 'readonly',
        URL: 'readonly',
      },
    },
    rules: {
      // `_`-prefixed names are deliberately unused (destructuring away a field, an ignored callback argument).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
);
