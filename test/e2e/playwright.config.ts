/**
 * Playwright e2e of the app against the browser host, in Debian's Chromium (/usr/bin/chromium;
 * never a downloaded browser). Each spec starts `kptrscope serve` as a real process on a temp
 * database. Screenshots and traces go to test-results/e2e/.
 * Run: npx playwright test -c test/e2e/playwright.config.ts
 */
import { defineConfig } from '@playwright/test';

export const CHROMIUM = process.env.KPTRSCOPE_CHROMIUM ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-sync',
];

export default defineConfig({
  testDir: '.',
  testMatch: /.*\.spec\.ts$/,
  outputDir: '../../test-results/e2e/artifacts',
  globalSetup: './global-setup.ts',
  timeout: 60_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [['list']],
  use: {
    browserName: 'chromium',
    headless: true,
    viewport: { width: 1440, height: 900 },
    launchOptions: { executablePath: CHROMIUM, args: CHROMIUM_ARGS },
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
  },
});
