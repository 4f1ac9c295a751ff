/**
 * End-to-end: the browser host as a real process (`kptrscope serve`) on a temp database, Debian's
 * Chromium, real 6.18 captures. Opens logs + BTF through the page (file inputs and drag-and-drop),
 * reads the finding, steps through the bpf_kptr_xchg that stashes a task into a local kptr and
 * watches the edges move, searches, jumps, steps with the keyboard; checks the host's security
 * rules and that names from logs/BTF/files render as text. Screenshots: test-results/e2e/*.png.
 */
import { type Page } from '@playwright/test';
import { test, expect } from './helpers/csp-watch.ts';
import { mkdtempSync, readFileSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:http';
import { REPO, startHost, call, openViaInputs, type Host } from './helpers/host.ts';

const FIX = join(REPO, 'test', 'fixtures', 'logs', '6.18');
const SHOTS = join(REPO, 'test-results', 'e2e');
const STASH_LOG = join(FIX, 'local_kptr_stash.bpftool.log');
const STASH_BTF = join(FIX, 'local_kptr_stash.btf.txt');
const UAU_LOG = join(FIX, 'use_after_unlock.bpftool.log');
const UAU_BTF = join(FIX, 'use_after_unlock.btf.txt');

let host: Host;
let dir: string;

test.beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kptrscope-e2e-'));
  host = await startHost(join(dir, 'e2e.db'));
});

test.afterAll(async () => {
  const code = await host.stop();
  expect(code).toBe(0);
});

async function dropFiles(page: Page, files: { name: string; path: string }[]): Promise<void> {
  const payload = files.map((f) => ({ name: f.name, text: readFileSync(f.path, 'latin1') }));
  const dt = await page.evaluateHandle((items) => {
    const d = new DataTransfer();
    for (const it of items) d.items.add(new File([it.text], it.name, { type: 'text/plain' }));
    return d;
  }, payload);
  await page.dispatchEvent('body', 'dragover', { dataTransfer: dt });
  await page.dispatchEvent('body', 'drop', { dataTransfer: dt });
}

async function selectedInsn(page: Page): Promise<number> {
  const head = await page.getByTestId('state-pane').locator('.head').innerText();
  return Number(/insn (\d+)/.exec(head)?.[1] ?? -1);
}

async function selectedLine(page: Page): Promise<number> {
  return Number(await page.getByTestId('graph').getAttribute('data-line'));
}

/** The id of the graph node with this label (model object ids are the model's own numbers). */
async function nodeId(page: Page, label: string): Promise<string> {
  const n = page.locator(`[data-testid=graph] g.node[data-label="${label}"]`).first();
  await expect(n).toBeVisible();
  return (await n.getAttribute('data-id')) ?? '';
}

const edge = (page: Page, from: string, to: string, kind?: string) =>
  page.locator(`[data-testid=graph] path.edge[data-from="${from}"][data-to="${to}"]${kind ? `[data-kind="${kind}"]` : ''}`);

