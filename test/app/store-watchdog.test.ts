/**
 * The store worker's watchdog (src-main/api/worker-client.ts) with a real worker thread and a real
 * database: a regular-expression search that backtracks catastrophically on a long line (a real
 * capture with one crafted 40 000-character line appended) is stopped after its budget with a plain
 * message; the requests queued behind it are answered by the fresh worker; searching works again.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../../src-main/store/db.ts';
import { ingestLog } from '../../src-main/services/ingest-service.ts';
import { StoreClient } from '../../src-main/api/worker-client.ts';
import type { RunInfo } from '../../src-main/api/contract.ts';

const FIX = join(__dirname, '..', 'fixtures', 'logs', '6.18');
let client: StoreClient;
let runId: number;

beforeAll(async () => {
  process.env.KPTRSCOPE_SEARCH_BUDGET_MS = '700';
  const dir = mkdtempSync(join(tmpdir(), 'kptrscope-watchdog-'));
  const log = join(dir, 'leak_obj-with-long-line.log');
  writeFileSync(log, readFileSync(join(FIX, 'leak_obj.bpftool.log'), 'latin1') + `${'a'.repeat(40_000)}!\n`, 'latin1');
  const dbPath = join(dir, 'w.db');
  const db = openDatabase(dbPath);
  runId = (await ingestLog(db, log, {})).runId;
  db.close();
  client = await StoreClient.start(dbPath);
});

afterAll(async () => {
  delete process.env.KPTRSCOPE_SEARCH_BUDGET_MS;
  await client.close();
});

describe('store worker watchdog', () => {
  it('stops a runaway regex search, answers the queued requests, and searches again', async () => {
    const h = client.handlers();
    const t0 = Date.now();
    const runaway = Promise.resolve(h.search({ runId, program: -1, query: '(a+)+$', regex: true, caseSensitive: true, fromLine: 1, direction: 'next' })).then(
      () => 'finished',
      (e: Error) => e.message,
    );
    // Queued behind it in the (blocked) worker:
    const queued = h.getRun({ runId }) as Promise<RunInfo>;
    const listed = h.listRuns({}) as Promise<RunInfo[]>;
    expect(await runaway).toMatch(/^the search was stopped after 0\.7 s \(a regular expression that backtracks\?\); try a simpler pattern$/);
    expect(Date.now() - t0).toBeLessThan(15_000);
    expect((await queued).id).toBe(runId);
    expect((await listed).map((r) => r.id)).toEqual([runId]);
    const ok = await h.search({ runId, program: -1, query: 'Unreleased reference', regex: false, caseSensitive: false, fromLine: 1, direction: 'next' });
    expect((ok as { match: { line: number } | null }).match?.line).toBeGreaterThan(0);
  });
});
