/**
 * `kptrscope copy --from <db> --to <db> [--tag T]... [--json]`: copies runs between stores — an
 * SQLite file and a PostgreSQL server, either way, or two of either (app/copy-runs.ts): every run
 * (or only those with one of the tags) the target does not hold yet, whole, one transaction each.
 * Progress goes to stderr; `--json` prints `{ from, to, copied, alreadyThere, runs: [{ sha256,
 * sourceName, fromId, toId, copied, replays }] }` (locations without their passwords).
 * Exit status: 0 ok, 1 a store cannot be opened or a run cannot be copied, 2 usage.
 */
import type { Command } from 'commander';
import { isKnownError, UsageError, withStore, type CliIo } from './io.ts';
import { copyRuns } from '../../app/copy-runs.ts';
import { collect } from './json-shapes.ts';

export function registerCopyCommand(program: Command, io: CliIo, setStatus: (code: number) => void): void {
  program
    .command('copy')
    .description('copy runs between stores (SQLite file ⇄ postgresql:// server), losing nothing')
    .requiredOption('--from <db>', 'the store to copy from (a database file or postgresql:// URL)')
    .requiredOption('--to <db>', 'the store to copy to (created and migrated when new)')
    .option('--tag <name>', 'only runs with this tag (repeatable)', collect)
    .option('--json', 'print one JSON document on stdout')
    .action(async (o: { from: string; to: string; tag?: string[]; json?: boolean }) => {
      if (o.from === o.to) throw new UsageError('--from and --to are the same store');
      try {
        const result = await withStore(o.from, (from) =>
          withStore(o.to, async (to) => {
            const runs = await copyRuns(from, to, {
              tags: o.tag ?? [],
              onRun: (r) => io.err(`${r.copied ? 'copied' : 'already there'}: run ${r.fromId} (${r.sourceName}) → run ${r.toId}${r.copied ? `, ${r.replays} replay(s)` : ''}\n`),
            });
            return { from: from.location, to: to.location, runs };
          }),
        );
        const copied = result.runs.filter((r) => r.copied).length;
        if (o.json) {
          io.out(JSON.stringify({ from: result.from, to: result.to, copied, alreadyThere: result.runs.length - copied, runs: result.runs }, null, 2) + '\n');
        } else {
          io.out(`${copied} run(s) copied, ${result.runs.length - copied} already there: ${result.from} → ${result.to}\n`);
        }
        setStatus(0);
      } catch (e) {
        if (!isKnownError(e)) throw e;
        io.err(`kptrscope: ${e.message}\n`);
        setStatus(1);
      }
    });
}
