/**
 * The `kptrscope` command line. A contract other tools rely on: commands, flags and `--json` shapes
 * are fixed by the issues; add, don't rename.
 *
 *   kptrscope ingest <log>... [--btf <file>]... [--kernel <release>] [--db <path>] [--json]
 *   kptrscope runs [--db <path>] [--json]
 *   kptrscope show <run-id> [--program <name>] [--kind <k,...>] [--db <path>] [--json]
 *
 * stdout carries results only (one JSON document with --json); progress and errors go to stderr.
 * Exit status: 0 ok, 1 bad input or a failed ingest (each file is all-or-nothing), 2 usage error.
 */
import { seriesOfRelease } from '../../app/matrix.ts';
import { objectOf } from '../../app/library.ts';
import { pathStories, type PathStory } from '../../app/paths.ts';
import { Command, CommanderError } from 'commander';
import { existsSync, statSync } from 'node:fs';
import type { Store } from '../../store/types.ts';
import { ingestLog, replayLog, type IngestResult } from '../../app/ingest.ts';
import { RECORD_KINDS, kindFromCode } from '../../domain/log/records.ts';
import { recordFromStored } from '../../domain/log/stored-lines.ts';
import { programOfLine } from '../../domain/log/program-ranges.ts';
import { createProgressBar } from './progress.ts';
import { collect, programJson, runBtfRefused } from './json-shapes.ts';
import { registerCaptureCommand } from './capture-command.ts';
import { registerMatrixCommand } from './matrix-command.ts';
import { registerCiCommand } from './ci-command.ts';
import { registerCopyCommand } from './copy-command.ts';
import { registerExportCommand, planCompareExport, writeCompareExport, ExportUsageError } from './export-command.ts';
import { compareRuns } from '../../app/compare.ts';
import { registerServeCommand } from './serve-command.ts';
import { replayRun, type ReplayRunResult } from '../../app/replay.ts';
import { isKnownError, UsageError, withStore, type CliIo } from './io.ts';
import { fmtProgramLine, printComparison, printReplay, replayJson } from './text-output.ts';

export type { CliIo };

const defaultIo: CliIo = {
  out: (s) => process.stdout.write(s),
  err: (s) => process.stderr.write(s),
  stderrIsTty: Boolean(process.stderr.isTTY),
};

async function cmdIngest(
  io: CliIo,
  logs: string[],
  o: { btf?: string[]; kernel?: string; db?: string; json?: boolean; chunkSize?: string; replay?: boolean; tag?: string[] },
): Promise<number> {
  const btf = o.btf ?? [];
  // --btf pairs with the logs in order when there is one per log; otherwise every BTF goes with every log.
  const paired = btf.length === logs.length && logs.length > 1;
  const results: IngestResult[] = [];
  const errors: { file: string; message: string }[] = [];
  await withStore(o.db, async (store) => {
    for (const [i, log] of logs.entries()) {
      let size = 0;
      try {
        size = statSync(log).size;
      } catch {
        /* reported by ingestLog */
      }
      const bar = size > 4 * 1024 * 1024 && (io.stderrIsTty || process.env.KPTRSCOPE_PROGRESS === '1') ? createProgressBar(io.err, log, size) : null;
      try {
        const r = await ingestLog(store, log, {
          btf: paired ? [btf[i] as string] : btf,
          kernel: o.kernel ?? null,
          tags: o.tag ?? [],
          ...(o.replay ? { replay: {} } : {}),
          chunkSize: o.chunkSize ? Number(o.chunkSize) : undefined,
          onProgress: bar ? (p) => bar.update(p.bytesRead) : undefined,
        });
        bar?.done();
        results.push(r);
        const refused = r.programs.filter((p) => p.btfRefused).map((p) => p.name);
        if (refused.length > 0) {
          io.err(`kptrscope: warning: ${log}: the kernel refused the object's BTF; ${refused.join(', ')} ${refused.length === 1 ? 'was' : 'were'} loaded (and is judged) without it\n`);
        }
        if (!o.json) {
          io.out(
            `run ${r.runId}  ${r.source}${r.kernel ? `  kernel ${r.kernel}` : ''}  ${r.lines} lines, ${r.unknownLines} unknown` +
              `${r.duplicate ? '  (already ingested: same content)' : ''}\n`,
          );
          for (const p of r.programs) io.out(fmtProgramLine(p));
          for (const b of r.btf) io.out(`  btf ${b.id}: ${b.source} (${b.format}, ${b.typeCount} types)\n`);
        }
      } catch (e) {
        bar?.done();
        if (!isKnownError(e)) throw e;
        errors.push({ file: log, message: e.message });
        io.err(`kptrscope: ${e.message}\n`);
      }
    }
  });
  if (o.json) {
    const doc: Record<string, unknown> = {
      runs: results.map((r) => ({
        id: r.runId,
        source: r.source,
        kernel: r.kernel,
        duplicate: r.duplicate,
        lines: r.lines,
        unknownLines: r.unknownLines,
        btfRefused: runBtfRefused(r.programs),
        programs: r.programs.map(programJson),
        btf: r.btf.map((b) => ({ id: b.id, source: b.source, format: b.format, types: b.typeCount })),
      })),
    };
    if (errors.length > 0) doc.errors = errors;
    io.out(JSON.stringify(doc, null, 2) + '\n');
  }
  return errors.length > 0 ? 1 : 0;
}

