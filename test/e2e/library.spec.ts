/**
 * End-to-end: the library as a newcomer uses it, in the browser host (`kptrscope serve`, Debian's
 * Chromium) on real captures — leak_obj captured on 6.12, 6.18 and 7.3 (one object, three kernels),
 * leak_obj_fixed and use_after_unlock on 6.18. Runs are grouped by object with each kernel release
 * shown; the verdict, kernel and finding filters narrow the list; a program's name opens its run at
 * its finding; the keyboard walks the rows (↑/↓, Home/End), opens one (Enter) and comes back to it
 * (Esc); verdicts this build does not know yet still show. Screenshots: test-results/e2e/library-*.png.
 */
import { type Locator, type Page } from '@playwright/test';
import { test, expect } from './helpers/csp-watch.ts';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO, startHost, call, type Host } from './helpers/host.ts';
import type { RunInfo } from '../../src-main/contract/contract.ts';

const LOGS = join(REPO, 'test', 'fixtures', 'logs');
const SHOTS = join(REPO, 'test-results', 'e2e');
const kernelOf = (series: string) => readFileSync(join(LOGS, series, 'KERNEL'), 'utf8').trim();
const K612 = kernelOf('6.12');
const K618 = kernelOf('6.18');
const K73 = kernelOf('7.3');

let host: Host;

test.beforeAll(async () => {
  host = await startHost(join(mkdtempSync(join(tmpdir(), 'kptrscope-e2e-lib-')), 'e2e.db'));
});

test.afterAll(async () => {
  expect(await host.stop()).toBe(0);
});

/** Opens a capture through the page's form, naming its kernel release, and waits for its run view. */
async function ingest(page: Page, series: string, name: string, btf: string): Promise<void> {
  await page.goto(host.url);
  await page.getByTestId('open-file').click();
  await page.getByTestId('log-input').setInputFiles(join(LOGS, series, `${name}.bpftool.log`));
  await page.getByTestId('btf-input').setInputFiles(join(LOGS, series, btf));
  await page.getByLabel('Kernel release (optional)').fill(kernelOf(series));
  await page.getByTestId('ingest').click();
  await expect(page.getByTestId('run-view')).toBeVisible();
  await expect(page.getByTestId('finding')).toBeVisible();
}

const rows = (page: Page) => page.locator('[data-testid=runs] tbody tr');
const group = (page: Page, object: string) => page.locator(`[data-testid=object-group][data-object="${object}"]`);
const kernels = (l: Locator) => l.getByTestId('run-kernel');

async function selectedInsn(page: Page): Promise<number> {
  const head = await page.getByTestId('state-pane').locator('.head').innerText();
  return Number(/insn (\d+)/.exec(head)?.[1] ?? -1);
}

async function runOf(object: string, kernel: string): Promise<RunInfo> {
  const runs = await call<RunInfo[]>(host, 'listRuns', {});
  const r = runs.find((x) => x.object === object && x.kernel === kernel);
  if (!r) throw new Error(`no run of ${object} on ${kernel}`);
  return r;
}

test('the same object captured on three kernels is one group, each kernel release shown', async ({ page }) => {
  await ingest(page, '6.18', 'leak_obj', 'leak_obj.btf.txt');
  await ingest(page, '7.3', 'leak_obj', 'leak_obj.bpf.o');
  await ingest(page, '6.12', 'leak_obj', 'leak_obj.bpf.o');
  await ingest(page, '6.18', 'leak_obj_fixed', 'leak_obj_fixed.btf.txt');
  await ingest(page, '6.18', 'use_after_unlock', 'use_after_unlock.btf.txt');

  await page.getByRole('button', { name: 'kptrscope' }).click();
  await expect(rows(page)).toHaveCount(5);
  await expect(page.getByTestId('object-group')).toHaveCount(3);
  await expect(page.getByTestId('library-status')).toContainText('5 runs of 3 objects');
  // leak_obj: three runs together, in kernel-release order, each with its release and verdict.
  const leak = group(page, 'leak_obj');
  await expect(leak.getByTestId('object-name')).toHaveText('leak_obj');
  await expect(leak.getByTestId('run-row')).toHaveCount(3);
  await expect(kernels(leak)).toHaveText([K612, K618, K73]);
  await expect(leak.getByTestId('object-kernels')).toHaveText(/6\.12\s*6\.18\s*7\.3/);
  await expect(leak).toContainText('3 runs · 3 kernels');
  await expect(leak.getByTestId('program').first()).toContainText('leak_sample');
  await expect(leak.locator('.verdict')).toHaveText(['rejected', 'rejected', 'rejected']);
  // leak_obj_fixed is its own object, not folded into leak_obj.
  await expect(group(page, 'leak_obj_fixed').getByTestId('run-row')).toHaveCount(1);
  await expect(group(page, 'leak_obj_fixed').locator('.verdict')).toHaveText(['accepted']);
  await expect(group(page, 'use_after_unlock').getByTestId('run-row')).toHaveCount(1);
  // Sorting keeps the groups whole.
  await page.getByRole('button', { name: /^Object/ }).click();
  await expect(page.getByTestId('object-name')).toHaveText(['leak_obj', 'leak_obj_fixed', 'use_after_unlock']);
  await page.getByRole('button', { name: /^Object/ }).click();
  await expect(page.getByTestId('object-name')).toHaveText(['use_after_unlock', 'leak_obj_fixed', 'leak_obj']);
  await expect(kernels(group(page, 'leak_obj'))).toHaveText([K612, K618, K73]);
  await page.screenshot({ path: join(SHOTS, 'library-grouped.png') });
});

