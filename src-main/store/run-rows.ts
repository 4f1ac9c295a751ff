/**
 * Row ⇄ record mapping of the `runs` table, shared by every backend.
 */
import type { RunRow } from './types.ts';

export interface RawRunRow {
  id: number;
  source: string;
  source_name: string;
  sha256: string;
  size_bytes: number;
  formats: string;
  kernel: string | null;
  kernel_hints: string;
  line_count: number;
  unknown_lines: number;
  crlf_lines: number;
  created_at: string;
}

export function toRun(r: RawRunRow): RunRow {
  return {
    id: r.id,
    source: r.source,
    sourceName: r.source_name,
    sha256: r.sha256,
    sizeBytes: r.size_bytes,
    formats: JSON.parse(r.formats) as string[],
    kernel: r.kernel,
    kernelHints: JSON.parse(r.kernel_hints) as string[],
    lines: r.line_count,
    unknownLines: r.unknown_lines,
    crlfLines: r.crlf_lines,
    createdAt: r.created_at,
  };
}

/** (run, tag) rows in run then tag order, as each run's tags. */
export function tagsByRun(rows: readonly { run_id: number; tag: string }[]): Map<number, string[]> {
  const out = new Map<number, string[]>();
  for (const r of rows) {
    const list = out.get(r.run_id);
    if (list) list.push(r.tag);
    else out.set(r.run_id, [r.tag]);
  }
  return out;
}
