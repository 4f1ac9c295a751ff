#!/usr/bin/env node
// The `kptrscope` command: registers the TypeScript loader and runs src-main/hosts/cli/main.ts.
import { register } from 'tsx/esm/api';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';

register();
// `kptrscope show … | head` closes stdout early: stop quietly instead of a stack trace.
process.stdout.on('error', (e) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});
const here = dirname(fileURLToPath(import.meta.url));
const { main } = await import(pathToFileURL(join(here, '..', 'src-main', 'hosts', 'cli', 'main.ts')).href);
process.exitCode = await main(process.argv.slice(2));
