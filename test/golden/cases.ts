/**
 * The golden cases: the CLI's JSON output over every committed fixture, recorded before a change
 * that must not alter behaviour and compared after it (test/golden/golden.test.ts; record with
 * `npm run golden`).
 *
 * Contract: `goldenCases()` lists, for every log under test/fixtures/logs/<release>/ (releases and
 * files in sorted order), an `ingest --json`, a `replay --json` and an `export --format json` case
 * with the log's BTF (NAME.btf.txt, else NAME.bpf.o) and `--kernel` from the directory's KERNEL file,
 * plus `compare --json` cases (the same program's bpftool log on each pair of adjacent releases,
 * and each broken/fixed pair). Paths are relative to the repository root; every case runs on a
 * fresh database, so run ids are stable. `runCase` runs one case in-process through `main`.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src-main/hosts/cli/main.ts';

export const REPO = join(import.meta.dirname, '..', '..');
const LOGS = 'test/fixtures/logs';
export const GOLDEN_DIR = join(REPO, 'test', 'golden', 'expected');

export interface GoldenCase {
  /** File name under test/golden/expected. */
  id: string;
  /** Arguments for `kptrscope` (without --db / -o, which runCase adds). */
  argv: string[];
  /** The case writes its result to `-o <file>` instead of stdout. */
  toFile: boolean;
}

function releases(): string[] {
  return readdirSync(join(REPO, LOGS), { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
}

function btfFor(release: string, prog: string): string[] {
  for (const ext of ['btf.txt', 'bpf.o']) {
    const rel = `${LOGS}/${release}/${prog}.${ext}`;
    if (existsSync(join(REPO, rel))) return ['--btf', rel];
  }
  return [];
}

function kernelOf(release: string): string[] {
  const f = join(REPO, LOGS, release, 'KERNEL');
  return existsSync(f) ? ['--kernel', readFileSync(f, 'utf8').trim()] : [];
}

export function goldenCases(): GoldenCase[] {
  const out: GoldenCase[] = [];
  const rels = releases();
  for (const rel of rels) {
    const logs = readdirSync(join(REPO, LOGS, rel)).filter((f) => f.endsWith('.log')).sort();
    for (const f of logs) {
      const prog = f.replace(/\..*$/, '');
      const log = `${LOGS}/${rel}/${f}`;
      const common = [log, ...btfFor(rel, prog), ...kernelOf(rel)];
      out.push({ id: `${rel}/${f}.ingest.json`, argv: ['ingest', ...common, '--json'], toFile: false });
      out.push({ id: `${rel}/${f}.replay.json`, argv: ['replay', ...common, '--json'], toFile: false });
      out.push({ id: `${rel}/${f}.export.json`, argv: ['export', ...common, '--format', 'json'], toFile: true });
    }
  }
  const bpftool = (rel: string) =>
    new Set(readdirSync(join(REPO, LOGS, rel)).filter((f) => f.endsWith('.bpftool.log')).map((f) => f.replace(/\..*$/, '')));
  for (let i = 1; i < rels.length; i++) {
    const a = rels[i - 1] as string;
    const b = rels[i] as string;
    const inB = bpftool(b);
    for (const prog of [...bpftool(a)].filter((p) => inB.has(p)).sort()) {
      const la = `${LOGS}/${a}/${prog}.bpftool.log`;
      const lb = `${LOGS}/${b}/${prog}.bpftool.log`;
      const btf = [...btfFor(a, prog), ...btfFor(b, prog)];
      out.push({ id: `compare/${prog}.${a}-vs-${b}.json`, argv: ['compare', la, lb, ...btf, '--json'], toFile: false });
    }
  }
  for (const rel of rels) {
    const progs = bpftool(rel);
    for (const fixed of [...progs].filter((p) => p.endsWith('_fixed')).sort()) {
      const broken = fixed.replace(/_fixed$/, '');
      if (!progs.has(broken)) continue;
      const argv = ['compare', `${LOGS}/${rel}/${broken}.bpftool.log`, `${LOGS}/${rel}/${fixed}.bpftool.log`, ...btfFor(rel, broken), ...btfFor(rel, fixed), '--json'];
      out.push({ id: `compare/${broken}-vs-fixed.${rel}.json`, argv, toFile: false });
    }
  }
  return out;
}

export interface CaseOutput {
  status: number;
  text: string;
  stderr: string;
}

/** Run one case on a fresh database (cwd must be the repository root: paths are relative). */
export async function runCase(c: GoldenCase): Promise<CaseOutput> {
  const dir = mkdtempSync(join(tmpdir(), 'kptrscope-golden-'));
  let out = '';
  let err = '';
  const io = { out: (s: string) => void (out += s), err: (s: string) => void (err += s), stderrIsTty: false };
  try {
    const file = join(dir, 'out.json');
    const argv = [...c.argv, '--db', join(dir, 'golden.db'), ...(c.toFile ? ['-o', file] : [])];
    const status = await main(argv, io);
    const text = c.toFile && status === 0 ? readFileSync(file, 'utf8') : out;
    return { status, text, stderr: err };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** What a golden file holds: the output bytes when the command succeeded, else its status and stderr. */
/** What is compared: stdout, or the exit status and stderr; the checkout's own path reads `<repo>`, so
 * a clone anywhere (CI's is not /work/main) compares equal. */
export function goldenText(r: CaseOutput): string {
  const text = r.status === 0 ? r.text : `exit ${r.status}\n${r.stderr}`;
  return text.split(`${REPO}/`).join('<repo>/');
}
