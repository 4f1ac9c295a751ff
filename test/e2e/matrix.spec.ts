/**
 * End-to-end: the matrix view in the browser host (`kptrscope serve`, Debian's Chromium) on real
 * captures of one object — nested_rcu on 6.12, 6.18 (this machine) and 7.3: rejected while RCU read
 * sections do not nest, accepted from 6.19 on. From the library's object group, "matrix across
 * kernels" shows one column per series; the change 6.18 → 7.3 is explained by the profile rule
 * rcuNesting (since 6.19); a click on it opens the compare of those two runs at that instruction;
 * a click on a cell opens that run. Screenshot: test-results/e2e/matrix.png.
 */
import { type Page } from '@playwright/test';
import { test, expect } from './helpers/csp-watch.ts';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO, startHost, openViaInputs, type Host } from './helpers/host.ts';

const LOGS = join(REPO, 'test', 'fixtures', 'logs');
const SHOTS = join(REPO, 'test-results', 'e2e');
const kernelOf = (series: string) => readFileSync(join(LOGS, series, 'KERNEL'), 'utf8').trim();

let host: Host;

test.beforeAll(async () => {
  host = await startHost(join(mkdtempSync(join(tmpdir(), 'kptrscope-e2e-matrix-')), 'e2e.db'));
});

test.afterAll(async () => {
  expect(await host.stop()).toBe(0);
});

const ingest = (page: Page, series: string, name: string) =>
  openViaInputs(page, host, join(LOGS, series, `${name}.bpftool.log`), join(LOGS, series, `${name}.bpf.o`), kernelOf(series));

test('one object on three kernels: the matrix, the rule that explains the change, and the compare at it', async ({ page }) => {
  for (const s of ['7.3', '6.12', '6.18']) await ingest(page, s, 'nested_rcu');
  await page.getByRole('button', { name: 'kptrscope' }).click();
  const group = page.locator('[data-testid=object-group][data-object="nested_rcu"]');
  await expect(group.getByTestId('run-row')).toHaveCount(3);
  await group.getByTestId('open-matrix').click();

  const m = page.getByTestId('matrix');
  await expect(m.getByTestId('matrix-kernel')).toHaveText(['6.12', '6.18', '7.3']);
  const row = m.locator('[data-testid=matrix-row][data-program="nested_rcu"]');
  await expect(row.getByTestId('matrix-cell')).toHaveCount(3);
  await expect(row.locator('[data-kernel="6.12"]')).toHaveAttribute('data-verdict', 'rejected');
  await expect(row.locator('[data-kernel="6.18"]')).toHaveAttribute('data-verdict', 'rejected');
  await expect(row.locator('[data-kernel="7.3"]')).toHaveAttribute('data-verdict', 'accepted');
  await expect(row.locator('[data-kernel="6.18"]')).toContainText('context-violation @1');
  const diff = m.getByTestId('matrix-difference');
  await expect(diff).toHaveCount(1);
  await expect(diff).toContainText('6.18 → 7.3 at instruction 1');
  await expect(diff).toContainText('rcuNesting');
  await expect(diff).toContainText('since 6.19');
  await page.screenshot({ path: join(SHOTS, 'matrix.png'), fullPage: true });

  // The difference opens the compare of the 6.18 and 7.3 runs, the 7.3 side at instruction 1.
  await diff.click();
  await expect(page).toHaveURL(/#\/compare\/\d+\/\d+\/nested_rcu\/1$/);
  await expect(page.getByTestId('compare-view')).toBeVisible();
  await expect(page.locator('.crumb')).toContainText('compare run');
  await expect(page.locator('[data-testid=compare-view] [data-testid=state-pane]').last().locator('.head')).toContainText('insn 1');

  // Back in the matrix, a cell opens its run.
  await page.goBack();
  await expect(page.getByTestId('matrix-table')).toBeVisible();
  await page.locator('[data-testid=matrix-row][data-program="nested_rcu"] [data-kernel="6.12"]').click();
  await expect(page.getByTestId('run-view')).toBeVisible();
  await expect(page.locator('.crumb')).toContainText('run');
  await expect(page.getByTestId('finding')).toContainText(/nested|RCU/i);
});
