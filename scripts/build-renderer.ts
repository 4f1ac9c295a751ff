/**
 * Builds the renderer with vite.renderer.config.ts into dist/renderer. Run directly
 * (`npm run build:renderer`) or imported by `kptrscope serve` / scripts/start.mjs when the build is
 * missing. `rendererIsStale()` says whether any source is newer than the built index.html.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('..', import.meta.url));

function newest(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

export function rendererIsStale(): boolean {
  const index = join(repo, 'dist', 'renderer', 'index.html');
  if (!existsSync(index)) return true;
  const built = statSync(index).mtimeMs;
  const sources = Math.max(newest(join(repo, 'src-renderer')), statSync(join(repo, 'vite.renderer.config.ts')).mtimeMs, newest(join(repo, 'src-main', 'contract')), statSync(join(repo, 'src-main', 'hosts', 'csp.ts')).mtimeMs);
  return sources > built;
}

export async function buildRenderer(opts: { quiet?: boolean } = {}): Promise<void> {
  const { build } = await import('vite');
  await build({ configFile: join(repo, 'vite.renderer.config.ts'), logLevel: opts.quiet ? 'error' : 'warn' });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const t0 = Date.now();
  await buildRenderer();
  process.stdout.write(`renderer built in ${((Date.now() - t0) / 1000).toFixed(1)} s → dist/renderer\n`);
}
