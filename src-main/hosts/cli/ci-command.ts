/**
 * `kptrscope ci report --tag T --baseline B [--format md|json] [-o file] [--max-insns-growth <percent>]`:
 * the CI gate over stored runs (app/ci-report.ts). Markdown (the PR comment) by default, JSON with
 * `--format json`; to stdout, or to `-o`. Exit status: 0 pass, 1 regression, 2 error (usage, a tag
 * without runs, a database that cannot be opened).
 * `kptrscope ci run <obj.bpf.o|log>... --kernel <spec>... --tag T --baseline B [report options]`:
 * captures (or ingests) everything under tag T, then the same report: on SQLite in this process;
 * on PostgreSQL the objects go through the capture queue (fleet-command.ts: this process works
 * `-j N` jobs at a time, other workers may take some) and it waits for all of them.
 */
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { isKnownError, UsageError, withStore, type CliIo } from './io.ts';
import { ciReport, ciReportMarkdown, CiReportError } from '../../app/ci-report.ts';
import { CaptureAborted } from '../../app/capture.ts';
import { collect } from './json-shapes.ts';
import { objectsAmong, runsOf, withCaptureSignals } from './runs-of.ts';
import { jobsOption, registerFleetCommands, runQueuedCaptures, storeUrl } from './fleet-command.ts';

interface ReportOpts {
  tag: string;
  baseline: string;
  format: string;
  output?: string;
  maxInsnsGrowth: string;
  db?: string;
}

function checkReportOpts(o: ReportOpts): number {
  if (!['md', 'json'].includes(o.format)) throw new UsageError(`--format must be md or json, got "${o.format}"`);
  const growth = Number(o.maxInsnsGrowth);
  if (!Number.isFinite(growth) || growth < 0) throw new UsageError(`--max-insns-growth must be a percentage ≥ 0, got "${o.maxInsnsGrowth}"`);
  return growth;
}

/** Runs `work` (captures, ingests) and prints the report; the exit status as the gate says. */
async function gate(io: CliIo, o: ReportOpts, work: (signal: AbortSignal) => Promise<void>, setStatus: (code: number) => void): Promise<void> {
  const growth = checkReportOpts(o);
  try {
    await withCaptureSignals(work);
    const r = await withStore(o.db, (store) => ciReport(store, { tag: o.tag, baseline: o.baseline, maxInsnsGrowth: growth }));
    const text = o.format === 'json' ? JSON.stringify(r, null, 2) + '\n' : ciReportMarkdown(r);
    if (o.output !== undefined) writeFileSync(o.output, text);
    else io.out(text);
    setStatus(r.summary.regressions > 0 ? 1 : 0);
  } catch (e) {
    if (e instanceof CiReportError || e instanceof CaptureAborted || isKnownError(e)) {
      io.err(`kptrscope: ${(e as Error).message}\n`);
      setStatus(2);
      return;
    }
    throw e;
  }
}

function reportOptions(c: Command): Command {
  return c
    .requiredOption('--tag <name>', 'the runs to judge (e.g. this commit)')
    .requiredOption('--baseline <name>', 'the runs to compare with (e.g. the target branch)')
    .option('--format <md|json>', 'Markdown (a PR comment; default) or JSON', 'md')
    .option('-o, --output <file>', 'write the report to this file instead of stdout')
    .option('--max-insns-growth <percent>', 'instructions processed may grow by this much before it is a regression', '20')
    .option('--db <path>', 'database file or postgresql:// URL (default: $KPTRSCOPE_DB, else your data dir)');
}

export function registerCiCommand(program: Command, io: CliIo, setStatus: (code: number) => void): void {
  const ci = program.command('ci').description('the CI gate: compare the runs of one tag with a baseline tag');
  reportOptions(
    ci.command('report').description('compare every (object, program, kernel series) of --tag with --baseline: verdict flips, new findings, instruction growth'),
  ).action(async (o: ReportOpts) => gate(io, o, async () => {}, setStatus));
  reportOptions(
    ci
      .command('run')
      .description('capture the objects on every --kernel (or ingest logs) under --tag, here and now, then report against --baseline')
      .argument('<items...>', 'BPF objects (captured on each --kernel) or logs')
      .option('--kernel <spec>', 'kernel to capture on (repeatable): host, 6.12, 7.3-cloud, …', collect)
      .option('-j, --jobs <n>', 'on a PostgreSQL store: captures at once in this process (other workers may take jobs too)', '1'),
  ).action(async (items: string[], o: ReportOpts & { kernel?: string[]; jobs: string }) =>
    gate(io, o, async (signal) => {
      await withStore(o.db, async (store) => {
        const objects = objectsAmong(items);
        // On PostgreSQL the objects go through the queue (any worker may capture them); logs are ingested here.
        if (store.kind === 'postgresql' && objects.length > 0) {
          const jobs = jobsOption(o.jobs);
          const p = await runQueuedCaptures(io, store, storeUrl(o.db), { objects, kernels: o.kernel ?? ['host'], tag: o.tag, jobs }, signal);
          if (p.failed > 0) throw new CiReportError(`${p.failed} of ${p.total} capture job(s) under ${o.tag} failed for good`);
          await runsOf(io, store, items.filter((x) => !objects.includes(x)), { tag: [o.tag] }, signal);
        } else {
          await runsOf(io, store, items, { kernel: o.kernel ?? [], tag: [o.tag] }, signal);
        }
      });
    }, setStatus),
  );
  registerFleetCommands(program, ci, io, setStatus);
}
