/**
 * Stand-alone entry for `kptrscope capture` (used by scripts/capture-kernels.sh and the booting test
 * until and besides the command's registration in the CLI):
 *
 *   node bin/run-ts.mjs src-main/hosts/cli/run-capture.ts <obj.bpf.o>... [capture options]
 *
 * Contract: the same command, options, output and exit statuses as `kptrscope capture` (it registers
 * the very same command on a fresh commander program).
 */
import { Command, CommanderError } from 'commander';
import { registerCaptureCommand } from './capture-command.ts';

const io = {
  out: (s: string) => void process.stdout.write(s),
  err: (s: string) => void process.stderr.write(s),
  stderrIsTty: Boolean(process.stderr.isTTY),
};
let status = 0;
const program = new Command('kptrscope')
  .exitOverride()
  .configureOutput({ writeOut: io.out, writeErr: io.err })
  .showHelpAfterError();
registerCaptureCommand(program, io, (c) => (status = c));
try {
  await program.parseAsync(['capture', ...process.argv.slice(2)], { from: 'user' });
} catch (e) {
  if (e instanceof CommanderError) status = e.exitCode === 0 ? 0 : 2;
  else {
    io.err(`kptrscope: internal error: ${(e as Error).stack ?? String(e)}\n`);
    status = 70;
  }
}
process.exitCode = status;
