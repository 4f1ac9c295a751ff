/**
 * One program across kernels: the matrix of stored runs of the same objects on several kernel
 * series (the CLI's `matrix --json` document, the app's matrix view).
 *
 * Contract: `matrixOfRuns(store, runIds)` groups the runs' programs by object (the run's ELF BTF file:
 * its name and sha256; a run without one is named by its log file) and program name; columns are the
 * kernel release series (`7.3` of `7.3.4+deb13-cloud-amd64`; `unknown` when the run has no kernel),
 * oldest first; a later run of the same object on the same series replaces an earlier one. A cell is
 * the kernel's verdict, instructions processed, the model's finding and the run. For every pair of
 * adjacent columns of a program whose verdicts differ, a difference names the first instruction
 * where the two walks part (compare.ts; null when a side never reached the verifier) and the
 * profile rule that explains it with the series that introduced it (explainDifference):
 * - a side the kernel could not even attempt (`unsupported`): the feature its loader named
 *   (a kfunc, a struct_ops type) — from the kernel profiles' feature table;
 * - a model finding `feature-unavailable`: its feature;
 * - else the log of the newer side replayed under each profile between the two series: the first
 *   series whose profile gives the newer verdict, and the rule that series introduced (the same
 *   with the older side's log when the newer one does not move); null when no profile explains it.
 * Replays under other profiles are stored like any replay (replay.ts), so a second matrix is fast.
 */
import { basename } from 'node:path';
import type { Store } from '../store/types.ts';
import { FEATURES, compareVersions, rulesBetween, type Feature } from '../domain/model/kernel-profiles.ts';
import { replayRun, type ProgramReplay } from './replay.ts';
import { compareRuns } from './compare.ts';
import { stripSuffixes } from './library.ts';
import { neverLoaded } from '../domain/log/program-state.ts';
import type { Matrix, MatrixCell, MatrixDifference, MatrixProgram } from '../domain/views/matrix.ts';

export type { Matrix, MatrixCell, MatrixDifference, MatrixProgram } from '../domain/views/matrix.ts';

export class MatrixError extends Error {}

/** `7.3.4+deb13-cloud-amd64` → `7.3`; null → `unknown`. */
export function seriesOfRelease(release: string | null): string {
  const m = release ? /^(\d+)\.(\d+)/.exec(release) : null;
  return m ? `${m[1]}.${m[2]}` : 'unknown';
}

function compareSeries(a: string, b: string): number {
  if (a === b) return 0;
  if (a === 'unknown') return 1;
  if (b === 'unknown') return -1;
  return compareVersions(a, b);
}

/** A log's object name when the run has no ELF: `leak_obj.bpftool.log` → `leak_obj` (also the
 * name of the `.bpf.o` a capture puts beside it) — the library's own naming. */
export function objectOfLog(sourceName: string): string {
  return stripSuffixes(sourceName) || sourceName;
}

/** A run's object: its ELF BTF file's name and hash, else the name its log file gives (no hash). */
export async function objectOfRun(store: Store, run: { id: number; sourceName: string }): Promise<{ object: string; sha256: string | null }> {
  const elf = (await store.runBtfFiles(run.id)).find((b) => b.format === 'elf');
  return elf ? { object: basename(elf.source), sha256: elf.sha256 } : { object: objectOfLog(run.sourceName), sha256: null };
}

interface RunEntry {
  runId: number;
  series: string;
  release: string | null;
  object: string;
  sha256: string | null;
  programs: ProgramReplay[];
}

