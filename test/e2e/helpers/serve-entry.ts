/**
 * `kptrscope serve` without the rest of the CLI: used by the e2e suite and bench-app only while
 * src-main/cli.ts does not register the serve command yet (see helpers/host.ts).
 */
import { Command } from 'commander';
import { registerServeCommand } from '../../../src-main/cli/serve-command.ts';

let status = 0;
const program = new Command('kptrscope').exitOverride();
registerServeCommand(program, { out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s) }, (c) => (status = c));
await program.parseAsync(process.argv.slice(2), { from: 'user' });
process.exitCode = status;
