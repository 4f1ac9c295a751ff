/**
 * End-to-end, and the pictures of docs/walkthrough-qdisc.md: one skb through the FIFO qdisc captured
 * on Debian's 7.3.4 kernel (test/fixtures/progs/7x/qdisc_fifo.bpf.c), in the browser host. enqueue:
 * the skb is owned from instruction 0, a node is allocated, the skb is stashed in the node's kptr,
 * the node is pushed on the list; dequeue: the node is popped, the skb taken back out, the node
 * dropped, the skb returned to the kernel. At each step the graph shows exactly that edge.
 * Screenshots go to test-results/e2e/qdisc-*.png, and to docs/screenshots/qdisc/ with
 * KPTRSCOPE_DOC_SHOTS=1 (how the walkthrough's images are made).
 */
import { type Page } from '@playwright/test';
import { test, expect } from './helpers/csp-watch.ts';
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO, startHost, openViaInputs, type Host } from './helpers/host.ts';

const D = join(REPO, 'test', 'fixtures', 'logs', '7.3');
const SHOTS = process.env.KPTRSCOPE_DOC_SHOTS === '1' ? join(REPO, 'docs', 'screenshots', 'qdisc') : join(REPO, 'test-results', 'e2e');

let host: Host;

test.beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  host = await startHost(join(mkdtempSync(join(tmpdir(), 'kptrscope-e2e-qdisc-')), 'e2e.db'));
});

test.afterAll(async () => {
  expect(await host.stop()).toBe(0);
});

async function selectedInsn(page: Page): Promise<number> {
  const head = await page.getByTestId('state-pane').locator('.head').innerText();
  return Number(/insn (\d+)/.exec(head)?.[1] ?? -1);
}

async function jump(page: Page, insn: number): Promise<void> {
  await page.keyboard.press('g');
  await page.getByTestId('jump').fill(String(insn));
  await page.getByTestId('jump').press('Enter');
  await expect.poll(() => selectedInsn(page)).toBe(insn);
}

const edges = (page: Page, kind: string) => page.locator(`[data-testid=graph] path.edge[data-kind="${kind}"]`);
const node = (page: Page, label: string) => page.locator(`[data-testid=graph] g.node[data-label^="${label}"]`);

test('one skb through the FIFO qdisc on 7.3: owned, stashed in a node, queued, popped, taken back, returned', async ({ page }) => {
  await openViaInputs(page, host, join(D, 'qdisc_fifo.bpftool.log'), join(D, 'qdisc_fifo.bpf.o'), readFileSync(join(D, 'KERNEL'), 'utf8').trim());
  await expect(page.getByTestId('finding')).toContainText('accepted tailq_enqueue');

  // enqueue, insn 0: the kernel hands the program a referenced skb (refs=1 in its first state).
  await jump(page, 0);
  await expect(node(page, 'sk_buff')).toHaveCount(1);
  await page.screenshot({ path: join(SHOTS, 'qdisc-1-enqueue-owned.png') });
  // insn 9: bpf_obj_new's node is in R0 (and the skb still in R8).
  await jump(page, 9);
  await expect(node(page, 'pkt_slot')).toHaveCount(1);
  await page.screenshot({ path: join(SHOTS, 'qdisc-2-node-allocated.png') });
  // insn 26: bpf_kptr_xchg stashed the skb in the node's kptr field.
  await jump(page, 26);
  await expect(edges(page, 'stashed')).toHaveCount(1);
  await page.screenshot({ path: join(SHOTS, 'qdisc-3-skb-stashed.png') });
  // insn 38: bpf_list_push_back gave the node (with its skb) to the list under the lock.
  await jump(page, 38);
  await expect(node(page, 'fifo_slots')).toHaveCount(1);
  await expect(edges(page, 'stashed')).toHaveCount(1);
  await page.screenshot({ path: join(SHOTS, 'qdisc-4-node-pushed.png') });

  // dequeue (the run's second program).
  await page.getByLabel('program').selectOption({ label: 'tailq_dequeue — accepted' });
  await expect(page.getByTestId('finding')).toContainText('accepted tailq_dequeue');
  await jump(page, 7);
  await expect(node(page, 'pkt_slot')).toHaveCount(1);
  await page.screenshot({ path: join(SHOTS, 'qdisc-5-node-popped.png') });
  await jump(page, 17);
  await expect(node(page, 'sk_buff')).toHaveCount(1);
  await page.screenshot({ path: join(SHOTS, 'qdisc-6-skb-taken-back.png') });
  await jump(page, 20);
  await expect(node(page, 'pkt_slot')).toHaveCount(0);
  await page.screenshot({ path: join(SHOTS, 'qdisc-7-node-dropped.png') });
  await jump(page, 36);
  await expect(node(page, 'sk_buff')).toHaveCount(1);
  await page.screenshot({ path: join(SHOTS, 'qdisc-8-skb-returned.png') });
});
