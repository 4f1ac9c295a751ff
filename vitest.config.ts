// Test runner configuration: unit and integration tests under test/ (Playwright e2e lives in test/e2e and is run separately).
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/e2e/**', 'node_modules/**'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // One real PostgreSQL server for the run (a throw-away cluster, or KPTRSCOPE_TEST_PG); see test/support/pg.ts.
    globalSetup: ['test/support/pg-global-setup.ts'],
  },
});