test('filters narrow the list: verdict, kernel, finding kind', async ({ page }) => {
  await page.goto(host.url);
  await expect(rows(page)).toHaveCount(5);
  const verdict = page.getByTestId('filter-verdict');
  const kernel = page.getByTestId('filter-kernel');
  const finding = page.getByTestId('filter-finding');
  // Verdict.
  await verdict.selectOption('accepted');
  await expect(rows(page)).toHaveCount(1);
  await expect(rows(page).first()).toContainText('leak_obj_fixed');
  await expect(page.getByTestId('library-status')).toContainText('1 of 5 runs of 1 object');
  await verdict.selectOption('rejected');
  await expect(rows(page)).toHaveCount(4);
  await expect(page.getByTestId('object-group')).toHaveCount(2);
  // Kernel: only the 7.3 capture.
  await verdict.selectOption('');
  await kernel.selectOption(K73);
  await expect(rows(page)).toHaveCount(1);
  await expect(kernels(page.locator('[data-testid=runs]'))).toHaveText([K73]);
  // 6.18 and accepted together: the fixed object alone; 7.3 and accepted: nothing, said so.
  await kernel.selectOption(K618);
  await expect(rows(page)).toHaveCount(3);
  await verdict.selectOption('accepted');
  await expect(rows(page)).toHaveCount(1);
  await kernel.selectOption(K73);
  await expect(rows(page)).toHaveCount(0);
  await expect(page.getByTestId('no-match')).toBeVisible();
  await page.getByTestId('clear-filters').click();
  await expect(rows(page)).toHaveCount(5);
  // Finding kind: the model's leak finding is on leak_obj's three runs (and only there).
  const runs = await call<RunInfo[]>(host, 'listRuns', {});
  const leakKind = (await runOf('leak_obj', K618)).programs[0]?.findingKind;
  expect(leakKind).toBe('leak');
  const withLeak = runs.filter((r) => r.programs.some((p) => p.findingKind === 'leak'));
  await finding.selectOption('leak');
  await expect(rows(page)).toHaveCount(withLeak.length);
  await expect(group(page, 'leak_obj').getByTestId('run-row')).toHaveCount(3);
  await expect(group(page, 'leak_obj').locator('.kind').first()).toHaveText('leak');
  await finding.selectOption('(none)');
  await expect(rows(page)).toHaveCount(1);
  await expect(rows(page).first()).toContainText('leak_obj_fixed');
  await finding.selectOption('');
  // The text filter still works beside them, on the object's name too.
  await page.getByLabel('filter runs').fill('use_after');
  await expect(rows(page)).toHaveCount(1);
  await page.getByLabel('filter runs').fill('');
  await expect(rows(page)).toHaveCount(5);
});

test("a click on a program's name opens its run at its finding", async ({ page }) => {
  const run = await runOf('leak_obj', K73);
  const prog = run.programs[0];
  expect(prog?.failInsn).not.toBeNull();
  await page.goto(host.url);
  const row = page.locator(`[data-testid=run-row][data-run="${run.id}"]`);
  await row.getByRole('button', { name: 'leak_sample' }).click();
  await expect(page.getByTestId('run-view')).toBeVisible();
  expect(page.url()).toContain(`#/run/${run.id}/${prog?.index}`);
  await expect(page.getByTestId('finding')).toBeVisible();
  await expect(page.getByTestId('finding')).toContainText('leak_sample');
  await expect(page.getByTestId('program-picker')).toHaveValue(String(prog?.index));
  // Landed on the finding: the failing instruction is selected and marked in the log.
  await expect.poll(() => selectedInsn(page)).toBe(prog?.failInsn);
  await expect(page.locator('[data-testid=log-pane] .row.sel')).toHaveCount(1);
  await expect(page.locator('.crumb')).toHaveText(`/ run ${run.id}`);
});

