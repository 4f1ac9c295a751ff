#!/usr/bin/env node
// Runs a TypeScript entry file with tsx's loader registered (used by npm scripts and bin/kptrscope.mjs).
import { register } from 'tsx/esm/api';
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';

register();
const entry = process.argv[2];
if (!entry) {
  process.stderr.write('usage: run-ts.mjs <file.ts> [args...]\n');
  process.exit(2);
}
process.argv.splice(1, 2, resolve(entry));
await import(pathToFileURL(resolve(entry)).href);
