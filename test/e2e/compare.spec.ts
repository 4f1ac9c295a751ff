/**
 * End-to-end: compare and export in the browser host (`kptrscope serve`, Debian's Chromium) on real
 * 6.18 captures — leak_obj (rejected: the object leaks) against leak_obj_fixed. Opens the comparison
 * from the library (two ticked runs → Compare), reads the veristat-style table, finds the first
 * divergence marked in both logs, steps both sides with j/k, swaps; exports the graph as SVG
 * (downloaded by the page: it parses and names the objects' types) and the table as Markdown.
 * Screenshots: test-results/e2e/compare-*.png.
 */
import { type Page } from '@playwright/test';
import { test, expect } from './helpers/csp-watch.ts';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO, startHost, call, type Host } from './helpers/host.ts';
import type { CompareResult } from '../../src-main/contract/contract.ts';

const FIX = join(REPO, 'test', 'fixtures', 'logs', '6.18');
const SHOTS = join(REPO, 'test-results', 'e2e');

let host: Host;
let dir: string;

test.beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kptrscope-e2e-cmp-'));
  host = await startHost(join(dir, 'e2e.db'));
});

test.afterAll(async () => {
  expect(await host.stop()).toBe(0);
});

async function open(page: Page, name: string): Promise<number> {
  await page.goto(host.url);
  await page.getByTestId('open-file').click();
  await page.getByTestId('log-input').setInputFiles(join(FIX, `${name}.bpftool.log`));
  await page.getByTestId('btf-input').setInputFiles(join(FIX, `${name}.btf.txt`));
  await page.getByTestId('ingest').click();
  await expect(page.getByTestId('run-view')).toBeVisible();
  await expect(page.getByTestId('finding')).toBeVisible();
  return Number(/#\/run\/(\d+)/.exec(page.url())?.[1]);
}

const selLine = (page: Page, side: 'a' | 'b') => page.getByTestId(`side-${side}`).locator('[data-testid=log-pane] .row.sel').getAttribute('data-line').then(Number);
const graphLine = (page: Page, side: 'a' | 'b') => page.getByTestId(`side-${side}`).getByTestId('graph').getAttribute('data-line').then(Number);

test('compare leak_obj with leak_obj_fixed: table, divergence in both panes, stepping together, swap, export', async ({ page }) => {
  const broken = await open(page, 'leak_obj');
  const fixed = await open(page, 'leak_obj_fixed');
  const expected = await call<CompareResult>(host, 'compare', { a: broken, b: fixed });
  const div = expected.pairs[0]?.divergence;
  expect(div).toBeTruthy();
  if (!div) return;

  // Library: tick broken (A) then fixed (B), Compare.
  await page.getByRole('button', { name: 'kptrscope' }).click();
  await page.getByTestId(`pick-${broken}`).check();
  await page.getByTestId(`pick-${fixed}`).check();
  await page.getByTestId('compare').click();
  await expect(page.getByTestId('compare-view')).toBeVisible();
  expect(page.url()).toContain(`#/compare/${broken}/${fixed}`);

  // The table: Insns 15 vs 22, +7, +46.67%; verdicts differ.
  const insns = page.getByTestId('compare-table').locator('tr[data-metric=insnsProcessed] td');
  await expect(insns).toHaveText(['Insns', '15', '22', '+7', '+46.67%']);
  await expect(page.getByTestId('compare-table')).toContainText('rejected → accepted');
  // Both findings.
  await expect(page.getByTestId('finding-a')).toContainText(/leak|reference/i);
  await expect(page.getByTestId('finding-b')).toContainText('accepted');

  // Opened on the first divergence: marked and selected in both panes, graphs at those lines.
  for (const [side, line] of [['a', div.a], ['b', div.b]] as const) {
    const marked = page.getByTestId(`side-${side}`).locator('[data-testid=log-pane] .row.mark');
    await expect(marked).toHaveCount(1);
    await expect(marked).toHaveAttribute('data-line', String(line));
    await expect.poll(() => selLine(page, side)).toBe(line);
    await expect.poll(() => graphLine(page, side)).toBe(line);
  }
  await expect(page.getByTestId('divergence')).toContainText('first divergence');
  await page.waitForTimeout(500);
  await page.screenshot({ path: join(SHOTS, 'compare-view.png') });

  // j moves both sides to the next aligned pair; k comes back.
  const next = await call<{ a: number; b: number }>(host, 'alignedStep', { a: broken, b: fixed, pair: 0, side: 'a', line: div.a, at: div.index, direction: 'next' });
  await page.keyboard.press('j');
  await expect.poll(() => selLine(page, 'a')).toBe(next.a);
  await expect.poll(() => selLine(page, 'b')).toBe(next.b);
  await expect.poll(() => graphLine(page, 'b')).toBe(next.b);
  await page.keyboard.press('k');
  await expect.poll(() => selLine(page, 'a')).toBe(div.a);
  await expect.poll(() => selLine(page, 'b')).toBe(div.b);
  // Stepping from the other side (after a click in B's log) moves A too.
  await page.getByTestId('side-b').locator(`[data-testid=log-pane] .row[data-line="${div.b}"]`).click();
  await page.keyboard.press('j');
  await expect.poll(() => selLine(page, 'b')).toBe(next.b);
  await expect.poll(() => selLine(page, 'a')).toBe(next.a);
  // The divergence link jumps back there.
  await page.getByTestId('to-divergence').click();
  await expect.poll(() => selLine(page, 'a')).toBe(div.a);

  // Export the table as Markdown (downloaded by the page).
  const mdDl = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Export table…' }).click();
  await page.getByTestId('export-md').click();
  const md = readFileSync((await (await mdDl).path()) as string, 'utf8');
  expect(md).toMatch(/\| *15 *\| *22 *\|/);

  // Swap: B becomes A.
  await page.getByTestId('swap').click();
  await expect(page).toHaveURL(new RegExp(`#/compare/${fixed}/${broken}$`));
  await expect(insns).toHaveText(['Insns', '22', '15', '-7', '-31.82%']);
  await expect.poll(() => selLine(page, 'a')).toBe(div.b);
  await expect.poll(() => selLine(page, 'b')).toBe(div.a);
  await page.screenshot({ path: join(SHOTS, 'compare-swapped.png') });
});

test('export the graph at the selected step as SVG from the run view', async ({ page }) => {
  const runs = await call<{ id: number; sourceName: string }[]>(host, 'listRuns', {});
  const run = runs.find((r) => r.sourceName === 'leak_obj.bpftool.log');
  expect(run).toBeTruthy();
  await page.goto(`${host.url}#/run/${run?.id}`);
  await expect(page.getByTestId('graph').locator('g.node').first()).toBeVisible();
  const labels = await page.getByTestId('graph').locator('g.node.k-local-object, g.node.k-kernel-object').evaluateAll((ns) => ns.map((n) => n.getAttribute('data-label') ?? ''));
  expect(labels.length).toBeGreaterThan(0);
  const dl = page.waitForEvent('download');
  await page.getByTestId('graph').getByTestId('export-button').click();
  await page.screenshot({ path: join(SHOTS, 'export-menu.png') });
  await page.getByTestId('export-svg').click();
  const download = await dl;
  expect(download.suggestedFilename()).toMatch(/\.svg$/);
  const svg = readFileSync((await download.path()) as string, 'utf8');
  // It parses (the page's own XML parser) and names the objects' types.
  const parsed = await page.evaluate((text) => {
    const doc = new DOMParser().parseFromString(text, 'image/svg+xml');
    return { error: doc.getElementsByTagName('parsererror').length, root: doc.documentElement.nodeName, text: doc.documentElement.textContent ?? '' };
  }, svg);
  expect(parsed.error).toBe(0);
  expect(parsed.root).toBe('svg');
  for (const l of labels) expect(parsed.text).toContain(l.split(' ')[0]);
  await expect(page.getByTestId('status')).toContainText(`downloaded ${download.suggestedFilename()}`);
});