test('keyboard: arrows move between rows with a visible focus ring, Enter opens at the finding, Esc comes back', async ({ page }) => {
  await page.goto(host.url);
  await page.getByRole('button', { name: /^Object/ }).click();
  await expect(page.getByTestId('object-name').first()).toHaveText('leak_obj');
  const all = page.getByTestId('run-row');
  await expect(all).toHaveCount(5);
  // The grid: one tab stop for the rows (the active one), roles for assistive technology.
  const grid = page.getByRole('grid', { name: 'runs, grouped by object' });
  await expect(grid).toBeVisible();
  await expect(page.locator('[data-testid=run-row][tabindex="0"]')).toHaveCount(1);
  // From the filter box, ↓ enters the list at its first row.
  await page.getByLabel('filter runs').focus();
  await page.keyboard.press('ArrowDown');
  await expect(all.nth(0)).toBeFocused();
  const ring = await all.nth(0).evaluate((el) => getComputedStyle(el).outlineStyle + ' ' + getComputedStyle(el).outlineWidth);
  expect(ring).toBe('solid 2px');
  await page.keyboard.press('ArrowDown');
  await expect(all.nth(1)).toBeFocused();
  await expect(all.nth(1)).toHaveAttribute('tabindex', '0');
  await expect(all.nth(0)).toHaveAttribute('tabindex', '-1');
  await page.keyboard.press('End');
  await expect(all.nth(4)).toBeFocused();
  await page.keyboard.press('Home');
  await expect(all.nth(0)).toBeFocused();
  // Tab reaches the focused row's own controls (its compare tick first), Shift+Tab comes back.
  await page.keyboard.press('Tab');
  await expect(all.nth(0).getByRole('checkbox')).toBeFocused();
  await page.keyboard.press('Shift+Tab');
  await expect(all.nth(0)).toBeFocused();
  // Space ticks the run for Compare.
  await page.keyboard.press(' ');
  await expect(all.nth(0).getByRole('checkbox')).toBeChecked();
  await page.keyboard.press(' ');
  await expect(all.nth(0).getByRole('checkbox')).not.toBeChecked();
  // Down to leak_obj on 7.3 (the third row of its group) and open it.
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('ArrowDown');
  const third = all.nth(2);
  await expect(third).toBeFocused();
  await expect(third.getByTestId('run-kernel')).toHaveText(K73);
  const id = Number(await third.getAttribute('data-run'));
  const run = await runOf('leak_obj', K73);
  expect(id).toBe(run.id);
  await page.screenshot({ path: join(SHOTS, 'library-keyboard.png') });
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('run-view')).toBeVisible();
  expect(page.url()).toContain(`#/run/${id}/`);
  await expect(page.getByTestId('finding')).toContainText('leak_sample');
  await expect.poll(() => selectedInsn(page)).toBe(run.programs[0]?.failInsn);
  // Esc: back in the library, the filters and sort as they were, the keyboard on the run just opened.
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('runs')).toBeVisible();
  await expect(page.locator(`[data-testid=run-row][data-run="${id}"]`)).toBeFocused();
  await expect(page.getByTestId('object-name').first()).toHaveText('leak_obj');
});

test('any verdict string shows: not-loaded and unsupported get their badges and sort after rejected and truncated', async ({ page }) => {
  // The host answers what it stored; here a newer host's verdicts are put into its answer.
  await page.route('**/api/call/listRuns', async (route) => {
    const res = await route.fetch();
    const body = (await res.json()) as { result: RunInfo[] };
    const fixed = body.result.find((r) => r.object === 'leak_obj_fixed');
    const uau = body.result.find((r) => r.object === 'use_after_unlock');
    const base = fixed?.programs[0];
    if (fixed && base) fixed.programs = [{ ...base, index: 1, name: 'second_prog', verdict: 'unsupported', lines: 0 } as never, { ...base, index: 2, name: 'third_prog', verdict: 'not-loaded', lines: 0 } as never, base];
    if (uau?.programs[0]) uau.programs = [{ ...uau.programs[0], verdict: 'from-the-future' } as never];
    await route.fulfill({ response: res, json: body });
  });
  await page.goto(host.url);
  const fixed = group(page, 'leak_obj_fixed');
  await expect(fixed.locator('.verdict')).toHaveText(['unsupported', 'not-loaded', 'accepted']);
  await expect(fixed.locator('.verdict.v-unsupported')).toHaveCount(1);
  await expect(fixed.locator('.verdict.v-not-loaded')).toHaveCount(1);
  const bg = async (cls: string) => fixed.locator(`.verdict.${cls}`).evaluate((el) => getComputedStyle(el).backgroundColor);
  expect(new Set([await bg('v-unsupported'), await bg('v-not-loaded'), await bg('v-accepted')]).size).toBe(3);
  // A program that never reached the kernel has no log of its own: its name is not a link.
  await expect(fixed.getByRole('button', { name: 'second_prog' })).toHaveCount(0);
  await expect(fixed.getByText('second_prog')).toBeVisible();
  // An unknown verdict is shown as it came, in the neutral badge.
  await expect(group(page, 'use_after_unlock').locator('.verdict.v-other')).toHaveText('from-the-future');
  // Filters offer them; worst-first sort: rejected, then not-loaded/unsupported, then the unknown, then accepted.
  await expect(page.getByTestId('filter-verdict').locator('option')).toHaveText(['any', 'rejected', 'not-loaded', 'unsupported', 'from-the-future', 'accepted']);
  await page.getByTestId('filter-verdict').selectOption('not-loaded');
  await expect(rows(page)).toHaveCount(1);
  await page.getByTestId('filter-verdict').selectOption('');
  await page.getByRole('button', { name: /^Verdict/ }).click();
  await expect(page.getByTestId('object-name')).toHaveText(['leak_obj', 'leak_obj_fixed', 'use_after_unlock']);
  await page.screenshot({ path: join(SHOTS, 'library-verdicts.png') });
});
