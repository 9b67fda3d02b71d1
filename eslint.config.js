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