export async function matrixOfRuns(store: Store, runIds: readonly number[]): Promise<Matrix> {
  if (runIds.length === 0) throw new MatrixError('matrix: no run given (give objects, logs or run ids)');
  const entries: RunEntry[] = [];
  for (const id of runIds) {
    const run = await store.getRun(id);
    if (!run) throw new MatrixError(`no run ${id} in this database (see: kptrscope runs)`);
    const replay = await replayRun(store, id);
    entries.push({ runId: id, series: seriesOfRelease(run.kernel), release: run.kernel, ...(await objectOfRun(store, run)), programs: replay.programs });
  }
  const kernels = [...new Set(entries.map((e) => e.series))].sort(compareSeries);
  const rows = new Map<string, MatrixProgram>();
  const replays = new Map<string, Map<string, ProgramReplay>>();
  for (const e of [...entries].sort((a, b) => a.runId - b.runId)) {
    for (const pr of e.programs) {
      const key = `${e.object}\0${e.sha256 ?? ''}\0${pr.program.name}`;
      let row = rows.get(key);
      if (!row) {
        row = { object: e.object, sha256: e.sha256, name: pr.program.name, cells: {}, differences: [] };
        rows.set(key, row);
        replays.set(key, new Map());
      }
      row.cells[e.series] = cellOf(e, pr);
      replays.get(key)?.set(e.series, pr);
    }
  }
  for (const [key, row] of rows) {
    const present = kernels.filter((k) => row.cells[k] !== undefined);
    for (let i = 1; i < present.length; i++) {
      const from = present[i - 1] as string;
      const to = present[i] as string;
      const a = row.cells[from] as MatrixCell;
      const b = row.cells[to] as MatrixCell;
      if (a.verdict === b.verdict) continue;
      const prs = replays.get(key) as Map<string, ProgramReplay>;
      row.differences.push(await explainDifference(store, { from, to, a, b, prA: prs.get(from) as ProgramReplay, prB: prs.get(to) as ProgramReplay }));
    }
  }
  const programs = [...rows.values()].sort((x, y) => x.object.localeCompare(y.object) || (x.sha256 ?? '').localeCompare(y.sha256 ?? ''));
  return { kernels, programs };
}

function cellOf(e: RunEntry, pr: ProgramReplay): MatrixCell {
  const p = pr.program;
  const f = neverLoaded(p.verdict) ? null : pr.replay.finding;
  const cell: MatrixCell = {
    release: e.release,
    verdict: p.verdict,
    insnsProcessed: p.stats.insnsProcessed ?? null,
    finding: f ? { kind: f.kind, insn: f.insn, explanation: f.explanation } : null,
    runId: e.runId,
  };
  if (p.verdict === 'not-loaded' && p.blockedBy) cell.blockedBy = p.blockedBy;
  if (p.verdict === 'unsupported' && p.loaderError) cell.reason = p.loaderError;
  return cell;
}

/** A kfunc or struct_ops type named by a loader's complaint → the feature that brought it. */
const FEATURE_OF_NAME: readonly [RegExp, Feature][] = [
  [/^bpf_qdisc_|^Qdisc_ops$/, 'qdisc'],
  [/^scx_bpf_|^sched_ext_ops$/, 'sched_ext'],
  [/^bpf_list_(add|del|is_first|is_last|empty)/, 'list_ops'],
  [/^bpf_list_(front|back)|^bpf_rbtree_(root|left|right)/, 'graph_peek'],
  [/^bpf_percpu_obj_/, 'percpu_obj'],
  [/^bpf_refcount_acquire/, 'refcount'],
  [/^bpf_rbtree_/, 'rbtree'],
  [/^bpf_list_/, 'list'],
  [/^bpf_obj_(new|drop)/, 'obj_new'],
  [/^bpf_task_(acquire|release|from_pid)/, 'task_kfuncs'],
  [/^bpf_cgroup_/, 'cgroup_kfuncs'],
  [/^bpf_cpumask_/, 'cpumask'],
];

function featureOfReason(reason: string): Feature | null {
  for (const m of reason.matchAll(/'([A-Za-z_]\w*)'|struct (\w+)/g)) {
    const name = (m[1] ?? m[2]) as string;
    for (const [re, f] of FEATURE_OF_NAME) if (re.test(name)) return f;
  }
  return null;
}

interface Side {
  from: string;
  to: string;
  a: MatrixCell;
  b: MatrixCell;
  prA: ProgramReplay;
  prB: ProgramReplay;
}

function modelVerdict(pr: ProgramReplay): string {
  return pr.replay.modelVerdict;
}

