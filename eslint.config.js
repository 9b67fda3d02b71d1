// Flat config, type-aware (typescript-eslint with the project service).
// Packages talk to each other only through their public entry point: deep imports into a
// sibling's `src`, `dist` or internals are errors.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: ['**/dist/**', '**/node_modules/**', '**/.turbo/**', 'docs/api/**', '**/coverage/**'],
  },
  {
    linterOptions: { reportUnusedDisableDirectives: 'error' },
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@sockchan/*/src', '@sockchan/*/src/**', 'sockchan/src', 'sockchan/src/**'],
              message: 'Import a package through its public entry point, not its src.',
            },
            {
              group: ['@sockchan/*/dist/**', 'sockchan/dist/**', '@sockchan/*/internal', '@sockchan/*/internal/**'],
              message: 'Internals of another package are not part of its API.',
            },
            {
              group: ['**/packages/*/src', '**/packages/*/src/**', '**/packages/*/dist/**'],
              message: 'Relative imports into another package are not allowed; depend on it by name.',
            },
          ],
        },
      ],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    // In Node 20 the globals `Buffer` and `process` are accessors: each use in a package is a
    // call through V8's global load IC (about 100 instructions), on per-message paths too.
    // Imported, they are module bindings that optimized code reads as constants.
    files: ['packages/*/src/**/*.ts'],
    rules: {
      'no-restricted-globals': [
        'error',
        { name: 'Buffer', message: "import { Buffer } from 'node:buffer' (the global is a getter, called on every use)." },
        { name: 'process', message: "import process from 'node:process' (the global is a getter, called on every use)." },
      ],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    files: ['**/test/**/*.ts', '**/*.test.ts'],
    rules: {
      // Tests poke at values whose types vitest's matchers already check.
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/unbound-method': 'off',
    },
  },
);
