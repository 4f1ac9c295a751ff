#!/usr/bin/env node
// `npm start`: the desktop app when the Electron binary is installed, else the browser host
// (`kptrscope serve`) with a one-line notice. Builds the renderer (and the Electron entry points)
// first when their sources changed. Arguments go to `kptrscope serve` (e.g. --db, --port, --no-open);
// KPTRSCOPE_BROWSER_HOST=1 forces the browser host.
import { register } from 'tsx/esm/api';
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

register();
const root = fileURLToPath(new URL('..', import.meta.url));

function electronBinary() {
  try {
    const p = createRequire(import.meta.url)('electron');
    return typeof p === 'string' && existsSync(p) ? p : null;
  } catch {
    return null;
  }
}

const { buildRenderer, rendererIsStale } = await import('./build-renderer.ts');
if (rendererIsStale()) {
  process.stderr.write('kptrscope: building the renderer…\n');
  await buildRenderer({ quiet: true });
}

const electron = process.env.KPTRSCOPE_BROWSER_HOST === '1' ? null : electronBinary();
let child;
if (electron) {
  const { buildElectron } = await import('./build-electron.ts');
  await buildElectron();
  const args = [join(root, 'dist', 'electron', 'main.js')];
  child = spawn(electron, args, { stdio: 'inherit', env: { ...process.env, KPTRSCOPE_NODE: process.execPath } });
} else {
  process.stderr.write('kptrscope: no Electron binary here; starting the browser host instead (kptrscope serve)\n');
  child = spawn(process.execPath, [join(root, 'bin', 'kptrscope.mjs'), 'serve', ...process.argv.slice(2)], { stdio: 'inherit' });
}
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 0 : 1)));
