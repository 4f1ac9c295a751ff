// The real `kptrscope` process on the real 6.1 … 7.3 captures: a refused object BTF is reported
// (ingest --json btfRefused, a warning on stderr, the replay's explanation), the 7.3 kernel
// diagnostic beside the model's finding and checked against it, the 7.2 rule on bpf_obj_drop in
// tracing programs (local_kptr_stash: accepted by 6.18, rejected by 7.3), the 7.3 profile, and
// every bpftool capture of every release replayed with its own BTF and kernel: agree, 0 divergences.
// That last sweep (~140 replays) calls the command's own entry point, main(argv) of
// src-main/hosts/cli/main.ts — the function bin/kptrscope.mjs runs — in this process: a process costs
// ~0.7 s of CPU just to load the command, which would put the sweep at minutes on a 2-CPU machine.
// The binary is tied to it: per release, one capture is also replayed by the real process and both
// --json documents must be equal.
import { describe, it, type ExpectStatic } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { availableParallelism } from 'node:os';
import { FIXTURES, ROOT } from '../helpers/fixtures.ts';
import type { CliResult } from '../helpers/cli.ts';
import { main } from '../../src-main/hosts/cli/main.ts';
import { tempDir } from '../helpers/tmp.ts';

const dir = tempDir('kptrscope-7x-');
const RELEASES = ['6.1', '6.12', '6.18', '7.2', '7.3'] as const;
type Release = (typeof RELEASES)[number];
const DIR = (r: Release) => join(FIXTURES, 'logs', r);
const F = (r: Release, name: string) => join(DIR(r), name);
/** The full release of a capture directory, as `--kernel` takes it (`7.3.4+deb13-cloud-amd64`). */
const KERNEL = (r: Release) => readFileSync(F(r, 'KERNEL'), 'utf8').trim();
let dbs = 0;
const freshDb = () => join(dir, `db${++dbs}.db`);

/** `kptrscope replay <release>/<prog>.bpftool.log --btf <prog>.bpf.o --kernel <release> --json`. */
function replayArgs(r: Release, prog: string, db: string, extra: string[] = []): string[] {
  return ['replay', F(r, `${prog}.bpftool.log`), '--btf', F(r, `${prog}.bpf.o`), '--kernel', KERNEL(r), '--db', db, '--json', ...extra];
}

/** stdout's JSON document of a run that succeeded quietly. */
function json(expect: ExpectStatic, r: CliResult) {
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return JSON.parse(r.stdout);
}

/**
 * The same process as helpers/cli.ts's kptrscope(), without blocking, at most one per CPU at a time:
 * every test of this file runs concurrently (each with its own database) and a process costs ~0.7 s
 * of CPU, nearly all of it loading the command.
 */
const MAX_PROCS = Math.max(2, availableParallelism());
let running = 0;
const waiting: (() => void)[] = [];
async function kptrscope(args: string[]): Promise<CliResult> {
  // A finished process hands its slot to the next waiting one.
  if (running >= MAX_PROCS) await new Promise<void>((go) => waiting.push(go));
  else running += 1;
  try {
    return await new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [join(ROOT, 'bin', 'kptrscope.mjs'), ...args], { cwd: ROOT, env: process.env });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
      child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
      child.on('error', reject);
      child.on('close', (status) => resolve({ status, stdout, stderr }));
    });
  } finally {
    const next = waiting.shift();
    if (next) next();
    else running -= 1;
  }
}

/** The command's entry point (what bin/kptrscope.mjs runs) with its stdout/stderr captured. */
async function kptrscopeInProcess(args: string[]): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const status = await main(args, { out: (s) => (stdout += s), err: (s) => (stderr += s), stderrIsTty: false });
  return { status, stdout, stderr };
}

/** A replay document without its run id (which depends on what the database held before). */
const withoutRunId = (doc: { runId: number }) => ({ ...doc, runId: 0 });

