/**
 * `kptrscope matrix <obj.bpf.o|log|run-id>... [--kernel <spec>]... [--json] [--format md|csv -o <file>]`:
 * one program across kernels (app/matrix.ts).
 *
 * Contract: each argument becomes runs — an object (`*.o`) is captured on every `--kernel` (as
 * `kptrscope capture` does; `host` when none is given) and ingested; a log is ingested (with the
 * `KERNEL` file and the `<name>.bpf.o` beside it, when there are: the fixture and capture layout);
 * a number is a stored run. Then the matrix of all those runs is printed: a table (default), one
 * JSON document (`--json`: `{kernels, programs:[{object, sha256, name, cells:{<series>:{release,
 * verdict, insnsProcessed, finding, runId}}, differences:[{from, to, insn, rule, since}]}]}`), or
 * Markdown / CSV written to `-o`. Exit 0; 1 on bad input (a message naming it); 2 on usage errors.
 */
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { collect } from './json-shapes.ts';
import { isKnownError, UsageError, withStore, type CliIo } from './io.ts';
import { CaptureAborted } from '../../app/capture.ts';
import { runsOf, withCaptureSignals } from './runs-of.ts';
import { matrixOfRuns } from '../../app/matrix.ts';
import { matrixCsv, matrixMarkdown, matrixText } from '../../render/matrix-report.ts';

interface MatrixOpts {
  kernel?: string[];
  tag?: string[];
  db?: string;
  json?: boolean;
  format?: string;
  output?: string;
}

export function registerMatrixCommand(program: Command, io: CliIo, setStatus: (code: number) => void): void {
  program
    .command('matrix')
    .description('one program across kernels: capture (or take stored runs of) each object on each kernel, print verdicts per kernel series and explain every verdict that changes')
    .argument('<items...>', 'BPF objects (captured on each --kernel), logs (with KERNEL and NAME.bpf.o beside them, if any) or stored run ids')
    .option('--kernel <spec>', 'kernel to capture objects on (repeatable): host, 6.12, 7.3-cloud, … (see: kptrscope capture --list-kernels)', collect)
    .option('--tag <name>', 'store this tag on the runs it captures or ingests (repeatable)', collect)
    .option('--format <md|csv>', 'write the matrix as Markdown or CSV (with -o)')
    .option('-o, --output <file>', 'file to write the matrix to (with --format)')
    .option('--db <path>', 'database file or postgresql:// URL (default: $KPTRSCOPE_DB, else your data dir)')
    .option('--json', 'print one JSON document on stdout')
    .action(async (items: string[], o: MatrixOpts) => {
      if (o.format !== undefined && !['md', 'csv'].includes(o.format)) throw new UsageError(`--format must be md or csv, got "${o.format}"`);
      if ((o.format === undefined) !== (o.output === undefined)) throw new UsageError('--format and -o go together: --format md -o matrix.md');
      try {
        const m = await withCaptureSignals((signal) => withStore(o.db, async (store) => matrixOfRuns(store, await runsOf(io, store, items, o, signal))));
        if (o.format !== undefined && o.output !== undefined) {
          writeFileSync(o.output, o.format === 'md' ? matrixMarkdown(m) : matrixCsv(m));
          io.err(`matrix: ${m.programs.length} program(s) × ${m.kernels.length} kernel(s) written to ${o.output}\n`);
        }
        if (o.json) io.out(JSON.stringify(m, null, 2) + '\n');
        else if (o.format === undefined) io.out(matrixText(m));
        setStatus(0);
      } catch (e) {
        if (e instanceof UsageError) throw e;
        if (e instanceof CaptureAborted || isKnownError(e)) {
          io.err(`kptrscope: ${(e as Error).message}\n`);
          setStatus(1);
          return;
        }
        throw e;
      }
    });
}
