import { chromium } from 'playwright-core';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
const db = process.argv[2] ?? '/tmp/e2.db';
const child = spawn('node', ['bin/run-ts.mjs', 'test/e2e/helpers/serve-entry.ts', 'serve', '--db', db, '--no-open'], { cwd: '/work/main', stdio: ['ignore', 'pipe', 'inherit'] });
const url = await new Promise((r) => createInterface({ input: child.stdout }).once('line', (l) => r(l.replace(/.* on /, ''))));
const b = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });
const p = await b.newPage({ viewport: { width: 1440, height: 900 } });
p.on('console', (m) => console.log('console:', m.type(), m.text()));
p.on('pageerror', (e) => console.log('pageerror:', e.message));
await p.goto(url);
await p.waitForTimeout(1000);
await p.screenshot({ path: '/tmp/wt/lib.png' });
const steps = JSON.parse(process.argv[3] ?? '[]');
for (const s of steps) {
  if (s.click) await p.click(s.click);
  if (s.key) await p.keyboard.press(s.key);
  if (s.type) await p.fill(s.fill, s.type);
  if (s.upload) await p.setInputFiles(s.upload, s.files);
  await p.waitForTimeout(s.wait ?? 300);
  if (s.shot) await p.screenshot({ path: `/tmp/wt/${s.shot}.png` });
}
await b.close();
child.kill('SIGINT');
