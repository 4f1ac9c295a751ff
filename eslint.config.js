// Lint configuration. Besides typescript-eslint's recommended rules it enforces the layering of
// docs/architecture.md — arrows point one way, hosts → app → domain/store/render, contract ← all:
// - src-main/domain is pure: it imports nothing outside src-main/domain (no node:, no packages,
//   no DOM globals);
// - src-main/contract imports only types from the domain;
// - src-main/store owns the database: it alone imports better-sqlite3/pg or calls `.prepare(`, and it
//   imports only domain types;
// - src-main/render draws views: domain and contract only;
// - src-main/capture (QEMU guests, kernel cache) depends on the domain only;
// - src-main/app (use cases) never imports a host;
// - src-renderer imports only from src-main/contract (types; values only from contract/legend.ts);
// - no import cycles anywhere in src-main (import-x/no-cycle).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import importX from 'eslint-plugin-import-x';

const layer = (name) => ({ group: [`**/${name}/**`, `**/${name}`], message: '' });
const banned = (from, names, why) =>
  names.map((n) => ({ ...layer(n), message: `${from} must not import ${n}/ (${why})` }));

const DB_DRIVERS = [
  { group: ['better-sqlite3', 'pg', 'pg-*', 'postgres'], message: 'only src-main/store talks to a database' },
];
const NO_PREPARE = {
  selector: "CallExpression[callee.property.name='prepare']",
  message: 'SQL is prepared only in src-main/store',
};

export default tseslint.config(
  // .svelte files are checked by svelte-check (types) and the Svelte compiler; ESLint sees the .ts files.
  { ignores: ['node_modules/**', 'dist/**', 'out/**', 'test-results/**', 'playwright-report/**', 'test/fixtures/**', 'test/golden/out/**', '**/*.svelte'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', URL: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['src-main/**/*.ts'],
    plugins: { 'import-x': importX },
    settings: { 'import-x/extensions': ['.ts', '.mjs', '.js'] },
    rules: { 'import-x/no-cycle': ['error', { ignoreExternal: true }] },
  },
  {
    files: ['src-main/domain/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            ...banned('src-main/domain', ['store', 'app', 'contract', 'render', 'hosts', 'capture', 'src-renderer'], 'the domain is pure and imports nothing outside it'),
            { regex: '^(?!\\.)', message: 'src-main/domain is pure: no node: modules or packages' },
          ],
        },
      ],
      'no-restricted-globals': ['error', 'window', 'document', 'navigator', 'localStorage', 'fetch'],
    },
  },
  {
    files: ['src-main/contract/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            ...banned('src-main/contract', ['store', 'app', 'render', 'hosts', 'capture', 'src-renderer'], 'the contract imports only domain types'),
            { group: ['**/domain/**'], allowTypeImports: true, message: 'the contract imports only TYPES from the domain (use `import type`)' },
            ...DB_DRIVERS,
          ],
        },
      ],
      'no-restricted-syntax': ['error', NO_PREPARE],
    },
  },
  {
    files: ['src-main/store/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            ...banned('src-main/store', ['app', 'contract', 'render', 'hosts', 'capture', 'src-renderer'], 'the store imports only domain types'),
            { group: ['**/domain/**'], allowTypeImports: true, message: 'the store imports only TYPES from the domain (use `import type`); mapping rows to records is done by the caller' },
          ],
        },
      ],
    },
  },
  {
    files: ['src-main/render/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [...banned('src-main/render', ['store', 'app', 'hosts', 'capture', 'src-renderer'], 'renderers draw views from the domain'), ...DB_DRIVERS] },
      ],
      'no-restricted-syntax': ['error', NO_PREPARE],
    },
  },
  {
    files: ['src-main/capture/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [...banned('src-main/capture', ['store', 'app', 'render', 'hosts', 'contract', 'src-renderer'], 'capture drives kernels; app/capture.ts stores what it brings back'), ...DB_DRIVERS] },
      ],
      'no-restricted-syntax': ['error', NO_PREPARE],
    },
  },
  {
    files: ['src-main/app/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            ...banned('src-main/app', ['hosts', 'src-renderer'], 'use cases are called by hosts, never the other way'),
            { group: ['electron', 'electron/*'], message: 'use cases run outside Electron too' },
            ...DB_DRIVERS,
          ],
        },
      ],
      'no-restricted-syntax': ['error', NO_PREPARE],
    },
  },
  {
    files: ['src-main/hosts/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [...banned('src-main/hosts', ['src-renderer'], 'main never imports renderer code'), ...DB_DRIVERS] }],
      'no-restricted-syntax': ['error', NO_PREPARE],
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
              regex: '(^|/)src-main/(?!contract/)',
              message: 'the renderer may import only from src-main/contract/',
            },
            {
              regex: '(^|/)src-main/contract/(?!legend(\\.ts)?$)',
              allowTypeImports: true,
              message: 'the renderer may import only TYPES from src-main/contract (values only from contract/legend.ts; use `import type`)',
            },
            { regex: '^(electron|better-sqlite3|pg|node:.*)$', message: 'the renderer runs in a sandbox' },
          ],
        },
      ],
    },
  },
);
