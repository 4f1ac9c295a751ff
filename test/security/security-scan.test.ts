/**
 * The Electronegativity gate (scripts/security-scan.ts) can fail: on a directory with an insecure
 * BrowserWindow it reports the HIGH findings as not justified and exits 1, and a file the scanner
 * cannot parse is an error, not a silent skip. The justification table is read from the real
 * docs/security.md. (CI runs the gate itself on the built app: scripts/test-all.sh.)
 */
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { justifiedChecks } from '../../scripts/security-scan.ts';

const REPO = join(__dirname, '..', '..');

describe('security scan gate', () => {
  it('reads the justified checks from docs/security.md', () => {
    expect([...justifiedChecks(readFileSync(join(REPO, 'docs', 'security.md'), 'utf8'))]).toEqual(['PRELOAD_JS_CHECK']);
    expect(justifiedChecks('# x\n| PRELOAD_JS_CHECK | y |\n').size).toBe(0);
  });

  it('fails on an insecure window and on a file it cannot parse', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kptrscope-scan-test-'));
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'x', devDependencies: { electron: '38.8.6' } }));
    writeFileSync(
      join(dir, 'main.js'),
      "const { BrowserWindow } = require('electron');\nconst w = new BrowserWindow({ webPreferences: { nodeIntegration: true, contextIsolation: false, sandbox: false } });\nw.loadURL('http://example.com/');\n",
    );
    writeFileSync(join(dir, 'broken.js'), 'const = ;\n');
    const r = spawnSync(process.execPath, [join(REPO, 'bin', 'run-ts.mjs'), join(REPO, 'scripts', 'security-scan.ts'), '--input', dir], { encoding: 'utf8', timeout: 120_000 });
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/^HIGH\/\w+ CONTEXT_ISOLATION_JS_CHECK main\.js:2:\d+ {2}← NOT JUSTIFIED$/m);
    expect(r.stdout).toMatch(/^MEDIUM\/\w+ SANDBOX_JS_CHECK main\.js:2:\d+ {2}← NOT JUSTIFIED$/m);
    expect(r.stdout).toMatch(/^MEDIUM\/\w+ PERMISSION_REQUEST_HANDLER_GLOBAL_CHECK .* {2}← NOT JUSTIFIED$/m);
    expect(r.stdout).toMatch(/^ERROR: broken\.js: the scanner could not parse it/m);
    expect(r.stdout).toMatch(/^electronegativity: \d+ files, \d+ checks .* blocking in [\d.]+ s$/m);
  });
});
