/**
 * `kptrscope export <log|run-id> [--btf <file>]... [--kernel <release>] [--kernel-profile <x.y>]
 *   [--program <name>] [--at <insn>|--final|--error] [--object <id>]
 *   --format svg|png|dot|mermaid|json -o <file> [--db <path>]`
 *
 * Draws the ownership graph of a program at one instruction (default: the error if the model
 * rejects it, else the end of the longest path; the export service chooses) or, with `--object`,
 * that model object's lifetime as a sequence diagram (svg | mermaid), and writes it to the `-o` file
 * — and only there: no other file is created, a directory or a missing directory is refused before
 * any work. A log file is ingested (and replayed) into the database first, as `replay` does.
 *
 * Contract: stdout gets one line `wrote <file> (<format>[, W×H px])`; errors go to stderr as
 * `kptrscope: <message>`. Exit status (via `setStatus`): 0 written; 1 bad input (unknown run or
 * program, instruction not executed, unreadable log/BTF, unwritable output); 2 usage errors.
 */
import { collect } from './json-shapes.ts';
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { isKnownError, withStore, type CliIo } from './io.ts';
import { replayLog } from '../../app/ingest.ts';
import { ExportError, objectLifetime, ownershipDiagram, type StepChoice } from '../../app/export.ts';
import type { Comparison } from '../../app/compare.ts';
import {
  COMPARE_FORMATS,
  ExportFileError,
  GRAPH_FORMATS,
  LIFETIME_FORMATS,
  checkExportPath,
  pngSize,
  renderComparison,
  renderGraph,
  renderLifetime,
  svgSize,
  writeExportFile,
  type CompareFormat,
  type GraphFormat,
  type LifetimeFormat,
} from '../../render/index.ts';

export interface ExportCommandOptions {
  btf?: string[];
  kernel?: string;
  kernelProfile?: string;
  program?: string;
  at?: string;
  final?: boolean;
  error?: boolean;
  object?: string;
  format?: string;
  output?: string;
  db?: string;
}

/** A usage error (exit status 2); every other export error is bad input (status 1). */
export class ExportUsageError extends Error {
  override name = 'ExportUsageError';
}


interface Plan {
  target: string;
  format: GraphFormat | LifetimeFormat;
  output: string;
  object: number | null;
  choice: StepChoice;
}

/** Validate the flags (no I/O besides checking the output path). */
export function planExport(target: string, o: ExportCommandOptions): Plan {
  if (!o.format) throw new ExportUsageError(`--format is required (${GRAPH_FORMATS.join(', ')})`);
  if (!o.output) throw new ExportUsageError('-o <file> is required: exports are written to the file you name');
  const picks = [o.at !== undefined, Boolean(o.final), Boolean(o.error)].filter(Boolean).length;
  if (picks > 1) throw new ExportUsageError('give at most one of --at <insn>, --final, --error');
  let object: number | null = null;
  if (o.object !== undefined) {
    if (!/^\d+$/.test(o.object) || Number(o.object) <= 0) throw new ExportUsageError(`--object must be a model object id (a positive integer, see: kptrscope replay --json), got "${o.object}"`);
    object = Number(o.object);
    if (picks > 0) throw new ExportUsageError('--object draws the whole lifetime of an object: it does not take --at, --final or --error');
    if (!(LIFETIME_FORMATS as readonly string[]).includes(o.format)) throw new ExportUsageError(`a lifetime (--object) exports as ${LIFETIME_FORMATS.join(' or ')}, not "${o.format}"`);
  } else if (!(GRAPH_FORMATS as readonly string[]).includes(o.format)) {
    throw new ExportUsageError(`unknown --format "${o.format}" (one of: ${GRAPH_FORMATS.join(', ')})`);
  }
  let choice: StepChoice = 'default';
  if (o.at !== undefined) {
    if (!/^\d+$/.test(o.at)) throw new ExportUsageError(`--at must be an instruction index (a non-negative integer), got "${o.at}"`);
    choice = { at: Number(o.at) };
  } else if (o.final) choice = { final: true };
  else if (o.error) choice = { error: true };
  const why = checkExportPath(o.output);
  if (why) throw new ExportFileError(why);
  return { target, format: o.format as GraphFormat | LifetimeFormat, output: o.output, object, choice };
}

