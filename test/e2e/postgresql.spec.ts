/**
 * End-to-end: the app on a team's PostgreSQL store. A throw-away cluster (scripts/pg-cluster.ts)
 * holds runs a CI runner stored (`kptrscope ingest --db postgresql://…`); `kptrscope serve --db
 * postgresql://…` shows them in the library, opens one at its finding, and stores a log opened
 * through the page there too — and the password of the URL never reaches the page.
 * Skipped, saying why, when PostgreSQL's server binaries are not installed.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, expect } from './helpers/csp-watch.ts';
import { REPO, startHost, call, openViaInputs, type Host } from './helpers/host.ts';
import { findPgBinDir, startThrowawayCluster, type ThrowawayCluster } from '../../scripts/pg-cluster.ts';
import type { RunInfo } from '../../src-main/contract/contract.ts';

const LOGS = join(REPO, 'test', 'fixtures', 'logs');
const K618 = readFileSync(join(LOGS, '6.18', 'KERNEL'), 'utf8').trim();
const noServer = findPgBinDir() === null;

let cluster: ThrowawayCluster;
let host: Host;

test.describe(noServer ? 'the app on PostgreSQL (skipped: no PostgreSQL server binaries: apt-get install postgresql)' : 'the app on PostgreSQL', () => {
  test.skip(noServer, 'apt-get install postgresql');

  test.beforeAll(async () => {
    cluster = await startThrowawayCluster();
    const r = spawnSync(
      process.execPath,
      [join(REPO, 'bin', 'kptrscope.mjs'), 'ingest', join(LOGS, '6.18', 'leak_obj.bpftool.log'), '--btf', join(LOGS, '6.18', 'leak_obj.bpf.o'), '--kernel', K618, '--tag', 'ci-1', '--replay', '--db', cluster.url],
      { encoding: 'utf8', cwd: REPO },
    );
    expect(r.status, r.stderr).toBe(0);
    host = await startHost(cluster.url);
  });

  test.afterAll(async () => {
    expect(await host?.stop()).toBe(0);
    await cluster?.stop();
  });

  test('runs stored by the CLI open in the app; a log opened in the app is stored on the server', async ({ page }) => {
    await page.goto(host.url);
    await expect(page.locator('[data-testid=runs] tbody tr')).toHaveCount(1);
    await page.locator('[data-testid=runs] tbody tr').first().getByRole('button', { name: 'leak_sample' }).click();
    await expect(page.getByTestId('run-view')).toBeVisible();
    await expect(page.getByTestId('finding')).toContainText('leak');
    await openViaInputs(page, host, join(LOGS, '6.18', 'leak_obj_fixed.bpftool.log'), join(LOGS, '6.18', 'leak_obj_fixed.bpf.o'), K618);
    const runs = await call<RunInfo[]>(host, 'listRuns', {});
    expect(runs.map((r) => r.object).sort()).toEqual(['leak_obj', 'leak_obj_fixed']);
    // The server holds both (another client sees them).
    const listed = spawnSync(process.execPath, [join(REPO, 'bin', 'kptrscope.mjs'), 'runs', '--json', '--db', cluster.url], { encoding: 'utf8', cwd: REPO });
    expect((JSON.parse(listed.stdout) as { runs: unknown[] }).runs).toHaveLength(2);
    const info = await call<{ dbPath: string }>(host, 'appInfo', {});
    expect(info.dbPath).toContain(':***@');
    expect(JSON.stringify(info) + (await page.content()) + host.stderr()).not.toContain(cluster.password);
  });
});
