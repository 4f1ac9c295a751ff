/**
 * End-to-end on real Linux 7.3 captures, in the browser host: the kernel's own diagnostic (7.3's
 * `Verification failed:` blocks) shows beside kptrscope's finding with its instructions as links,
 * and an object whose BTF the kernel refused gets a banner saying the program was judged without
 * it. Screenshots: test-results/e2e/kernel-diagnostic.png, btf-refused.png.
 */
import { type Page } from '@playwright/test';
import { test, expect } from './helpers/csp-watch.ts';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO, startHost, openViaInputs, type Host } from './helpers/host.ts';

const LOGS = join(REPO, 'test', 'fixtures', 'logs');
const SHOTS = join(REPO, 'test-results', 'e2e');

let host: Host;

test.beforeAll(async () => {
  host = await startHost(join(mkdtempSync(join(tmpdir(), 'kptrscope-e2e-7x-')), 'e2e.db'));
});

test.afterAll(async () => {
  expect(await host.stop()).toBe(0);
});

async function selectedInsn(page: Page): Promise<number> {
  const head = await page.getByTestId('state-pane').locator('.head').innerText();
  return Number(/insn (\d+)/.exec(head)?.[1] ?? -1);
}

test("7.3: two leaked objects — the kernel's two diagnostics agree with the finding, and their instructions are links", async ({ page }) => {
  await openViaInputs(page, host, join(LOGS, '7.3', 'leak_two.bpftool.log'), join(LOGS, '7.3', 'leak_two.bpf.o'));
  const finding = page.getByTestId('finding');
  await expect(finding).toContainText('flow_key');
  const diag = page.getByTestId('kernel-diagnostic');
  await expect(diag).toBeVisible();
  await expect(diag).toContainText("The kernel's diagnostic: Resource Lifetime Safety: Unreleased resource");
  await expect(diag).toContainText('acquired at');
  // The model names both objects the kernel says leak: no disagreement is shown.
  await expect(page.getByTestId('diagnostic-disagreement')).toHaveCount(0);
  // The last block is about the second object (acquired at insn 11): its link selects that instruction.
  const acquired = diag.locator('button.link[data-insn="11"]');
  await expect(acquired).toBeVisible();
  await acquired.click();
  await expect.poll(() => selectedInsn(page)).toBe(11);
  await page.screenshot({ path: join(SHOTS, 'kernel-diagnostic.png'), fullPage: false });
});

test('a refused BTF: a banner says the program is judged without it', async ({ page }) => {
  await openViaInputs(page, host, join(LOGS, '7.3', 'own_cycle.bpftool.log'), join(LOGS, '7.3', 'own_cycle.bpf.o'));
  const banner = page.getByTestId('btf-refused');
  await expect(banner).toBeVisible();
  await expect(banner).toContainText("refused this object's BTF");
  await expect(page.getByTestId('finding')).toContainText('requires prog BTF');
  await page.screenshot({ path: join(SHOTS, 'btf-refused.png'), fullPage: false });
});

test('6.18: no diagnostic block, no banner', async ({ page }) => {
  await openViaInputs(page, host, join(LOGS, '6.18', 'leak_obj.bpftool.log'), join(LOGS, '6.18', 'leak_obj.btf.txt'));
  await expect(page.getByTestId('finding')).toContainText('pkt_sample');
  await expect(page.getByTestId('kernel-diagnostic')).toHaveCount(0);
  await expect(page.getByTestId('btf-refused')).toHaveCount(0);
});