function cmdRuns(io: CliIo, o: { db?: string; json?: boolean; tag?: string; object?: string; kernel?: string }): Promise<number> {
  return withStore(o.db, async (store) => {
    const runs = [];
    const allTags = await store.allRunTags();
    for (const r of await store.listRuns()) {
      const tags = allTags.get(r.id) ?? [];
      if (o.tag !== undefined && !tags.includes(o.tag)) continue;
      if (o.kernel !== undefined && !(r.kernel === o.kernel || (r.kernel !== null && seriesOfRelease(r.kernel) === o.kernel))) continue;
      if (o.object !== undefined) {
        const object = objectOf(r.sourceName, (await store.runBtfFiles(r.id)).map((b) => b.source));
        if (object !== o.object.replace(/(\.bpf)?\.o$/, '')) continue;
      }
      runs.push({ run: r, tags, programs: await store.getPrograms(r.id) });
    }
    if (o.json) {
      io.out(
        JSON.stringify(
          {
            runs: runs.map(({ run, tags, programs }) => ({
              id: run.id,
              source: run.source,
              kernel: run.kernel,
              createdAt: run.createdAt,
              lines: run.lines,
              unknownLines: run.unknownLines,
              formats: run.formats,
              btfRefused: runBtfRefused(programs),
              tags,
              programs: programs.map(programJson),
            })),
          },
          null,
          2,
        ) + '\n',
      );
    } else if (runs.length === 0) {
      io.out('no runs yet: kptrscope ingest <log> [--btf <file>]\n');
    } else {
      for (const { run, tags, programs } of runs) {
        const verdicts = programs.map((p) => `${p.name}:${p.verdict}`).join(' ');
        io.out(`${String(run.id).padStart(4)}  ${run.createdAt.slice(0, 19).replace('T', ' ')}  ${run.kernel ?? '-'}  ${run.sourceName}  ${verdicts}${tags.length ? `  [${tags.join(', ')}]` : ''}\n`);
      }
    }
    return 0;
  });
}

async function* storedLines(store: Store, runId: number, from?: number, count?: number) {
  for await (const batch of store.readLines(runId, from, count)) yield* batch;
}

function cmdShow(io: CliIo, runIdText: string, o: { program?: string; kind?: string; db?: string; json?: boolean }): Promise<number> {
  const runId = Number(runIdText);
  if (!Number.isInteger(runId) || runId <= 0) throw new UsageError(`run id must be a positive integer, got "${runIdText}"`);
  const kinds = o.kind ? new Set(o.kind.split(',').map((k) => k.trim())) : null;
  if (kinds) {
    for (const k of kinds) if (!(RECORD_KINDS as readonly string[]).includes(k)) throw new UsageError(`unknown record kind "${k}" (one of: ${RECORD_KINDS.join(', ')})`);
  }
  return withStore(o.db, async (store) => {
    const run = await store.getRun(runId);
    if (!run) throw new UsageError(`no run ${runId} in this database (see: kptrscope runs)`);
    const programs = await store.getPrograms(runId);
    const selected = o.program ? programs.filter((p) => p.name === o.program) : programs;
    if (o.program && selected.length === 0) {
      throw new UsageError(`run ${runId} has no program "${o.program}" (programs: ${programs.map((p) => p.name).join(', ') || 'none'})`);
    }
    const wanted = (code: number) => !kinds || kinds.has(kindFromCode(code));
    if (o.json) {
      // Streamed: a run can hold millions of records.
      io.out(`{"run":${JSON.stringify({ id: run.id, source: run.source, kernel: run.kernel, lines: run.lines, unknownLines: run.unknownLines, formats: run.formats })},"programs":[`);
      for (const [pi, p] of selected.entries()) {
        io.out(`${pi > 0 ? ',' : ''}\n{"program":${JSON.stringify({ ...programJson(p), index: p.index, firstLine: p.firstLine, lastLine: p.lastLine, stats: p.stats, errorClasses: p.errorClasses, logLevel: p.logLevel, kernelHints: p.kernelHints, wrapper: p.wrapper })},"records":[`);
        let first = true;
        if (p.lines > 0) {
          for await (const l of storedLines(store, runId, p.firstLine, p.lastLine - p.firstLine + 1)) {
            if (!wanted(l.kind)) continue;
            io.out(`${first ? '' : ','}\n${JSON.stringify(recordFromStored(l, p.index))}`);
            first = false;
          }
        }
        io.out(']}');
      }
      io.out('\n]}\n');
      return 0;
    }
    io.out(`run ${run.id}  ${run.source}  ${run.lines} lines, ${run.unknownLines} unknown${run.kernel ? `, kernel ${run.kernel}` : ''}\n`);
    if (o.program) {
      for (const p of selected) {
        io.out(fmtProgramLine(p));
        for await (const l of storedLines(store, runId, p.firstLine, p.lastLine - p.firstLine + 1)) {
          if (wanted(l.kind)) io.out(`${String(l.line).padStart(7)} ${kindFromCode(l.kind).padEnd(16)} ${l.text}\n`);
        }
      }
    } else {
      for (const p of programs) io.out(fmtProgramLine(p));
      for await (const l of storedLines(store, runId)) {
        if (wanted(l.kind)) io.out(`${String(l.line).padStart(7)} ${kindFromCode(l.kind).padEnd(16)} ${programOfLine(programs, l.line) >= 0 ? '' : '(run) '}${l.text}\n`);
      }
    }
    return 0;
  });
}

