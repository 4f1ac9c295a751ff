/**
 * Electron build/runtime configuration shared by the main process and packaging scripts:
 * app id, product name and window geometry. The security settings every BrowserWindow gets are
 * written literally at the one `new BrowserWindow` in src-main/main.ts (see docs/security.md);
 * on machines without the Electron binary kptrscope runs as a browser host (src-main/browser-host.ts).
 */
export const electronConfig = {
  appId: 'dev.kptrscope.app',
  productName: 'kptrscope',
  window: { width: 1400, height: 900, minWidth: 900, minHeight: 600 },
} as const;

export default electronConfig;
