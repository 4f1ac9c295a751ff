/**
 * Vite build of the renderer (src-renderer → dist/renderer), shared by the browser host and
 * Electron. No inline scripts (the hosts' CSP forbids them), no module-preload polyfill, ELK runs in
 * a module worker emitted next to the app's chunks.
 */
import { defineConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('./src-renderer/', import.meta.url));

export default defineConfig({
  root,
  base: '/',
  logLevel: 'warn',
  plugins: [svelte({ compilerOptions: { runes: true } })],
  build: {
    outDir: fileURLToPath(new URL('./dist/renderer/', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    modulePreload: { polyfill: false },
    sourcemap: false,
    chunkSizeWarningLimit: 4096,
    assetsInlineLimit: 0,
  },
  worker: { format: 'es' },
  clearScreen: false,
});
