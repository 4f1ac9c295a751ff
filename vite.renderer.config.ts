/**
 * Vite build of the renderer (src-renderer → dist/renderer), shared by the browser host and
 * Electron. No inline scripts (the hosts' CSP forbids them), no module-preload polyfill, ELK runs in
 * a module worker emitted next to the app's chunks. The built index.html carries the CSP as a
 * `<meta http-equiv>` too (src-main/api/csp.ts), right after <meta charset>.
 */
import { defineConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { fileURLToPath } from 'node:url';
import { CSP_META } from './src-main/hosts/csp.ts';

const root = fileURLToPath(new URL('./src-renderer/', import.meta.url));

export default defineConfig({
  root,
  base: '/',
  logLevel: 'warn',
  plugins: [
    svelte({ compilerOptions: { runes: true } }),
    {
      name: 'kptrscope-csp-meta',
      // Right after <meta charset>: a meta CSP governs only what follows it.
      transformIndexHtml: (html: string) => {
        const charset = '<meta charset="utf-8" />';
        if (!html.includes(charset)) throw new Error(`src-renderer/index.html must start its <head> with ${charset}`);
        return html.replace(charset, `${charset}\n    <meta http-equiv="Content-Security-Policy" content="${CSP_META}" />`);
      },
    },
  ],
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
