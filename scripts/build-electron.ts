/**
 * Builds the Electron entry points with Vite (SSR/library mode): src-main/hosts/electron/main.ts →
 * dist/electron/main.js (ESM; node builtins, electron and node_modules stay external) and
 * src-main/hosts/electron/preload.ts → dist/electron/preload.cjs (one CommonJS file, as sandboxed preloads must
 * be). The backend (SQLite) is not bundled: it runs from the sources under the system Node.
 */
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const repo = fileURLToPath(new URL('..', import.meta.url));

export async function buildElectron(): Promise<void> {
  const { build } = await import('vite');
  const common = { configFile: false as const, root: repo, logLevel: 'warn' as const, publicDir: false as const };
  await build({
    ...common,
    build: {
      ssr: join(repo, 'src-main', 'hosts', 'electron', 'main.ts'),
      outDir: join(repo, 'dist', 'electron'),
      emptyOutDir: true,
      target: 'node20',
      sourcemap: false,
      rollupOptions: { external: ['electron', 'better-sqlite3'], output: { format: 'es', entryFileNames: 'main.js' } },
    },
  });
  await build({
    ...common,
    build: {
      ssr: join(repo, 'src-main', 'hosts', 'electron', 'preload.ts'),
      outDir: join(repo, 'dist', 'electron'),
      emptyOutDir: false,
      target: 'node20',
      sourcemap: false,
      rollupOptions: { external: ['electron'], output: { format: 'cjs', entryFileNames: 'preload.cjs' } },
    },
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await buildElectron();
  process.stdout.write('electron entry points built → dist/electron\n');
}
