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
  { ignores: ['node_modules/**', 'dist/**', 'out/**', 'test-results/**', 'playwright-report/**', 'test/fixtures/**'] },
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
    files: ['src-renderer/**/*.ts', 'src-renderer/**/*.svelte'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/src-main/**', '!**/src-main/api/contract.ts', '!**/src-main/api/contract'],
              message: 'the renderer may import only types from src-main/api/contract.ts',
            },
            { group: ['electron', 'node:*', 'better-sqlite3'], message: 'the renderer runs in a sandbox' },
          ],
        },
      ],
    },
  },
);
