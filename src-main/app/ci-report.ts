/**
 * The CI gate: every (object, program, kernel series) of the runs tagged T against the same of the
 * runs tagged B (the baseline), as a report a pull request can carry.
 *
 * Contract: `ciReport(store, {tag, baseline, maxInsnsGrowth})` reads the runs of both tags (a run's
 * object is its ELF BTF file's name, else its log's name — the name, not the hash: a new commit
 * changes the object's bytes; a later run of the same key replaces an earlier one). Each key of T:
 * - absent from B: `new` (never a regression);
 * - B accepted, T not accepted (rejected, unsupported, …): `regression`; the reverse: `fixed`;
 * - both rejected with another finding kind, or a new finding: `changed`;
 * - instructions processed grown by more than `maxInsnsGrowth` percent (default 20): `regression`.
 * Keys of B absent from T are `missing`. A series matches across patch releases (7.3.4 vs 7.3.5).
 * Throws CiReportError when a tag has no run. `ciReportMarkdown` is the PR comment: the summary,
 * then one row per change with both verdicts, the finding and a `kptrscope://run/<id>` link.
 */
import type { Store } from '../store/types.ts';
import { replayRun } from './replay.ts';
import { objectOfRun, seriesOfRelease } from './matrix.ts';
import { neverLoaded } from '../domain/log/program-state.ts';

export class CiReportError extends Error {}

export interface CiCell {
  runId: number;
  release: string | null;
  verdict: string;
  insnsProcessed: number | null;
  finding: { kind: string; insn: number; explanation: string } | null;
}

export type ChangeKind = 'regression' | 'fixed' | 'changed' | 'new' | 'missing';

export interface CiChange {
  kind: ChangeKind;
  object: string;
  program: string;
  series: string;
  baseline: CiCell | null;
  tag: CiCell | null;
  /** Instructions processed, percent change (null when either side has none). */
  insnsGrowthPct: number | null;
  why: string;
}

export interface CiReport {
  tag: string;
  baseline: string;
  maxInsnsGrowth: number;
  summary: { compared: number; regressions: number; fixed: number; changed: number; new: number; missing: number; unchanged: number };
  changes: CiChange[];
}

async function cellsOf(store: Store, tag: string): Promise<Map<string, { object: string; program: string; series: string; cell: CiCell }>> {
  const out = new Map<string, { object: string; program: string; series: string; cell: CiCell }>();
  const runs = [];
  const tags = await store.allRunTags();
  for (const r of await store.listRuns()) if (tags.get(r.id)?.includes(tag)) runs.push(r);
  if (runs.length === 0) throw new CiReportError(`no run is tagged ${tag} (see: kptrscope runs --tag ${tag})`);
  for (const run of runs) {
    const { object } = await objectOfRun(store, run);
    const series = seriesOfRelease(run.kernel);
    for (const pr of (await replayRun(store, run.id)).programs) {
      const p = pr.program;
      const f = neverLoaded(p.verdict) ? null : pr.replay.finding;
      out.set(`${object}\0${p.name}\0${series}`, {
        object,
        program: p.name,
        series,
        cell: { runId: run.id, release: run.kernel, verdict: p.verdict, insnsProcessed: p.stats.insnsProcessed ?? null, finding: f ? { kind: f.kind, insn: f.insn, explanation: f.explanation } : null },
      });
    }
  }
  return out;
}

