import { chromium } from 'playwright-core';
import { startHost } from './test/e2e/helpers/host.ts';
const host = await startHost('bench-out/app-bench.db', [], { KPTRSCOPE_TRACE: '1' });
const b = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--no-proxy-server'] });
for (const k of [0, 1]) {
  const p = await b.newPage({ viewport: { width: 1440, height: 900 } });
  const t0 = performance.now();
  p.on('request', (r) => { (r as unknown as { t: number }).t = performance.now(); });
  p.on('requestfinished', (r) => console.log(k, (((r as unknown as { t: number }).t) - t0).toFixed(0).padStart(5), (performance.now() - t0).toFixed(0).padStart(5), r.url().replace(/.*127.0.0.1:\d+/, '').slice(0, 60), r.postData()?.slice(0, 80) ?? ''));
  await p.goto(`${host.url}#/run/1/0`);
  await p.waitForFunction(() => Number(document.querySelector('[data-testid=graph]')?.getAttribute('data-line') ?? 0) > 0, undefined, { polling: 'raf' });
  console.log('done', (performance.now() - t0).toFixed(0));
  await p.waitForTimeout(500);
  await p.close();
}
await b.close();
console.log(host.stderr()); await host.stop();
