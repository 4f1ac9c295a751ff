/**
 * Playwright `test` for the browser-host specs, with one automatic fixture: every
 * Content-Security-Policy violation in the page (a refused inline style or script, a blocked
 * fetch, image or worker — the `securitypolicyviolation` event, reported through a binding that
 * survives navigations) is collected, and a test that caused one fails after its body. The CSP is
 * strict (docs/security.md); this proves the app works inside it, in every view the specs visit.
 */
import { test as base, expect } from '@playwright/test';

export const test = base.extend<{ cspViolations: string[] }>({
  cspViolations: [
    async ({ page }, use) => {
      const seen: string[] = [];
      await page.exposeBinding('__kptrscopeCspViolation', (_src, v: string) => void seen.push(v));
      await page.addInitScript(() => {
        document.addEventListener('securitypolicyviolation', (e) => {
          const report = (window as unknown as { __kptrscopeCspViolation: (v: string) => void }).__kptrscopeCspViolation;
          void report(`${e.violatedDirective} blocked ${e.blockedURI || 'inline'} at ${e.sourceFile}:${e.lineNumber} ${e.sample}`);
        });
      });
      await use(seen);
      expect(seen, 'CSP violations in the page').toEqual([]);
    },
    { auto: true },
  ],
});

export { expect };