async function cmdReplay(
  io: CliIo,
  target: string,
  o: { btf?: string[]; kernel?: string; kernelProfile?: string; db?: string; json?: boolean; force?: boolean; program?: string[] },
): Promise<number> {
  return withStore(o.db, async (store) => {
    let result = await replayTarget(store, target, o);
    if (o.program?.length) {
      const names = new Set(result.programs.map((p) => p.program.name));
      for (const n of o.program) if (!names.has(n)) throw new UsageError(`--program ${n}: no such program in this run (it has: ${[...names].join(', ')})`);
      result = { ...result, programs: result.programs.filter((p) => o.program?.includes(p.program.name)) };
    }
    const source = (await store.getRun(result.runId))?.source ?? target;
    if (o.json) io.out(JSON.stringify(replayJson(result), null, 2) + '\n');
    else {
      const paths = new Map<number, PathStory[]>();
      for (const pr of result.programs) paths.set(pr.program.index, await pathStories(store, result.runId, pr));
      printReplay(io, result, source, paths);
    }
    return 0;
  });
}

async function replayTarget(store: Store, target: string, o: { btf?: string[]; kernel?: string; kernelProfile?: string; force?: boolean }): Promise<ReplayRunResult> {
  if (/^\d+$/.test(target) && !existsSync(target)) {
    if (o.btf?.length) throw new UsageError('--btf goes with a log file; a stored run already has its BTF');
    return replayRun(store, Number(target), { kernelProfile: o.kernelProfile, force: o.force ?? false });
  }
  return (await replayLog(store, target, { btf: o.btf ?? [], kernel: o.kernel ?? null, kernelProfile: o.kernelProfile })).replay;
}

async function resolveRun(store: Store, target: string, btf: string[], kernelProfile: string | undefined): Promise<number> {
  if (/^\d+$/.test(target) && !existsSync(target)) {
    if (!(await store.getRun(Number(target)))) throw new UsageError(`no run ${target} in this database (see: kptrscope runs)`);
    return Number(target);
  }
  const r = await replayLog(store, target, { btf, kernelProfile });
  return r.ingest.runId;
}

async function cmdCompare(
  io: CliIo,
  a: string,
  b: string,
  o: { btf?: string[]; kernelProfile?: string; db?: string; json?: boolean; format?: string; output?: string },
): Promise<number> {
  const plan = planCompareExport(o);
  const btf = o.btf ?? [];
  return withStore(o.db, async (store) => {
    // --btf pairs with the logs in order: the first with a, the second with b (one alone goes with both).
    const btfA = btf.length >= 2 ? [btf[0] as string] : btf;
    const btfB = btf.length >= 2 ? [btf[1] as string] : btf;
    const runA = await resolveRun(store, a, btfA, o.kernelProfile);
    const runB = await resolveRun(store, b, btfB, o.kernelProfile);
    const c = await compareRuns(store, runA, runB, { kernelProfile: o.kernelProfile });
    if (plan) {
      writeCompareExport(io, c, plan);
      return 0;
    }
    if (o.json) io.out(JSON.stringify(c, null, 2) + '\n');
    else printComparison(io, c);
    return 0;
  });
}


