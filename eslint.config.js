// Lint configuration. Besides typescript-eslint's recommended rules it enforces the layering:
// - src-main/ingest and src-main/model are pure: no electron, no DOM globals, no SQLite, no services;
// - src-renderer may import only types from src-main/api/contract.ts;
// - src-main never imports from src-renderer.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const pureBan = {
  patterns: [
    { group: ['electron', 'electron/*'], message: 'pure domain code must not use Electron' },
    { group: ['better-sqlite3'], message: 'pure domain code must not touch SQLite (use src-main/store)' },
    { group: ['**/store/**', '**/services/**', '**/api/**', '**/src-renderer/**'], message: 'pure domain code must not depend on outer layers' },
  ],
};

export default tseslint.config(
  // .svelte files are checked by svelte-check (types) and the Svelte compiler; ESLint sees the .ts files.
  { ignores: ['node_modules/**', 'dist/**', 'out/**', 'test-results/**', 'playwright-report/**', 'test/fixtures/**', '**/*.svelte'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', URL: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['src-main/ingest/**/*.ts', 'src-main/model/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', pureBan],
      'no-restricted-globals': ['error', 'window', 'document', 'navigator', 'localStorage'],
    },
  },
  {
    files: ['src-main/**/*.ts'],
    ignores: ['src-main/ingest/**', 'src-main/model/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['**/src-renderer/**'], message: 'main must not import renderer code' }] }],
    },
  },
  {
    files: ['src-renderer/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '(^|/)src-main/(?!api/contract(\\.ts)?$)',
              message: 'the renderer may import only types from src-main/api/contract.ts',
            },
            {
              regex: '(^|/)src-main/api/contract(\\.ts)?$',
              allowTypeImports: true,
              message: 'the renderer may import only types from src-main/api/contract.ts (use `import type`)',
            },
            { regex: '^(electron|better-sqlite3|node:.*)$', message: 'the renderer runs in a sandbox' },
          ],
        },
      ],
    },
  },
);
