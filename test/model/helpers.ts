/** Test helpers for the model: parse a fixture log and its program BTF, replay each program. */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseBtfText } from '../../src-main/domain/btf/bpftool-text.ts';
import { parseBtfBytes } from '../../src-main/domain/btf/btf-file-core.ts';
import { summarizeBtf } from '../../src-main/domain/btf/summarize.ts';
import { layoutFromSummary } from '../../src-main/domain/model/btf-summary-adapter.ts';
import type { LogRecord } from '../../src-main/domain/log/records.ts';
import type { ProgramSummary } from '../../src-main/domain/log/program-state.ts';
import { layoutFromBtf, type BtfLayout } from '../../src-main/domain/model/btf-layout.ts';
import { replayProgram, type ReplayContext } from '../../src-main/domain/model/replay.ts';
import type { ReplayResult } from '../../src-main/domain/model/types.ts';
import { LOGS_618 } from '../helpers/fixtures.ts';
import { parseFile } from '../helpers/parse.ts';

const layouts = new Map<string, BtfLayout>();

/** The program's BTF as the model gets it: a bpftool text dump parsed whole, or — for a `.bpf.o` —
 * the summary the app stores for it (summarizeBtf with the ELF's data layout), as `replay --btf` does. */
export function layoutFor(btfPath: string): BtfLayout | undefined {
  if (!existsSync(btfPath)) return undefined;
  let l = layouts.get(btfPath);
  if (!l) {
    if (btfPath.endsWith('.o')) {
      const loaded = parseBtfBytes(readFileSync(btfPath), btfPath);
      l = layoutFromSummary(summarizeBtf(loaded.btf, loaded.dataLayout ? { dataLayout: loaded.dataLayout } : {}));
    } else l = layoutFromBtf(parseBtfText(readFileSync(btfPath, 'utf8')));
    layouts.set(btfPath, l);
  }
  return l;
}

export interface ProgramRun {
  summary: ProgramSummary;
  records: LogRecord[];
  result: ReplayResult;
}

export function recordsOf(records: LogRecord[], program: number): LogRecord[] {
  return records.filter((r) => r.program === program);
}

export async function replayFile(
  path: string,
  btfTxt: string | undefined,
  opts: { kernelProfile?: string; filter?: (r: LogRecord) => boolean } = {},
): Promise<ProgramRun[]> {
  const { records, programs } = await parseFile(path);
  const layout = btfTxt ? layoutFor(btfTxt) : undefined;
  // The kernel that printed the log (the capture's KERNEL file): judged by that kernel's rules, as
  // the app does for a capture.
  const kernelFile = join(dirname(path), 'KERNEL');
  const kernel = existsSync(kernelFile) ? /^(\d+\.\d+)/.exec(readFileSync(kernelFile, 'utf8').trim())?.[1] : undefined;
  return programs.map((summary) => {
    let recs = recordsOf(records, summary.index);
    if (opts.filter) recs = recs.filter(opts.filter);
    const ctx: ReplayContext = { name: summary.name, section: summary.section, btfRefused: summary.btfRefused, structOps: summary.structOps };
    if (layout) ctx.btf = layout;
    if (kernel) ctx.logKernel = kernel;
    if (opts.kernelProfile ?? kernel) ctx.kernelProfile = opts.kernelProfile ?? kernel;
    return { summary, records: recs, result: replayProgram(recs, ctx) };
  });
}

export function fixtureBtf(prog: string): string {
  return join(LOGS_618, `${prog}.btf.txt`);
}

/** Strip what a truncated log would lose: the kernel's error text and the statistics. */
export function withoutVerdictLines(r: LogRecord): boolean {
  return r.kind !== 'error' && r.kind !== 'stats' && r.kind !== 'stats-time' && r.kind !== 'stats-stack';
}
