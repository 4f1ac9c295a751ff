/** Test helper: parse a file with the streaming parser at a given chunk size, collecting everything. */
import { readFileLines } from '../../src-main/app/read-files.ts';
import { LogParser, type ParseTotals } from '../../src-main/domain/log/log-parser.ts';
import type { LogRecord } from '../../src-main/domain/log/records.ts';
import type { ProgramSummary } from '../../src-main/domain/log/program-state.ts';

export interface Parsed {
  records: LogRecord[];
  programs: ProgramSummary[];
  totals: ParseTotals;
}

export async function parseFile(path: string, chunkSize = 1 << 20): Promise<Parsed> {
  const records: LogRecord[] = [];
  const programs: ProgramSummary[] = [];
  const parser = new LogParser({ record: (r) => records.push(r), program: (p) => programs.push(p) });
  await readFileLines(path, (l) => parser.push(l), { chunkSize });
  const totals = parser.finish();
  return { records, programs, totals };
}

export function parseText(text: string): Parsed {
  const records: LogRecord[] = [];
  const programs: ProgramSummary[] = [];
  const parser = new LogParser({ record: (r) => records.push(r), program: (p) => programs.push(p) });
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  lines.forEach((t, i) => parser.push({ no: i + 1, text: t, raw: Buffer.from(t + '\n'), crlf: false, unterminated: false }));
  const totals = parser.finish();
  return { records, programs, totals };
}
