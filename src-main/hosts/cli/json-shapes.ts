/**
 * JSON shapes shared by CLI commands (the `--json` contract): one program of `ingest --json`, also
 * used by `runs --json`, `show --json` and `capture --json`. Add fields, never rename them.
 */
import type { ProgramSummary } from '../../domain/log/program-state.ts';

export function programJson(p: ProgramSummary) {
  return {
    name: p.name,
    verdict: p.verdict,
    error: p.error,
    failInsn: p.verdict === 'rejected' ? p.failInsn : null,
    insnsProcessed: p.stats.insnsProcessed ?? null,
    lines: p.lines,
    unknownLines: p.unknownLines,
    truncation: p.truncation,
    loaderError: p.loaderError,
    btfRefused: p.btfRefused,
    blockedBy: p.blockedBy,
  };
}

/** A run's `btfRefused`: some program of it was loaded without the object's BTF. */
export function runBtfRefused(programs: readonly ProgramSummary[]): boolean {
  return programs.some((p) => p.btfRefused);
}

/** Repeatable commander option: `--btf a --btf b` → ['a', 'b']. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