export async function runExport(io: CliIo, target: string, o: ExportCommandOptions): Promise<number> {
  const plan = planExport(target, o);
  return withStore(o.db, async (store) => {
    let runId: number;
    if (/^\d+$/.test(target) && !existsSync(target)) {
      if (o.btf?.length) throw new ExportUsageError('--btf goes with a log file; a stored run already has its BTF');
      runId = Number(target);
      if (!(await store.getRun(runId))) throw new ExportError(`no run ${runId} in this database (see: kptrscope runs)`);
    } else {
      const r = await replayLog(store, target, { btf: o.btf ?? [], kernel: o.kernel ?? null, kernelProfile: o.kernelProfile });
      runId = r.ingest.runId;
    }
    let bytes: Buffer;
    if (plan.object !== null) {
      const l = await objectLifetime(store, { runId, object: plan.object, ...(o.program !== undefined ? { program: o.program } : {}), ...(o.kernelProfile !== undefined ? { kernelProfile: o.kernelProfile } : {}) });
      bytes = renderLifetime(plan.format as LifetimeFormat, l);
    } else {
      const d = await ownershipDiagram(store, { runId, choice: plan.choice, ...(o.program !== undefined ? { program: o.program } : {}), ...(o.kernelProfile !== undefined ? { kernelProfile: o.kernelProfile } : {}) });
      bytes = await renderGraph(plan.format as GraphFormat, d.snapshot, d.title);
    }
    writeExportFile(plan.output, bytes);
    let dims = '';
    if (plan.format === 'png') {
      const s = pngSize(bytes);
      dims = `, ${s.width}×${s.height} px`;
    } else if (plan.format === 'svg') {
      const s = svgSize(bytes.toString('utf8'));
      dims = `, ${s.width}×${s.height} px`;
    }
    io.out(`wrote ${plan.output} (${plan.object !== null ? `lifetime of object ${plan.object}, ` : ''}${plan.format}${dims})\n`);
    return 0;
  });
}

export function registerExportCommand(program: Command, io: CliIo, setStatus: (code: number) => void): void {
  program
    .command('export')
    .description('draw the ownership graph at an instruction (or an object\'s lifetime) as svg, png, dot, mermaid or json')
    .argument('<log|run-id>', 'a log file (ingested first), or the id of a stored run')
    .option('--btf <file>', 'BTF of the program (with a log file; repeatable)', collect)
    .option('--kernel <release>', 'kernel release the log comes from (with a log file)')
    .option('--kernel-profile <x.y>', "judge with an older kernel's rules, e.g. 6.6 (default: newest)")
    .option('--program <name>', 'program to draw (default: the first rejected one, else the first)')
    .option('--at <insn>', 'draw the state after this instruction (its first execution on the replayed walk)')
    .option('--final', 'draw the end of the longest path')
    .option('--error', 'draw the state at the error')
    .option('--object <id>', "draw this model object's lifetime as a sequence diagram (svg or mermaid)")
    .option('--format <format>', `${GRAPH_FORMATS.join(' | ')} (lifetime: ${LIFETIME_FORMATS.join(' | ')})`)
    .option('-o, --output <file>', 'the file to write (its directory must exist)')
    .option('--db <path>', 'database file or postgresql:// URL (default: $KPTRSCOPE_DB, else your data dir)')
    .action(async (target: string, o: ExportCommandOptions) => {
      try {
        setStatus(await runExport(io, target, o));
      } catch (e) {
        if (e instanceof ExportUsageError) {
          io.err(`kptrscope: ${e.message}\n`);
          setStatus(2);
        } else if (isKnownError(e)) {
          io.err(`kptrscope: ${e.message}\n`);
          setStatus(1);
        } else throw e;
      }
    });
}

// ---------------------------------------------------------------------------------------------
// `kptrscope compare <a> <b> … --format md|csv -o <file>`

export interface CompareExportPlan {
  format: CompareFormat;
  output: string;
}

/**
 * The compare command's export flags, checked before any work: null when neither --format nor -o
 * is given (print as before). Throws ExportUsageError (status 2) for a format other than md|csv, one
 * flag without the other, or --format with --json; ExportFileError (status 1) for a directory or a
 * missing directory.
 */
export function planCompareExport(o: { format?: string; output?: string; json?: boolean }): CompareExportPlan | null {
  if (o.format === undefined && o.output === undefined) return null;
  if (o.format === undefined) throw new ExportUsageError(`-o needs --format ${COMPARE_FORMATS.join('|')}`);
  if (!(COMPARE_FORMATS as readonly string[]).includes(o.format)) throw new ExportUsageError(`a comparison exports as ${COMPARE_FORMATS.join(' or ')}, not "${o.format}"`);
  if (o.output === undefined) throw new ExportUsageError(`--format ${o.format} needs -o <file>: exports are written to the file you name`);
  if (o.json) throw new ExportUsageError('give either --json (stdout) or --format with -o (a file), not both');
  const why = checkExportPath(o.output);
  if (why) throw new ExportFileError(why);
  return { format: o.format as CompareFormat, output: o.output };
}

/** Write the comparison to the planned file and say so on stdout. */
export function writeCompareExport(io: Pick<CliIo, 'out'>, c: Comparison, plan: CompareExportPlan): void {
  writeExportFile(plan.output, renderComparison(plan.format, c));
  io.out(`wrote ${plan.output} (${plan.format}, ${c.programs.length} program${c.programs.length === 1 ? '' : 's'})\n`);
}