export async function explainDifference(store: Store, s: Side): Promise<MatrixDifference> {
  const base = { from: s.from, to: s.to };
  const insn = await firstParting(store, s);
  // 1. A kernel that could not even attempt the program: the feature it lacked — named by the
  // loader, else the struct_ops type the program implements (as the loader of either side said).
  for (const [c, series] of [[s.a, s.from], [s.b, s.to]] as const) {
    if (c.verdict !== 'unsupported') continue;
    const ops = s.prA.program.structOps?.type ?? s.prB.program.structOps?.type ?? '';
    const f = featureOfReason(c.reason ?? '') ?? featureOfReason(`struct ${ops}`);
    const what = c.reason ? `the ${c.release ?? series} kernel could not load it: ${c.reason}` : `the ${series} kernel could not load it`;
    if (f) {
      const since = FEATURES[f][0];
      const built = series !== 'unknown' && compareVersions(series, since) >= 0 ? ` (${series} is new enough: that kernel was built without it)` : '';
      return { ...base, insn, rule: f, since, explanation: `${FEATURES[f][1]}${built}; ${what}` };
    }
    return { ...base, insn, rule: null, since: null, explanation: `${what}; no profile rule names what it lacked` };
  }
  for (const c of [s.a, s.b]) {
    if (c.verdict === 'not-loaded') return { ...base, insn, rule: null, since: null, explanation: `on one kernel the loader stopped at ${c.blockedBy ?? 'another program'} before this one` };
  }
  // 2. The model's own word: a feature the older profile lacks.
  for (const pr of [s.prA, s.prB]) {
    const f = pr.replay.finding;
    if (f?.kind === 'feature-unavailable' && f.feature && f.feature in FEATURES) {
      const feat = f.feature as Feature;
      return { ...base, insn: insn ?? f.insn, rule: feat, since: FEATURES[feat][0], explanation: f.explanation };
    }
  }
  // 3. The profiles between the two series, on each side's log.
  if (s.from !== 'unknown' && s.to !== 'unknown') {
    const candidates = rulesBetween(s.from, s.to);
    const steps = [...new Set(candidates.map((r) => r.since))].sort(compareVersions);
    for (const [pr, run, target, start] of [
      [s.prB, s.b.runId, modelVerdict(s.prB), s.from],
      [s.prA, s.a.runId, null, s.to],
    ] as const) {
      if (pr.program.lines === 0) continue;
      const at = (profile: string) => replayOne(store, run, pr.program.index, profile);
      const startVerdict = await at(start);
      if (target !== null) {
        // The newer log under the older rules: which release's rule makes it come out as it did?
        if (startVerdict === target) continue;
        for (const since of steps) {
          if ((await at(since)) === target) return withRule(base, insn, candidates, since, pr);
        }
      } else {
        // The older log under the newer rules.
        const own = modelVerdict(pr);
        if (startVerdict === own) continue;
        for (const since of steps) {
          if ((await at(since)) !== own) return withRule(base, insn, candidates, since, pr);
        }
      }
    }
  }
  return {
    ...base,
    insn,
    rule: null,
    since: null,
    explanation: `no kernel profile rule between ${s.from} and ${s.to} explains it: the programs or what the kernels print differ (see the compare at this instruction)`,
  };
}

function withRule(base: { from: string; to: string }, insn: number | null, candidates: ReturnType<typeof rulesBetween>, since: string, pr: ProgramReplay): MatrixDifference {
  const rules = candidates.filter((r) => r.since === since);
  const rule = rules[0] as (typeof rules)[number];
  const f = pr.replay.finding;
  return {
    ...base,
    insn: insn ?? (f ? f.insn : null),
    rule: rule.id,
    since,
    explanation: `${rule.what}${rules.length > 1 ? `; also new in ${since}: ${rules.slice(1).map((r) => r.id).join(', ')}` : ''}`,
  };
}

/** The model's verdict on one stored program under a profile (replayed and stored when missing). */
async function replayOne(store: Store, runId: number, programIdx: number, profile: string): Promise<string> {
  const r = await replayRun(store, runId, { kernelProfile: profile, programs: [programIdx] });
  return r.programs[0]?.replay.modelVerdict ?? 'accepted';
}

/** Where the two walks part: the compare's first divergence, on the newer side's instruction. */
async function firstParting(store: Store, s: Side): Promise<number | null> {
  if (s.prA.program.lines === 0 || s.prB.program.lines === 0 || neverLoaded(s.a.verdict) || neverLoaded(s.b.verdict)) return null;
  const c = await compareRuns(store, s.a.runId, s.b.runId);
  const p = c.programs.find((x) => x.name === s.prA.program.name || x.name === `${s.prA.program.name} ↔ ${s.prB.program.name}`);
  const d = p?.firstDivergence;
  // The first of: the compare's first divergence, and where a rejecting kernel stopped (the walks
  // part there too: one goes on, the other does not).
  const at = [d?.a.insn, d?.b.insn, s.prA.program.failInsn, s.prB.program.failInsn].filter((x): x is number => typeof x === 'number' && x >= 0);
  return at.length > 0 ? Math.min(...at) : null;
}
