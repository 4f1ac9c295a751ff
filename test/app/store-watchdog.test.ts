/**
 * The store worker's watchdog (src-main/api/worker-client.ts) with a real worker thread and a real
 * database: a regular-expression search that backtracks catastrophically on a long line (a real
 * capture with one crafted 40 000-character line appended) is stopped after its budget with a plain
 * message; the requests queued behind it are answered by the fresh worker; searching works again.
 * The budget counts from when a search starts running, not from when it was queued; `close()`
 * answers whatever is still waiting at once.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testStore } from '../helpers/store.ts';
import { ingestLog } from '../../src-main/app/ingest.ts';
import { StoreClient } from '../../src-main/hosts/worker/worker-client.ts';
import type { RunInfo } from '../../src-main/contract/contract.ts';

const FIX = join(__dirname, '..', 'fixtures', 'logs', '6.18');
let client: StoreClient;
let runId: number;
let dbPath: string;

beforeAll(async () => {
  process.env.KPTRSCOPE_SEARCH_BUDGET_MS = '2500';
  const dir = mkdtempSync(join(tmpdir(), 'kptrscope-watchdog-'));
  const log = join(dir, 'leak_obj-with-long-line.log');
  writeFileSync(log, readFileSync(join(FIX, 'leak_obj.bpftool.log'), 'latin1') + `${'a'.repeat(25)}!\n${'b'.repeat(40_000)}!\n`, 'latin1');
  dbPath = join(dir, 'w.db');
  const db = testStore(dbPath);
  runId = (await ingestLog(db, log, {})).runId;
  await db.close();
  client = await StoreClient.start(dbPath);
});

afterAll(async () => {
  delete process.env.KPTRSCOPE_SEARCH_BUDGET_MS;
  await client.close();
});

describe('store worker watchdog', () => {
  it('counts the budget from when a search starts: slow searches queued together past the budget all finish', async () => {
    const h = client.handlers();
    // `(a+)+!z` never matches; on the 25 a's it backtracks for about half a second: inside the
    // 2.5 s budget alone, but enough of them queued together take longer than the budget.
    const slow = () => Promise.resolve(h.search({ runId, program: -1, query: '(a+)+!z', regex: true, caseSensitive: true, fromLine: 1, direction: 'next', budgetMs: 5000 }));
    let t0 = Date.now();
    await slow();
    const one = Date.now() - t0;
    expect(one, 'one slow search must fit the budget for this test to mean anything').toBeLessThan(2000);
    const n = Math.min(40, Math.ceil(4000 / Math.max(one, 50)) + 1);
    t0 = Date.now();
    const results = await Promise.allSettled(Array.from({ length: n }, slow));
    expect(Date.now() - t0).toBeGreaterThan(2500);
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
  }, 120_000);

  it('stops a runaway regex search, answers the queued requests, and searches again', async () => {
    const h = client.handlers();
    const t0 = Date.now();
    const runaway = Promise.resolve(h.search({ runId, program: -1, query: '(b+)+$', regex: true, caseSensitive: true, fromLine: 1, direction: 'next' })).then(
      () => 'finished',
      (e: Error) => e.message,
    );
    // Queued behind it in the (blocked) worker:
    const queued = h.getRun({ runId }) as Promise<RunInfo>;
    const listed = h.listRuns({}) as Promise<RunInfo[]>;
    expect(await runaway).toMatch(/^the search was stopped after 2\.5 s \(a regular expression that backtracks\?\); try a simpler pattern$/);
    expect(Date.now() - t0).toBeLessThan(15_000);
    expect((await queued).id).toBe(runId);
    expect((await listed).map((r) => r.id)).toEqual([runId]);
    const ok = await h.search({ runId, program: -1, query: 'Unreleased reference', regex: false, caseSensitive: false, fromLine: 1, direction: 'next' });
    expect((ok as { match: { line: number } | null }).match?.line).toBeGreaterThan(0);
  }, 60_000);

  it('close() answers every waiting request at once, runaway or queued', async () => {
    const own = await StoreClient.start(dbPath);
    const h = own.handlers();
    const runaway = Promise.resolve(h.search({ runId, program: -1, query: '(b+)+$', regex: true, caseSensitive: true, fromLine: 1, direction: 'next' })).then(
      () => 'finished',
      (e: Error) => e.message,
    );
    const queued = Promise.resolve(h.listRuns({})).then(
      () => 'finished',
      (e: Error) => e.message,
    );
    await new Promise((r) => setTimeout(r, 200));
    const t0 = Date.now();
    await own.close();
    expect(await runaway).toBe('the store was closed');
    expect(await queued).toBe('the store was closed');
    expect(Date.now() - t0).toBeLessThan(2000);
    await expect(Promise.resolve(h.listRuns({}))).rejects.toThrow('the store is closed');
  });
});
