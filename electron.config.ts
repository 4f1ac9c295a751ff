/**
 * Electron build/runtime configuration shared by the main process and packaging scripts:
 * window defaults and the security settings every BrowserWindow is created with.
 * (The Electron entry point itself is src-main/main.ts; on machines without the Electron binary
 * kptrscope runs as a browser host, see src-main/browser-host.ts once it exists.)
 */
export const electronConfig = {
  appId: 'dev.kptrscope.app',
  productName: 'kptrscope',
  window: { width: 1400, height: 900, minWidth: 900, minHeight: 600 },
  webPreferences: {
    contextIsolation: true,
    nodeIntegration: false,
    sandbox: true,
    webSecurity: true,
    allowRunningInsecureContent: false,
    experimentalFeatures: false,
  },
} as const;

export default electronConfig;
