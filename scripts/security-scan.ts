/**
 * `npm run security:scan` — Electronegativity (Doyensec's Electron security linter) over what
 * kptrscope ships, run in CI by scripts/test-all.sh.
 *
 * Contract:
 * - scans, in a staging directory: the built Electron entry points (dist/electron/main.js,
 *   preload.cjs, rebuilt first), the built renderer (index.html with its meta CSP, and the JS
 *   chunks lowered to ES2019 with esbuild, because the scanner's 2021 parser stops at class private
 *   fields), the main-process sources (src-main/**, electron.config.ts) and package.json (the
 *   Electron version);
 * - fails (exit 1) when a file cannot be parsed (a file the scanner skipped is a file nobody
 *   checked), or on any HIGH or MEDIUM finding whose check id is not justified in the
 *   "Electronegativity" table of docs/security.md (a row starting `| CHECK_ID |`);
 * - prints every finding (LOW and informational ones too) with file:line, and the totals;
 * - AVAILABLE_SECURITY_FIXES_GLOBAL_CHECK downloads Electron's release list from GitHub: it runs
 *   only with KPTRSCOPE_SCAN_ONLINE=1 (CI here has no network);
 * - `--input <dir>` scans that directory as it is instead (the test that proves the gate fails).
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('..', import.meta.url));
const require = createRequire(import.meta.url);

interface Level {
  value: number;
  name?: string;
}
interface Issue {
  id: string;
  file: string;
  location: { line: number; column: number };
  severity: Level;
  confidence: Level;
  manualReview: boolean;
  description: string;
}
interface ScanResult {
  globalChecks: number;
  atomicChecks: number;
  errors: { file: string; message: string; tolerable: boolean }[];
  issues: Issue[];
}

/** Check ids justified in docs/security.md's Electronegativity table. */
export function justifiedChecks(securityMd: string): Set<string> {
  const start = securityMd.search(/^## .*Electronegativity/m);
  if (start < 0) return new Set();
  const rest = securityMd.slice(start + 3);
  const end = rest.search(/^## /m);
  const section = end < 0 ? rest : rest.slice(0, end);
  const ids = new Set<string>();
  for (const m of section.matchAll(/^\|\s*`?([A-Z][A-Z0-9_]+_CHECK)`?\s*\|/gm)) if (m[1]) ids.add(m[1]);
  return ids;
}

const levelName = (l: Level, names: Record<number, string>) => l.name ?? names[l.value] ?? String(l.value);
// Electronegativity's severities / confidences by value.
const SEVERITY: Record<number, string> = { 0: 'INFORMATIONAL', 1: 'LOW', 2: 'MEDIUM', 3: 'HIGH' };
const CONFIDENCE: Record<number, string> = { 0: 'TENTATIVE', 1: 'FIRM', 2: 'CERTAIN' };

async function stage(): Promise<string> {
  const { buildRenderer, rendererIsStale } = await import('./build-renderer.ts');
  const { buildElectron } = await import('./build-electron.ts');
  if (rendererIsStale()) await buildRenderer({ quiet: true });
  await buildElectron();
  const { transformSync } = (await import('esbuild')) as typeof import('esbuild');
  const dir = mkdtempSync(join(tmpdir(), 'kptrscope-scan-'));
  cpSync(join(repo, 'package.json'), join(dir, 'package.json'));
  cpSync(join(repo, 'electron.config.ts'), join(dir, 'electron.config.ts'));
  cpSync(join(repo, 'src-main'), join(dir, 'src-main'), { recursive: true });
  cpSync(join(repo, 'dist', 'electron'), join(dir, 'dist', 'electron'), { recursive: true });
  mkdirSync(join(dir, 'dist', 'renderer', 'assets'), { recursive: true });
  cpSync(join(repo, 'dist', 'renderer', 'index.html'), join(dir, 'dist', 'renderer', 'index.html'));
  const assets = join(repo, 'dist', 'renderer', 'assets');
  for (const f of readdirSync(assets)) {
    if (!f.endsWith('.js')) continue;
    const code = readFileSync(join(assets, f), 'utf8');
    writeFileSync(join(dir, 'dist', 'renderer', 'assets', f), transformSync(code, { loader: 'js', format: 'esm', target: 'es2019' }).code);
  }
  return dir;
}

async function main(argv: string[]): Promise<number> {
  const t0 = Date.now();
  const at = argv.indexOf('--input');
  const given = at >= 0 ? argv[at + 1] : undefined;
  if (at >= 0 && !given) throw new Error('--input needs a directory');
  const dir = given ?? (await stage());
  try {
    const run = require('@doyensec/electronegativity') as (o: Record<string, unknown>) => Promise<ScanResult>;
    const online = process.env.KPTRSCOPE_SCAN_ONLINE === '1';
    const r = await run({
      input: dir,
      isRelative: true,
      customScan: [],
      excludeFromScan: online ? [] : ['AvailableSecurityFixesGlobalCheck'],
      parserPlugins: [],
    });
    const files = (function count(d: string): number {
      return readdirSync(d, { withFileTypes: true }).reduce((n, e) => n + (e.isDirectory() ? count(join(d, e.name)) : 1), 0);
    })(dir);
    const justified = justifiedChecks(existsSync(join(repo, 'docs', 'security.md')) ? readFileSync(join(repo, 'docs', 'security.md'), 'utf8') : '');
    let failed = 0;
    for (const e of r.errors) {
      const rel = e.file.startsWith(dir) ? e.file.slice(dir.length + 1) : e.file;
      process.stdout.write(`${e.tolerable ? 'warning' : 'ERROR'}: ${rel}: the scanner could not parse it: ${e.message}\n`);
      if (!e.tolerable) failed++;
    }
    const bySeverity: Record<string, number> = {};
    const issues = [...r.issues].sort((a, b) => b.severity.value - a.severity.value || a.id.localeCompare(b.id) || a.file.localeCompare(b.file));
    for (const i of issues) {
      const sev = levelName(i.severity, SEVERITY);
      bySeverity[sev] = (bySeverity[sev] ?? 0) + 1;
      const blocking = i.severity.value >= 2;
      const verdict = !blocking ? '' : justified.has(i.id) ? '  (justified in docs/security.md)' : '  ← NOT JUSTIFIED';
      if (blocking && !justified.has(i.id)) failed++;
      process.stdout.write(
        `${sev}/${levelName(i.confidence, CONFIDENCE)} ${i.id}${i.manualReview ? ' [review]' : ''} ${i.file}:${i.location.line}:${i.location.column}${verdict}\n`,
      );
    }
    const totals = Object.entries(bySeverity)
      .map(([k, v]) => `${v} ${k}`)
      .join(', ');
    process.stdout.write(
      `electronegativity: ${files} files, ${r.globalChecks + r.atomicChecks} checks (${online ? 'online' : 'offline: AVAILABLE_SECURITY_FIXES skipped'}), ` +
        `${issues.length} findings${totals ? ` (${totals})` : ''}, ${r.errors.filter((e) => !e.tolerable).length} parse errors, ` +
        `${failed === 0 ? 'OK' : `${failed} blocking`} in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`,
    );
    return failed === 0 ? 0 : 1;
  } finally {
    if (!given) rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.exitCode = await main(process.argv.slice(2));
}
