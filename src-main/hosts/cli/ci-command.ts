/**
 * `kptrscope ci report --tag T --baseline B [--format md|json] [-o file] [--max-insns-growth <percent>]`:
 * the CI gate over stored runs (app/ci-report.ts). Markdown (the PR comment) by default, JSON with
 * `--format json`; to stdout, or to `-o`. Exit status: 0 pass, 1 regression, 2 error (usage, a tag
 * without runs, a database that cannot be opened).
 */
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { isKnownError, UsageError, withStore, type CliIo } from './io.ts';
import { defaultStoreLocation } from '../../store/open-store.ts';
import { ciReport, ciReportMarkdown, CiReportError } from '../../app/ci-report.ts';

export function registerCiCommand(program: Command, io: CliIo, setStatus: (code: number) => void): void {
  const ci = program.command('ci').description('the CI gate: compare the runs of one tag with a baseline tag');
  ci.command('report')
    .description('compare every (object, program, kernel series) of --tag with --baseline: verdict flips, new findings, instruction growth')
    .requiredOption('--tag <name>', 'the runs to judge (e.g. this commit)')
    .requiredOption('--baseline <name>', 'the runs to compare with (e.g. the target branch)')
    .option('--format <md|json>', 'Markdown (a PR comment; default) or JSON', 'md')
    .option('-o, --output <file>', 'write the report to this file instead of stdout')
    .option('--max-insns-growth <percent>', 'instructions processed may grow by this much before it is a regression', '20')
    .option('--db <path>', `database file (default: ${defaultStoreLocation()})`)
    .action(async (o: { tag: string; baseline: string; format: string; output?: string; maxInsnsGrowth: string; db?: string }) => {
      if (!['md', 'json'].includes(o.format)) throw new UsageError(`--format must be md or json, got "${o.format}"`);
      const growth = Number(o.maxInsnsGrowth);
      if (!Number.isFinite(growth) || growth < 0) throw new UsageError(`--max-insns-growth must be a percentage ≥ 0, got "${o.maxInsnsGrowth}"`);
      try {
        const r = await withStore(o.db, (store) => ciReport(store, { tag: o.tag, baseline: o.baseline, maxInsnsGrowth: growth }));
        const text = o.format === 'json' ? JSON.stringify(r, null, 2) + '\n' : ciReportMarkdown(r);
        if (o.output !== undefined) writeFileSync(o.output, text);
        else io.out(text);
        setStatus(r.summary.regressions > 0 ? 1 : 0);
      } catch (e) {
        if (e instanceof CiReportError || isKnownError(e)) {
          io.err(`kptrscope: ${(e as Error).message}\n`);
          setStatus(2);
          return;
        }
        throw e;
      }
    });
}