export async function ciReport(store: Store, o: { tag: string; baseline: string; maxInsnsGrowth?: number }): Promise<CiReport> {
  const maxInsnsGrowth = o.maxInsnsGrowth ?? 20;
  const now = await cellsOf(store, o.tag);
  const base = await cellsOf(store, o.baseline);
  const changes: CiChange[] = [];
  let unchanged = 0;
  for (const [key, t] of now) {
    const b = base.get(key)?.cell ?? null;
    const growth = b && b.insnsProcessed && t.cell.insnsProcessed !== null ? Math.round(((t.cell.insnsProcessed - b.insnsProcessed) / b.insnsProcessed) * 1000) / 10 : null;
    const at = { object: t.object, program: t.program, series: t.series, baseline: b, tag: t.cell, insnsGrowthPct: growth };
    if (!b) {
      changes.push({ ...at, kind: 'new', why: `new on ${t.series}: ${t.cell.verdict}` });
    } else if (b.verdict === 'accepted' && t.cell.verdict !== 'accepted') {
      changes.push({ ...at, kind: 'regression', why: `was accepted, now ${t.cell.verdict}${t.cell.finding ? `: ${t.cell.finding.kind} at insn ${t.cell.finding.insn}` : ''}` });
    } else if (b.verdict !== 'accepted' && t.cell.verdict === 'accepted') {
      changes.push({ ...at, kind: 'fixed', why: `was ${b.verdict}, now accepted` });
    } else if (growth !== null && growth > maxInsnsGrowth) {
      changes.push({ ...at, kind: 'regression', why: `instructions processed grew ${growth}% (${b.insnsProcessed} → ${t.cell.insnsProcessed}; more than ${maxInsnsGrowth}%)` });
    } else if (t.cell.finding && (b.finding?.kind !== t.cell.finding.kind || b.verdict !== t.cell.verdict)) {
      changes.push({ ...at, kind: 'changed', why: `finding ${b.finding?.kind ?? 'none'} → ${t.cell.finding.kind}` });
    } else {
      unchanged++;
    }
  }
  for (const [key, b] of base) {
    if (!now.has(key)) changes.push({ object: b.object, program: b.program, series: b.series, baseline: b.cell, tag: null, insnsGrowthPct: null, kind: 'missing', why: `not in ${o.tag}` });
  }
  const count = (k: ChangeKind) => changes.filter((c) => c.kind === k).length;
  const order: ChangeKind[] = ['regression', 'changed', 'fixed', 'new', 'missing'];
  changes.sort((x, y) => order.indexOf(x.kind) - order.indexOf(y.kind) || x.object.localeCompare(y.object) || x.program.localeCompare(y.program) || x.series.localeCompare(y.series));
  return {
    tag: o.tag,
    baseline: o.baseline,
    maxInsnsGrowth,
    summary: { compared: now.size, regressions: count('regression'), fixed: count('fixed'), changed: count('changed'), new: count('new'), missing: count('missing'), unchanged },
    changes,
  };
}

const md = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function ciReportMarkdown(r: CiReport): string {
  const s = r.summary;
  const out = [
    `### kptrscope: ${r.tag} against ${r.baseline} — ${s.regressions > 0 ? `❌ ${s.regressions} regression${s.regressions === 1 ? '' : 's'}` : '✅ no regression'}`,
    '',
    `${s.compared} program × kernel cells compared: ${s.regressions} regressions, ${s.changed} changed findings, ${s.fixed} fixed, ${s.new} new, ${s.missing} missing, ${s.unchanged} unchanged (instruction growth limit ${r.maxInsnsGrowth}%).`,
  ];
  if (r.changes.length > 0) {
    out.push('', '| change | object | program | kernel | baseline | this | why | run |', '|---|---|---|---|---|---|---|---|');
    for (const c of r.changes) {
      const v = (x: CiCell | null) => (x ? `${x.verdict}${x.insnsProcessed !== null ? ` (${x.insnsProcessed} insns)` : ''}` : '—');
      const run = c.tag ?? c.baseline;
      out.push(`| ${c.kind} | ${md(c.object)} | ${md(c.program)} | ${c.series} | ${v(c.baseline)} | ${v(c.tag)} | ${md(c.why)} | ${run ? `[run ${run.runId}](kptrscope://run/${run.runId})` : ''} |`);
    }
  }
  return out.join('\n') + '\n';
}
