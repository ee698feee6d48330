// Shared ESLint flat config. Correctness rules only: formatting is not linted, and the type system
// (strict + noUncheckedIndexedAccess) already covers what type-aware rules would add, at a fraction of the time.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '**/.turbo/**', '**/test-artifacts/**', '**/.tmp/**', '**/coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        console: 'readonly',
        process: 'readonly',
        Buffer: 'readonly',
        URL: 'readonly',
        performance: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        TextEncoder: 'readonly',
        TextDecoder: 'readonly',
        fetch: 'readonly',
        document: 'readonly',
        window: 'readonly',
        structuredClone: 'readonly',
        AbortController: 'readonly',
        queueMicrotask: 'readonly',
        globalThis: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/no-explicit-any': 'warn',
      '@typescript-eslint/no-non-null-assertion': 'off',
      'no-constant-condition': ['error', { checkLoops: false }],
      // deliberate in this codebase: ANSI escapes in progress output, Python's str.splitlines separators
      'no-control-regex': 'off',
      // Module walks its parent chain with a cursor that starts at `this`
      '@typescript-eslint/no-this-alias': 'off',
    },
  },
);