export async function main(argv: string[], io: CliIo = defaultIo): Promise<number> {
  let status = 0;
  const program = new Command('kptrscope')
    .description('Open BPF verifier logs and BTF, store them, and replay kptr ownership.')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) })
    .showHelpAfterError();

  program
    .command('ingest')
    .description('ingest verifier logs (raw kernel text, bpftool -d/libbpf, veristat -v, cilium/ebpf) and their BTF')
    .argument('<log...>', 'log files')
    .option('--btf <file>', 'BTF of the program: bpftool btf dump text or -j JSON, raw .BTF blob, or the .bpf.o (repeatable)', collect)
    .option('--kernel <release>', 'kernel release the log comes from, e.g. 6.18.4')
    .option('--db <path>', 'database file or postgresql:// URL (default: $KPTRSCOPE_DB, else your data dir)')
    .option('--json', 'print one JSON document on stdout')
    .option('--replay', 'also replay every program through the ownership model (in the same pass; see: kptrscope replay)')
    .option('--tag <name>', 'store this tag on the run, e.g. a git commit (repeatable)', collect)
    .addOption(new Command().createOption('--chunk-size <bytes>', 'read chunk size (testing)').hideHelp())
    .action(async (logs: string[], o) => {
      status = await cmdIngest(io, logs, o);
    });

  program
    .command('runs')
    .description('list the stored runs')
    .option('--tag <name>', 'only runs with this tag')
    .option('--object <name>', 'only runs of this object (its file name, e.g. qdisc_fifo.bpf.o or qdisc_fifo)')
    .option('--kernel <release|series>', 'only runs of this kernel release, or series (7.3)')
    .option('--db <path>', 'database file or postgresql:// URL (default: $KPTRSCOPE_DB, else your data dir)')
    .option('--json', 'print one JSON document on stdout')
    .action(async (o) => {
      status = await cmdRuns(io, o);
    });

  program
    .command('show')
    .description("print a stored run's programs and parsed records")
    .argument('<run-id>', 'run id (see: kptrscope runs)')
    .option('--program <name>', 'only this program')
    .option('--kind <kinds>', `only these record kinds, comma-separated (${RECORD_KINDS.join(', ')})`)
    .option('--db <path>', 'database file or postgresql:// URL (default: $KPTRSCOPE_DB, else your data dir)')
    .option('--json', 'print one JSON document on stdout')
    .action(async (runId: string, o) => {
      status = await cmdShow(io, runId, o);
    });

  program
    .command('replay')
    .description("replay a log (ingested first) or a stored run through the ownership model and check it against the kernel")
    .argument('<log|run-id>', 'a log file, or the id of a stored run')
    .option('--btf <file>', 'BTF of the program (with a log file; repeatable)', collect)
    .option('--kernel <release>', 'kernel release the log comes from (with a log file)')
    .option('--kernel-profile <x.y>', "re-judge under an older kernel's rules, e.g. 6.6 (default: newest)")
    .option('--force', 'replay again even if a stored replay exists')
    .option('--program <name>', 'only show this program (repeatable)', collect)
    .option('--db <path>', 'database file or postgresql:// URL (default: $KPTRSCOPE_DB, else your data dir)')
    .option('--json', 'print one JSON document on stdout')
    .action(async (target: string, o) => {
      status = await cmdReplay(io, target, o);
    });

  program
    .command('compare')
    .description('compare two runs side by side: kernel figures with deltas, where the walks part ways, both findings')
    .argument('<a>', 'a log file or a stored run id')
    .argument('<b>', 'a log file or a stored run id')
    .option('--btf <file>', 'BTF for the logs, paired in order (repeatable)', collect)
    .option('--kernel-profile <x.y>', 'kernel profile for the replays (default: newest)')
    .option('--format <md|csv>', 'write the comparison as Markdown or CSV (with -o)')
    .option('-o, --output <file>', 'file to write the comparison to (with --format)')
    .option('--db <path>', 'database file or postgresql:// URL (default: $KPTRSCOPE_DB, else your data dir)')
    .option('--json', 'print one JSON document on stdout')
    .action(async (a: string, b: string, o) => {
      status = await cmdCompare(io, a, b, o);
    });

  registerExportCommand(program, io, (c) => (status = c));
  registerCaptureCommand(program, io, (c) => (status = c));
  registerMatrixCommand(program, io, (c) => (status = c));
  registerCiCommand(program, io, (c) => (status = c));
  registerCopyCommand(program, io, (c) => (status = c));
  registerServeCommand(program, io, (c) => (status = c));

  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) {
      return e.exitCode === 0 ? 0 : 2;
    }
    if (e instanceof UsageError || e instanceof ExportUsageError) {
      io.err(`kptrscope: ${e.message}\n`);
      return 2;
    }
    if (isKnownError(e)) {
      io.err(`kptrscope: ${e.message}\n`);
      return 1;
    }
    io.err(`kptrscope: internal error: ${(e as Error).stack ?? String(e)}\n`);
    return 70;
  }
  return status;
}