test('the host: first line, token on every request, CSP, traversal, validation', async () => {
  expect(host.firstLine).toMatch(/^kptrscope listening on http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]{64}$/);
  expect((await fetch(`${host.base}/`)).status).toBe(401);
  expect((await fetch(`${host.base}/?token=nope`)).status).toBe(403);
  expect((await fetch(`${host.base}/api/call/listRuns`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' })).status).toBe(401);
  expect((await fetch(`${host.base}/api/call/listRuns`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Kptrscope-Token': 'x'.repeat(64) }, body: '{}' })).status).toBe(403);
  const page = await fetch(`${host.url}`);
  expect(page.status).toBe(200);
  const csp = page.headers.get('content-security-policy') ?? '';
  expect(csp).toContain("script-src 'self'");
  expect(csp).toContain("frame-ancestors 'none'");
  expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|\*/);
  expect(page.headers.get('permissions-policy') ?? '').toMatch(/geolocation=\(\)/);
  expect(page.headers.get('set-cookie')).toMatch(/HttpOnly; SameSite=Strict/);
  const html = await page.text();
  expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
  // The built page carries the same policy as a meta tag (minus the header-only frame-ancestors).
  const meta = /<meta http-equiv="Content-Security-Policy" content="([^"]*)"/.exec(html)?.[1];
  expect(meta).toBe(csp.split('; ').filter((d) => !d.startsWith('frame-ancestors')).join('; '));
  for (const p of ['/assets/..%2f..%2fpackage.json', '/..%2fpackage.json', '/%2e%2e/%2e%2e/etc/passwd']) {
    const r = await fetch(`${host.base}${p}?token=${host.token}`);
    expect([403, 404]).toContain(r.status);
    expect(await r.text()).not.toContain('"name": "kptrscope"');
  }
  const bad = await fetch(`${host.base}/api/call/getRun`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Kptrscope-Token': host.token }, body: '{"runId":"1; DROP TABLE runs"}' });
  expect(bad.status).toBe(400);
  const unknown = await fetch(`${host.base}/api/call/evil`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Kptrscope-Token': host.token }, body: '{}' });
  expect(unknown.status).toBe(404);
  // DNS rebinding: a page served under another name reaching this port is refused.
  const foreignHost = await new Promise<number>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: host.port, path: `/?token=${host.token}`, headers: { Host: `evil.example:${host.port}` } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
  expect(foreignHost).toBe(403);
});

test('permission requests from the page are denied without a prompt', async ({ page }) => {
  await page.goto(host.url);
  await expect(page.getByText('Library')).toBeVisible();
  const states = await page.evaluate(async () => {
    const out: Record<string, string> = {};
    for (const name of ['geolocation', 'camera', 'microphone', 'midi'] as PermissionName[]) out[name] = (await navigator.permissions.query({ name })).state;
    return out;
  });
  expect(states).toEqual({ geolocation: 'denied', camera: 'denied', microphone: 'denied', midi: 'denied' });
});

test('open local_kptr_stash, see the finding, step through bpf_kptr_xchg into the local kptr', async ({ page }) => {
  await openViaInputs(page, host, STASH_LOG, STASH_BTF);
  await expect(page.getByTestId('finding')).toContainText('The kernel accepted record_spawn');
  // The ownership model is wired in: its column of the state pane is filled, no "pending" note.
  await expect(page.getByTestId('model-pending')).toHaveCount(0);
  await page.screenshot({ path: join(SHOTS, 'run-view-start.png') });

  // Jump to insn 20 (r2 = r0): R0 and R2 own task_struct #4.
  await page.keyboard.press('g');
  await page.getByTestId('jump').fill('20');
  await page.getByTestId('jump').press('Enter');
  await expect.poll(() => selectedInsn(page)).toBe(20);
  const task4 = await nodeId(page, 'task_struct #4');
  const rec2 = await nodeId(page, 'spawn_rec #2');
  await expect(edge(page, 'reg:0:R2', task4, 'owns')).toHaveCount(1);
  await expect(edge(page, 'reg:0:R0', task4, 'owns')).toHaveCount(1);
  await expect(edge(page, rec2, task4, 'stashed')).toHaveCount(0);
  await expect(page.getByTestId('state-pane')).toContainText('ptr_task_struct');
  await page.screenshot({ path: join(SHOTS, 'xchg-before.png') });

  // j: insn 21, `call bpf_kptr_xchg`: the reference leaves R2/R0 and sits in spawn_rec#2.task.
  await page.keyboard.press('j');
  await expect.poll(() => selectedInsn(page)).toBe(21);
  await expect(edge(page, 'reg:0:R2', task4)).toHaveCount(0);
  await expect(edge(page, 'reg:0:R0', task4)).toHaveCount(0);
  await expect(edge(page, rec2, task4, 'stashed')).toHaveCount(1);
  await expect(page.locator('[data-testid=graph] path.edge[data-kind=stashed]')).toHaveCount(1);
  await expect(page.getByTestId('graph-notes')).toContainText('stash: task_struct #4 from R0,R2 to spawn_rec#2.task');
  await expect(edge(page, 'reg:0:R0', await nodeId(page, 'task_struct #6'), 'owns')).toHaveCount(1);
  await page.waitForTimeout(400); // let the relayout settle for the screenshot
  await page.screenshot({ path: join(SHOTS, 'xchg-after.png') });

  // k goes back: R2 owns #4 again.
  await page.keyboard.press('k');
  await expect.poll(() => selectedInsn(page)).toBe(20);
  await expect(edge(page, 'reg:0:R2', task4, 'owns')).toHaveCount(1);

  // Click the task object: its lifetime from the model, each event a link to its instruction.
  await page.keyboard.press('j');
  await expect.poll(() => selectedInsn(page)).toBe(21);
  await page.locator(`[data-testid=graph] g.node[data-id="${task4}"]`).click();
  await expect(page.getByTestId('lifetime')).toContainText('stashed into spawn_rec#2.task');
  const first = page.getByTestId('lifetime').getByRole('button', { name: /^insn \d+$/ }).first();
  const firstInsn = Number((await first.innerText()).replace(/\D+/g, ''));
  await first.click();
  await expect.poll(() => selectedInsn(page)).toBe(firstInsn);
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('lifetime')).toHaveCount(0);
});

test('keyboard stepping: j/k by instruction, n/p by ownership event', async ({ page }) => {
  await page.goto(host.url);
  await page.getByRole('button', { name: 'local_kptr_stash.bpftool.log' }).click();
  await expect(page.getByTestId('run-view')).toBeVisible();
  await expect.poll(() => selectedInsn(page)).toBe(0);
  await page.keyboard.press('j');
  await expect.poll(() => selectedInsn(page)).toBe(1);
  await page.keyboard.press('j');
  await expect.poll(() => selectedInsn(page)).toBe(2);
  await page.keyboard.press('k');
  await expect.poll(() => selectedInsn(page)).toBe(1);
  // n: the model's next ownership event: the object allocated by bpf_obj_new_impl (insn 5), its
  // reference ending on the NULL branch of the check (7), the task acquired (11).
  await page.keyboard.press('n');
  await expect.poll(() => selectedInsn(page)).toBe(5);
  await page.keyboard.press('n');
  await expect.poll(() => selectedInsn(page)).toBe(7);
  await page.keyboard.press('n');
  await expect.poll(() => selectedInsn(page)).toBe(11);
  await page.keyboard.press('p');
  await expect.poll(() => selectedInsn(page)).toBe(7);
  // Source annotations folded: the log has fewer rows, the selection stays on its line.
  const before = await selectedLine(page);
  await page.keyboard.press('f');
  await expect(page.getByTestId('fold')).toBeChecked();
  await expect(page.locator('[data-testid=log-pane] .row.k-source')).toHaveCount(0);
  expect(await selectedLine(page)).toBe(before);
  await page.keyboard.press('f');
  await expect(page.locator('[data-testid=log-pane] .row.k-source').first()).toBeVisible();
});

test('search (text and regex, server-side) and jump', async ({ page }) => {
  await page.goto(host.url);
  await page.getByRole('button', { name: 'local_kptr_stash.bpftool.log' }).click();
  await expect.poll(() => selectedInsn(page)).toBe(0);
  await page.keyboard.press('/');
  await page.getByTestId('search').fill('bpf_spin_lock');
  await page.getByTestId('search').press('Enter');
  await expect(page.locator('[data-testid=log-pane] .row.sel')).toContainText('bpf_spin_lock');
  await expect(page.locator('[data-testid=log-pane] mark').first()).toHaveText('bpf_spin_lock');
  const first = await selectedLine(page);
  await page.getByTestId('search').press('Enter');
  await expect.poll(() => selectedLine(page)).toBeGreaterThan(first);
  await page.getByTestId('search').press('Shift+Enter');
  await expect.poll(() => selectedLine(page)).toBe(first);
  // Regex.
  await page.getByTestId('search-regex').check();
  await page.getByTestId('search').fill('call bpf_(task|cgroup)_release');
  await page.getByTestId('search').press('Enter');
  await expect(page.locator('[data-testid=log-pane] .row.sel')).toContainText(/call bpf_(task|cgroup)_release/);
  await page.getByTestId('search').fill('no_such_thing_anywhere');
  await page.getByTestId('search').press('Enter');
  await expect(page.getByTestId('status')).toContainText('no match');
  // Jump to an instruction, then to a line.
  await page.getByTestId('jump').fill('52');
  await page.getByTestId('jump').press('Enter');
  await expect.poll(() => selectedInsn(page)).toBe(52);
  await expect(page.locator('[data-testid=log-pane] .row.sel')).toContainText('bpf_list_push_back_impl');
  await page.getByTestId('jump').fill(':150');
  await page.getByTestId('jump').press('Enter');
  await expect.poll(() => selectedLine(page)).toBe(150);
  await page.screenshot({ path: join(SHOTS, 'search-jump.png') });
});

test('drag-and-drop use_after_unlock: the rejection with a link to the failing instruction', async ({ page }) => {
  await page.goto(host.url);
  await expect(page.getByTestId('runs')).toBeVisible();
  await dropFiles(page, [
    { name: 'use_after_unlock.bpftool.log', path: UAU_LOG },
    { name: 'use_after_unlock.btf.txt', path: UAU_BTF },
  ]);
  await expect(page.getByTestId('run-view')).toBeVisible();
  const finding = page.getByTestId('finding');
  await expect(finding).toContainText('The kernel rejected fire_first at instruction');
  await expect(finding).toContainText("R6 invalid mem access 'scalar'");
  const run = (await call<{ id: number; programs: { failInsn: number; failLine: number }[] }[]>(host, 'listRuns', {})).find((r) => r.programs[0]?.failInsn !== null);
  const failInsn = run?.programs[0]?.failInsn ?? -1;
  // The run opens on its finding; the failing line is marked in the log.
  await expect.poll(() => selectedInsn(page)).toBe(failInsn);
  await expect(page.locator('[data-testid=log-pane] .row.fail')).toHaveCount(1);
  // Move away, then follow the link back.
  await page.keyboard.press('k');
  await page.keyboard.press('k');
  await finding.locator(`button[data-insn="${failInsn}"]`).click();
  await expect.poll(() => selectedInsn(page)).toBe(failInsn);
  // e / E: the error line.
  await page.keyboard.press('e');
  await expect(page.locator('[data-testid=log-pane] .row.sel')).toHaveClass(/k-error/);
  // The non-owning references the rbtree add left are drawn as such.
  await page.getByTestId('jump').fill('23');
  await page.getByTestId('jump').press('Enter');
  await expect.poll(() => selectedInsn(page)).toBe(23);
  await expect(page.locator('[data-testid=graph] path.edge[data-kind="non-owning"]').first()).toBeVisible();
  await page.waitForTimeout(400);
  await page.screenshot({ path: join(SHOTS, 'use-after-unlock.png') });
});

test('library: filter, sort, delete', async ({ page }) => {
  await page.goto(host.url);
  const rows = page.locator('[data-testid=runs] tbody tr');
  await expect(rows).toHaveCount(2);
  await page.getByLabel('filter runs').fill('fire_first');
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toContainText('use_after_unlock');
  await page.getByLabel('filter runs').fill('');
  await page.getByRole('button', { name: /^Source file/ }).click();
  await expect(rows.first()).toContainText('local_kptr_stash');
  await page.getByRole('button', { name: /^Source file/ }).click();
  await expect(rows.first()).toContainText('use_after_unlock');
  await page.screenshot({ path: join(SHOTS, 'library.png') });
  page.once('dialog', (d) => void d.accept());
  await page.getByRole('button', { name: /^delete run/ }).first().click();
  await expect(rows).toHaveCount(1);
});

test('names from logs, BTF and files render as text, never as HTML', async ({ page }) => {
  const evil = '<img src=x onerror=alert(1)>';
  const xdir = mkdtempSync(join(dir, 'xss-'));
  const logPath = join(xdir, `${evil}.log`);
  copyFileSync(STASH_LOG, logPath);
  // A log line and a BTF struct named like markup.
  writeFileSync(logPath, readFileSync(STASH_LOG, 'utf8').replace('libbpf: loading local_kptr_stash.bpf.o', `libbpf: loading ${evil} <script>alert(2)</script>`));
  const btfPath = join(xdir, 'evil.btf.txt');
  writeFileSync(btfPath, readFileSync(STASH_BTF, 'utf8').replace("STRUCT 'spawn_rec'", `STRUCT '${evil}'`).replace('contains:spawn_rec:link', `contains:${evil}:link`));
  const dialogs: string[] = [];
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  await openViaInputs(page, host, logPath, btfPath);
  await expect(page.locator('.bar .src')).toHaveText(`${evil}.log`);
  // The BTF name shows in the list head's body line once the node is in the list, as text.
  await page.getByTestId('jump').fill('52');
  await page.getByTestId('jump').press('Enter');
  await expect.poll(() => selectedInsn(page)).toBe(52);
  await expect(page.locator('[data-testid=graph] text.body').filter({ hasText: `list of ${evil} (link)` })).toHaveCount(1);
  // The log line with markup, as text.
  await page.getByTestId('jump').fill(':1');
  await page.getByTestId('jump').press('Enter');
  await expect(page.locator('[data-testid=log-pane] .row[data-line="1"]')).toContainText(`${evil} <script>alert(2)</script>`);
  await page.getByRole('button', { name: 'kptrscope' }).click();
  await expect(page.getByRole('button', { name: `${evil}.log` })).toBeVisible();
  expect(await page.evaluate(() => document.querySelectorAll('img, script:not([src])').length)).toBe(0);
  expect(dialogs).toEqual([]);
});