describe.concurrent('kptrscope on the 6.1 … 7.3 captures', () => {
  describe('ingest --json: btfRefused', () => {
    for (const r of ['6.12', '7.3'] as const) {
      it(`${r} own_cycle: the kernel refused its BTF (libbpf: Error loading .BTF into kernel): run and program say so, stderr warns`, async ({ expect }) => {
        const log = relative(ROOT, F(r, 'own_cycle.bpftool.log'));
        expect(readFileSync(F(r, 'own_cycle.bpftool.log'), 'utf8')).toMatch(/libbpf: Error loading \.BTF into kernel: -(40|ELOOP)\. BTF is optional, ignoring\./);
        const res = await kptrscope(['ingest', log, '--db', freshDb(), '--json']);
        expect(res.status).toBe(0);
        const doc = JSON.parse(res.stdout);
        expect(doc.runs).toHaveLength(1);
        expect(doc.runs[0].btfRefused).toBe(true);
        expect(doc.runs[0].programs).toHaveLength(1);
        expect(doc.runs[0].programs[0]).toMatchObject({ name: 'add_top', verdict: 'rejected', btfRefused: true });
        expect(doc.runs[0].programs[0].error).toMatch(/bpf_obj_new\/bpf_percpu_obj_new requires prog BTF/);
        const warning = res.stderr.split('\n').find((l) => l.includes(log));
        expect(warning, res.stderr).toBeDefined();
        expect(warning).toMatch(/warning/);
        expect(warning).toMatch(/refused/);
        expect(warning).toMatch(/add_top/);
      });

      it(`${r} leak_obj: its BTF was loaded: btfRefused is false (a boolean), no warning`, async ({ expect }) => {
        const doc = json(expect, await kptrscope(['ingest', F(r, 'leak_obj.bpftool.log'), '--db', freshDb(), '--json']));
        expect(doc.runs[0].btfRefused).toBe(false);
        for (const p of doc.runs[0].programs) expect(p.btfRefused).toBe(false);
      });
    }
  });

  describe("replay --json: the kernel's own diagnostic (7.3)", () => {
    it('7.3 leak_obj: the last diagnostic is "Unreleased resource" at the failing insn, and the model agrees with it', async ({ expect }) => {
      const doc = json(expect, await kptrscope(replayArgs('7.3', 'leak_obj', freshDb())));
      expect(doc.kernelProfile).toBe('7.3');
      const p = doc.programs[0];
      expect(p).toMatchObject({ kernelVerdict: 'rejected', modelVerdict: 'rejected', agree: true, divergences: 0, btfRefused: false });
      expect(p.finding).toMatchObject({ kind: 'leak', insn: p.failInsn });
      expect(p.kernelDiagnostics).toHaveLength(1);
      expect(p.kernelDiagnostic).toEqual(p.kernelDiagnostics[0]);
      expect(p.kernelDiagnostic).toMatchObject({ category: 'Resource Lifetime Safety', title: 'Unreleased resource' });
      expect(p.failInsn).not.toBeNull();
      expect(p.kernelDiagnostic.at.insn).toBe(p.failInsn);
      expect(p.kernelDiagnostic.causalPath[0]).toMatchObject({ kind: 'acquired', insn: p.finding.objects[0].allocInsn });
      expect(p.diagnosticDisagreements).toEqual([]);
    });

    it('6.18 leak_obj: no diagnostic block in a 6.18 log: kernelDiagnostic null, kernelDiagnostics []', async ({ expect }) => {
      const p = json(expect, await kptrscope(replayArgs('6.18', 'leak_obj', freshDb()))).programs[0];
      expect(p).toMatchObject({ kernelVerdict: 'rejected', agree: true, divergences: 0 });
      expect(p.kernelDiagnostic).toBeNull();
      expect(p.kernelDiagnostics).toEqual([]);
      expect(p.diagnosticDisagreements).toEqual([]);
    });
  });

  describe('replay: a refused BTF is explained', () => {
    for (const r of ['6.12', '7.3'] as const) {
      it(`${r} own_cycle: the finding says the BTF was refused`, async ({ expect }) => {
        const p = json(expect, await kptrscope(replayArgs(r, 'own_cycle', freshDb()))).programs[0];
        expect(p).toMatchObject({ kernelVerdict: 'rejected', agree: true, btfRefused: true });
        expect(p.finding).not.toBeNull();
        expect(p.finding.explanation).toMatch(/refused/);
        expect(p.finding.explanation).toMatch(/BTF/);
      });
    }
  });

  describe('7.2+: bpf_obj_drop of a type with NMI-unsafe fields in a tracing program', () => {
    it('7.3 local_kptr_stash (tp_btf): the kernel rejects it and the model finds a prog-type-violation', async ({ expect }) => {
      expect(readFileSync(F('7.3', 'local_kptr_stash.bpftool.log'), 'utf8')).toMatch(/bpf_obj_drop_impl cannot be used in tracing programs on types with NMI unsafe fields/);
      const p = json(expect, await kptrscope(replayArgs('7.3', 'local_kptr_stash', freshDb()))).programs[0];
      expect(p).toMatchObject({ kernelVerdict: 'rejected', modelVerdict: 'rejected', agree: true, divergences: 0 });
      expect(p.finding.kind).toBe('prog-type-violation');
      expect(p.finding.insn).toBe(p.failInsn);
    });

    it("6.18 local_kptr_stash: accepted under its own kernel, rejected the same way under --kernel-profile 7.3", async ({ expect }) => {
      const own = json(expect, await kptrscope(replayArgs('6.18', 'local_kptr_stash', freshDb())));
      expect(own.kernelProfile).toBe('6.18');
      expect(own.programs[0]).toMatchObject({ kernelVerdict: 'accepted', modelVerdict: 'accepted', agree: true, finding: null, divergences: 0 });
      const later = json(expect, await kptrscope(['replay', F('6.18', 'local_kptr_stash.bpftool.log'), '--btf', F('6.18', 'local_kptr_stash.bpf.o'), '--kernel-profile', '7.3', '--db', freshDb(), '--json']));
      expect(later.kernelProfile).toBe('7.3');
      const p = later.programs[0];
      expect(p).toMatchObject({ kernelVerdict: 'accepted', modelVerdict: 'rejected', agree: false });
      expect(p.finding.kind).toBe('prog-type-violation');
      expect(p.finding.explanation).toMatch(/7\.2/);
    });
  });

  describe('--kernel-profile 7.3', () => {
    it('is a known profile: a stored run re-judged under 7.3', async ({ expect }) => {
      const db = freshDb();
      const ing = json(expect, await kptrscope(['ingest', F('6.18', 'leak_obj.bpftool.log'), '--btf', F('6.18', 'leak_obj.bpf.o'), '--kernel', KERNEL('6.18'), '--db', db, '--json']));
      const doc = json(expect, await kptrscope(['replay', String(ing.runs[0].id), '--kernel-profile', '7.3', '--db', db, '--json']));
      expect(doc.kernelProfile).toBe('7.3');
      expect(doc.programs[0]).toMatchObject({ kernelVerdict: 'rejected', modelVerdict: 'rejected', agree: true });
    });
  });

  describe('every bpftool capture of every release, replayed with its BTF and kernel: agree, 0 divergences', () => {
    for (const r of RELEASES) {
      it(`${r}`, async ({ expect }) => {
        const db = freshDb();
        const progs = readdirSync(DIR(r))
          .filter((f) => f.endsWith('.bpftool.log'))
          .map((f) => f.replace(/\.bpftool\.log$/, ''))
          .sort();
        expect(progs.length).toBeGreaterThanOrEqual(24);
        const bad: string[] = [];
        let programs = 0;
        for (const prog of progs) {
          expect(existsSync(F(r, `${prog}.bpf.o`)), prog).toBe(true);
          const res = await kptrscopeInProcess(replayArgs(r, prog, db));
          if (res.status !== 0 || res.stderr !== '') {
            bad.push(`${prog}: exit ${res.status}: ${res.stderr.trim()}`);
            continue;
          }
          const doc = JSON.parse(res.stdout);
          if (doc.kernelProfile !== r) bad.push(`${prog}: kernelProfile ${doc.kernelProfile}`);
          if (doc.programs.length === 0) bad.push(`${prog}: no program`);
          for (const p of doc.programs) {
            programs += 1;
            if (p.kernelVerdict === 'not-loaded' || p.kernelVerdict === 'unsupported') {
              // Never reached the kernel: nothing to replay, no verdict of the model's own.
              if (p.modelVerdict !== null || p.agree !== null || p.finding !== null) bad.push(`${prog}/${p.name}: ${p.kernelVerdict} but model ${p.modelVerdict}, agree ${p.agree}`);
              if (p.kernelVerdict === 'not-loaded' && doc.programs.find((x: { name: string }) => x.name === p.blockedBy)?.kernelVerdict !== 'rejected') bad.push(`${prog}/${p.name}: blocked by ${p.blockedBy}, not a rejected program`);
              continue;
            }
            if (p.agree !== true || p.divergences !== 0) {
              const first = p.divergenceList[0];
              bad.push(
                `${prog}/${p.name}: kernel ${p.kernelVerdict} at ${p.kernelFailInsn}, model ${p.modelVerdict} at ${p.failInsn} (${p.finding?.kind ?? 'no finding'}), ` +
                  `agree ${p.agree}, ${p.divergences} divergence(s)${first ? `, first at insn ${first.insn}: ${first.what}: model ${first.model}, kernel ${first.kernel}` : ''}`,
              );
            }
            if (p.diagnosticDisagreements.length > 0) bad.push(`${prog}/${p.name}: diagnostic disagreements ${JSON.stringify(p.diagnosticDisagreements)}`);
          }
        }
        expect(bad).toEqual([]);
        expect(programs).toBeGreaterThanOrEqual(progs.length);
        // The real process prints the same document (exit_while_locked: verified by every release, 6.1 included).
        const viaProcess = json(expect, await kptrscope(replayArgs(r, 'exit_while_locked', freshDb())));
        const inProcess = json(expect, await kptrscopeInProcess(replayArgs(r, 'exit_while_locked', freshDb())));
        expect(viaProcess.programs[0].kernelFailInsn).not.toBeNull();
        expect(withoutRunId(viaProcess)).toEqual(withoutRunId(inProcess));
      }, 120_000);
    }
  });
});
