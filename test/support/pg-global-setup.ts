/**
 * vitest globalSetup (vitest.config.ts): one PostgreSQL server for the whole run, provided to tests as
 * `inject('pgUrl')` (read it through test/support/pg.ts).
 *
 * - KPTRSCOPE_TEST_PG=<url> set: that server is used, nothing is started. The url's role needs
 *   CREATEDB for freshPgDatabase().
 * - Else, PostgreSQL server binaries under /usr/lib/postgresql: a throw-away cluster
 *   (scripts/pg-cluster.ts) is started once, before any test file, and stopped and removed after
 *   the run.
 * - Else: KPTRSCOPE_REQUIRE_PG=1 (scripts/test-all.sh sets it) fails the run; otherwise `pgUrl` is
 *   null, PostgreSQL tests are skipped, and one line says so.
 */
import type { TestProject } from 'vitest/node';
import { findPgBinDir, startThrowawayCluster } from '../../scripts/pg-cluster.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** postgresql://… of a server whose role may CREATE DATABASE; null when there is none (tests skip). */
    pgUrl: string | null;
  }
}

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  const given = process.env.KPTRSCOPE_TEST_PG?.trim();
  if (given) {
    project.provide('pgUrl', given);
    return undefined;
  }
  if (findPgBinDir() === null) {
    if (process.env.KPTRSCOPE_REQUIRE_PG === '1') {
      throw new Error('PostgreSQL server binaries not found under /usr/lib/postgresql: apt-get install postgresql (KPTRSCOPE_REQUIRE_PG=1 is set)');
    }
    console.warn('pg-global-setup: no PostgreSQL server under /usr/lib/postgresql (apt-get install postgresql) and KPTRSCOPE_TEST_PG unset: PostgreSQL tests will be skipped');
    project.provide('pgUrl', null);
    return undefined;
  }
  const cluster = await startThrowawayCluster();
  project.provide('pgUrl', cluster.url);
  return () => cluster.stop();
}
