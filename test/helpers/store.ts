/**
 * Test helpers for the store: a fresh SQLite store in a temp dir (or at a path), and the stored
 * lines / typed records of a run as plain arrays.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../../src-main/store/sqlite/sqlite-store.ts';
import type { StoredLine } from '../../src-main/store/types.ts';
import type { LogRecord } from '../../src-main/domain/log/records.ts';
import { recordFromStored } from '../../src-main/domain/log/stored-lines.ts';
import type { ProgramSummary } from '../../src-main/domain/log/program-state.ts';

/** A new SQLite store (in a fresh temp dir unless `path` is given). */
export function testStore(path?: string): SqliteStore {
  return SqliteStore.open(path ?? join(mkdtempSync(join(tmpdir(), 'kptrscope-test-')), 'test.db'));
}

export async function linesOf(store: { readLines: SqliteStore['readLines'] }, runId: number, from?: number, count?: number): Promise<StoredLine[]> {
  const out: StoredLine[] = [];
  for await (const batch of store.readLines(runId, from, count)) out.push(...batch);
  return out;
}

/** The typed records of one stored program (as the replay reads them). */
export async function recordsOf(store: { readLines: SqliteStore['readLines'] }, runId: number, p: ProgramSummary): Promise<LogRecord[]> {
  if (p.lines === 0) return [];
  return (await linesOf(store, runId, p.firstLine, p.lastLine - p.firstLine + 1)).map((l) => recordFromStored(l, p.index));
}
