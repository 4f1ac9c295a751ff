// The committed selftests corpus (test/corpus/<release>/, built by `npm run corpus`) is consistent:
// every program's logs exist and gunzip, each log ends a verifier run or the manifest says why
// not, and the facts in the manifest (failInsn, message, insnsProcessed, message checks) are the
// ones its logs give.
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { logFacts, matchMsgs } from '../../scripts/corpus/log-facts.ts';

const root = dirname(fileURLToPath(import.meta.url));
const releases = readdirSync(root).filter((d) => existsSync(join(root, d, 'manifest.json')));

interface Program {
  family: string;
  program: string;
  section: string;
  progType: string;
  expected: { outcome: string; msgs: string[]; logLevel?: number };
  actual: {
    verdict: string;
    errno: number | null;
    stage: string;
    failInsn: number | null;
    message: string[];
    insnsProcessed: number | null;
    reason?: string[];
    l2: { errno: number | null; failInsn: number | null; insnsProcessed: number | null; bytes: number };
  };
  check: { outcome: string; msgs: string; missingMsg?: string; blockedBy?: string };
  files: { L1: string; L2: string; btf: string; obj?: string };
}
interface Family {
  family: string;
  status: string;
  error?: string;
  programs: number;
  files?: { btf: string; obj?: string };
}
interface Manifest {
  release: string;
  kernel: string;
  selftestsSource: string;
  families: Family[];
  programs: Program[];
}

function bytesUnder(dir: string): number {
  let n = 0;
  for (const f of readdirSync(dir)) {
    const s = statSync(join(dir, f));
    n += s.isDirectory() ? bytesUnder(join(dir, f)) : s.size;
  }
  return n;
}

it('has at least one release', () => {
  expect(releases.length).toBeGreaterThan(0);
});

describe.each(releases)('selftests corpus %s', (release) => {
  const dir = join(root, release);
  const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Manifest;
  const gz = (rel: string): string => gunzipSync(readFileSync(join(dir, rel))).toString('utf8');

  it('names its release and stays small', () => {
    expect(m.release).toBe(release);
    expect(m.kernel.startsWith(`${release}.`)).toBe(true);
    expect(bytesUnder(dir)).toBeLessThan(10 * 1024 * 1024);
    const readme = readFileSync(join(dir, 'README.md'), 'utf8');
    for (const f of m.families) expect(readme).toContain(`| ${f.family} |`);
  });

  it('lists each family once, with its BTF or the reason it has none', () => {
    const names = m.families.map((f) => f.family);
    expect(new Set(names).size).toBe(names.length);
    for (const f of m.families) {
      const progs = m.programs.filter((p) => p.family === f.family);
      expect(progs.length, f.family).toBe(f.programs);
      if (f.status === 'compiled') {
        expect(gz(f.files!.btf), f.family).toMatch(/^\[\d+\] FUNC '/m);
        if (f.files!.obj) expect(gunzipSync(readFileSync(join(dir, f.files!.obj))).subarray(0, 4).toString('latin1')).toBe('\x7fELF');
      } else {
        expect(f.error, f.family).toBeTruthy();
      }
    }
  });

  it('has every program once, both logs gunzipping, facts matching the logs', () => {
    const keys = m.programs.map((p) => `${p.family}/${p.program}`);
    expect(new Set(keys).size).toBe(keys.length);
    for (const p of m.programs) {
      const at = `${p.family}/${p.program}`;
      expect(p.files.L1).toBe(`${p.family}/${p.program}.L1.log.gz`);
      const l1 = gz(p.files.L1);
      const l2 = gz(p.files.L2);
      expect(Buffer.byteLength(l2), at).toBe(p.actual.l2.bytes);
      const f1 = logFacts(l1);
      const f2 = logFacts(l2);
      const a = p.actual;
      if (a.verdict === 'accepted' || a.verdict === 'rejected') {
        // the verifier ran: its log ends with the stats line
        expect(l1, at).toMatch(/^processed \d+ insns /m);
        expect(a.insnsProcessed, at).toBe(f1.insnsProcessed);
        expect(a.l2.insnsProcessed, at).toBe(f2.insnsProcessed);
      } else {
        // no verifier run: the manifest says why (libbpf's or the kernel's reason)
        expect(a.reason?.length ?? 0, at).toBeGreaterThan(0);
        expect(p.check.blockedBy ?? a.reason!.join(' '), at).toBeTruthy();
      }
      if (a.verdict === 'accepted') {
        expect(a.errno, at).toBeNull();
        expect(a.failInsn, at).toBeNull();
        expect(a.message, at).toEqual([]);
        continue;
      }
      expect(typeof a.errno, at).toBe('number');
      if (a.verdict !== 'rejected') continue;
      // failInsn: the last "N: (op)" instruction line before the error text
      expect(a.failInsn, at).toBe(f1.failInsn);
      expect(a.l2.failInsn, at).toBe(f2.failInsn);
      expect(a.message, at).toEqual(f1.message);
      expect(a.message.length, at).toBeGreaterThan(0);
      const lines = l1.split('\n');
      let from = 0;
      if (a.failInsn !== null) {
        from = lines.map((l) => l.startsWith(`${a.failInsn}: (`)).lastIndexOf(true);
        expect(from, `${at}: no "${a.failInsn}: (" line`).toBeGreaterThanOrEqual(0);
        expect(lines.slice(from + 1).some((l) => /^\d+: \(/.test(l)), `${at}: instruction after failInsn`).toBe(false);
      }
      const tail = lines.slice(from + (a.failInsn === null ? 0 : 1));
      for (const msg of a.message) expect(tail, at).toContain(msg);
      const footer = tail.findIndex((l) => /^processed \d+ insns /.test(l));
      expect(footer, at).toBeGreaterThan(tail.indexOf(a.message[a.message.length - 1]!));
    }
  });

  it('checks expected messages against the log of the expected level', () => {
    for (const p of m.programs) {
      if (p.check.msgs === 'n/a') continue;
      const log = gz((p.expected.logLevel ?? 0) & 2 ? p.files.L2 : p.files.L1);
      const missing = matchMsgs(log, p.expected.msgs);
      expect(p.check.msgs, `${p.family}/${p.program}`).toBe(missing === null ? 'match' : 'missing');
      if (missing !== null) expect(p.check.missingMsg).toBe(p.expected.msgs[missing]);
    }
  });

  it('compares outcomes the same way throughout', () => {
    for (const p of m.programs) {
      const at = `${p.family}/${p.program}`;
      if (p.check.outcome === 'blocked') {
        expect(p.actual.verdict, at).toBe('load-failed');
        expect(p.check.blockedBy, at).toBeTruthy();
      } else if (p.expected.outcome === 'unknown') {
        expect(p.check.outcome, at).toBe('n/a');
      } else {
        const loaded = p.actual.verdict === 'accepted';
        expect(p.check.outcome, at).toBe(loaded === (p.expected.outcome === 'success') ? 'match' : 'mismatch');
      }
    }
  });
});
