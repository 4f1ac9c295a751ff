/**
 * What the CLI prints: a program's line in `ingest`/`show`, `replay` as text and as its `--json`
 * document (the contract other tools rely on: add fields, never rename), and `compare` as a
 * veristat-style table.
 *
 * Contract: pure formatting of results the commands computed; every function writes through `io`
 * or returns a string / a plain JSON object.
 */
import { neverLoaded } from '../../domain/log/program-state.ts';
import type { PathStory } from '../../app/paths.ts';
import { eventText } from '../../domain/views/story.ts';
import { checkDiagnostics, diagnosticOneLine } from '../../domain/views/kernel-diagnostic-view.ts';
import type { ProgramSummary } from '../../domain/log/program-state.ts';
import type { ProgramReplay, ReplayRunResult } from '../../app/replay.ts';
import { METRICS, type Comparison } from '../../app/compare.ts';
import type { CliIo } from './io.ts';

export function fmtProgramLine(p: ProgramSummary): string {
  const parts = [
    `  ${p.name.padEnd(24)} ${p.verdict.padEnd(9)}`,
    p.verdict === 'rejected' && p.failInsn !== null ? `insn ${p.failInsn}` : '',
    p.stats.insnsProcessed !== undefined ? `processed ${p.stats.insnsProcessed}` : '',
    `lines ${p.lines}`,
    `unknown ${p.unknownLines}`,
    p.truncation ? `(truncated: ${p.truncation === 'head' ? 'head lost' : p.truncation === 'tail' ? 'tail lost' : p.truncation})` : '',
  ].filter((s) => s !== '');
  let s = parts.join('  ') + '\n';
  if (p.error) s += p.error.split('\n').map((l, i) => `      ${i === 0 ? 'error: ' : '       '}${l}\n`).join('');
  else if (p.loaderError && p.verdict !== 'accepted') s += `      loader: ${p.loaderError}\n`;
  return s;
}

function objectLabel(pr: ProgramReplay, id: number | undefined): string {
  const o = pr.objects.find((x) => x.id === id);
  if (!o) return id === undefined ? '-' : `obj${id}`;
  return `${o.type}${o.refId !== undefined ? `#${o.refId}` : ''}`;
}

/** Events printed per path (a loop the verifier unrolls repeats its events hundreds of times). */
const PATH_EVENTS_SHOWN = 24;

export function replayJson(r: ReplayRunResult) {
  return {
    runId: r.runId,
    kernelProfile: r.kernelProfile,
    programs: r.programs.map((pr) => ({
      name: pr.program.name,
      kernelVerdict: pr.program.verdict,
      // A program that never reached the kernel (not-loaded, unsupported) has no model verdict.
      modelVerdict: neverLoaded(pr.program.verdict) ? null : pr.replay.modelVerdict,
      agree: pr.agree,
      failInsn: pr.replay.failInsn,
      kernelFailInsn: pr.program.failInsn,
      finding: pr.replay.finding
        ? {
            kind: pr.replay.finding.kind,
            insn: pr.replay.finding.insn,
            objects: pr.replay.finding.objects,
            explanation: pr.replay.finding.explanation,
            path: pr.replay.finding.path,
            ...(pr.replay.finding.kernelText !== undefined ? { kernelText: pr.replay.finding.kernelText } : {}),
          }
        : null,
      divergences: pr.divergences.length,
      divergenceList: pr.divergences,
      btfRefused: pr.program.btfRefused,
      blockedBy: pr.program.blockedBy,
      kernelDiagnostics: pr.program.kernelDiagnostics,
      kernelDiagnostic: pr.program.kernelDiagnostics[pr.program.kernelDiagnostics.length - 1] ?? null,
      diagnosticDisagreements: checkDiagnostics(pr.program.kernelDiagnostics, pr.replay.finding),
      events: pr.events.map((e) => ({ insn: e.insn, kind: e.kind, object: e.object, from: e.from, to: e.to, objectLabel: objectLabel(pr, e.object) })),
      objects: pr.objects.map((o) => ({ id: o.id, refId: o.refId ?? null, type: o.type, origin: o.origin, local: o.local, allocInsn: o.allocInsn, endInsn: o.endInsn ?? null, endKind: o.endKind ?? null })),
    })),
  };
}

export function printReplay(io: CliIo, r: ReplayRunResult, source: string, paths?: Map<number, PathStory[]>): void {
  io.out(`run ${r.runId}  ${source}  kernel profile ${r.kernelProfile}\n`);
  for (const pr of r.programs) {
    if (neverLoaded(pr.program.verdict)) {
      const why = pr.program.verdict === 'not-loaded' ? `the loader stopped at ${pr.program.blockedBy ?? 'another program'} first` : (pr.program.loaderError ?? 'the loader could not attempt it');
      io.out(`\n${pr.program.name}: kernel ${pr.program.verdict} (${why}): nothing to replay\n`);
      continue;
    }
    const agree = pr.agree === null ? 'kernel verdict incomplete' : pr.agree ? 'agree' : 'DISAGREE';
    io.out(`\n${pr.program.name}: kernel ${pr.program.verdict}${pr.program.failInsn !== null ? ` at insn ${pr.program.failInsn}` : ''}, model ${pr.replay.modelVerdict}${pr.replay.failInsn !== null ? ` at insn ${pr.replay.failInsn}` : ''} (${agree}), ${pr.divergences.length} divergence(s)\n`);
    const stories = paths?.get(pr.program.index);
    if (stories && stories.length > 0) {
      // Path by path (the verifier walks each branch it left pending on its own), the rejected first.
      for (const s of stories) {
        const how = s.fork
          ? `from insn ${s.fork.from}${s.fork.condition ? ` \`${s.fork.condition}\`` : ''} ${s.fork.taken ? 'taken' : 'not taken'} (→ insn ${s.fork.to})`
          : 'from the program start';
        const f = s.rejected ? pr.replay.finding : null;
        io.out(`  path ${s.index + 1}${f ? ` — rejected at insn ${f.insn} (${f.kind})` : ''}: ${how}\n`);
        if (s.before.length > 0) io.out(`          before the branch: ${s.before.map((e) => `${objectLabel(pr, e.object)} ${eventText(e)} (insn ${e.insn})`).join('; ')}\n`);
        for (const e of s.events.slice(0, PATH_EVENTS_SHOWN)) io.out(`  ${String(e.insn).padStart(6)}  ${objectLabel(pr, e.object).padEnd(22)} ${eventText(e)}\n`);
        if (s.events.length > PATH_EVENTS_SHOWN) io.out(`          … ${s.events.length - PATH_EVENTS_SHOWN} more events on this path (--json lists them all)\n`);
      }
    } else if (pr.events.length > 0) {
      io.out(`  ${'insn'.padStart(6)}  ${'event'.padEnd(10)} ${'object'.padEnd(22)} from → to\n`);
      for (const e of pr.events) {
        io.out(`  ${String(e.insn).padStart(6)}  ${e.kind.padEnd(10)} ${objectLabel(pr, e.object).padEnd(22)} ${e.from ?? '—'} → ${e.to ?? '—'}\n`);
      }
    }
    for (const d of pr.divergences.slice(0, 20)) io.out(`  divergence at insn ${d.insn} (line ${d.line}) ${d.what}: model ${d.model}, kernel ${d.kernel}\n`);
    if (pr.divergences.length > 20) io.out(`  … ${pr.divergences.length - 20} more divergences (--json lists them all)\n`);
    if (pr.replay.finding) io.out(`  finding (${pr.replay.finding.kind}, insn ${pr.replay.finding.insn}): ${pr.replay.finding.explanation}\n`);
    if (pr.program.btfRefused) io.out("  note: the kernel refused this object's BTF: the program was loaded, and is judged here, without it\n");
    const diag = pr.program.kernelDiagnostics[pr.program.kernelDiagnostics.length - 1];
    if (diag) {
      io.out(`  kernel diagnostic: ${diagnosticOneLine(diag)}${diag.reason ? ` — ${diag.reason}` : ''}\n`);
      for (const e of diag.causalPath) io.out(`    ${String(e.insn ?? '?').padStart(6)}  ${e.kind.padEnd(11)} ${e.text}\n`);
      for (const x of checkDiagnostics(pr.program.kernelDiagnostics, pr.replay.finding)) io.out(`  DISAGREE with the kernel's diagnostic on the ${x.what}: kernel ${x.kernel}, model ${x.model}\n`);
    }
  }
}

const METRIC_LABELS: Record<(typeof METRICS)[number], string> = {
  insnsProcessed: 'Insns',
  maxStatesPerInsn: 'Max states per insn',
  totalStates: 'Total states',
  peakStates: 'Peak states',
  verificationUsec: 'Duration (us)',
  stackDepth: 'Stack depth',
};

export function printComparison(io: CliIo, c: Comparison): void {
  io.out(`A: run ${c.a.run}  ${c.a.source}${c.a.kernel ? `  (kernel ${c.a.kernel})` : ''}\n`);
  io.out(`B: run ${c.b.run}  ${c.b.source}${c.b.kernel ? `  (kernel ${c.b.kernel})` : ''}\n`);
  for (const p of c.programs) {
    io.out(`\n${p.name}${p.matchedBy === 'position' ? ' (matched by position)' : ''}\n`);
    const rows: string[][] = [['', 'A', 'B', 'DIFF', '%']];
    rows.push(['Verdict', p.a.verdict, p.b.verdict, p.delta.verdict ?? '', '']);
    for (const m of METRICS) {
      const d = p.delta[m];
      rows.push([METRIC_LABELS[m], String(p.a[m] ?? '-'), String(p.b[m] ?? '-'), d ? (d.abs > 0 ? `+${d.abs}` : String(d.abs)) : '', d?.pct !== null && d?.pct !== undefined ? `${d.pct > 0 ? '+' : ''}${d.pct.toFixed(2)}%` : '']);
    }
    const w = rows[0]!.map((_, k) => Math.max(...rows.map((r) => (r[k] ?? '').length)));
    for (const r of rows) io.out('  ' + r.map((x, k) => (k === 0 ? x.padEnd(w[k]!) : x.padStart(w[k]!))).join('  ') + '\n');
    const fd = p.firstDivergence;
    if (fd) {
      io.out(`  first divergence: ${fd.reason}\n`);
      for (const [side, pt] of [['A', fd.a], ['B', fd.b]] as const) {
        io.out(`    ${side}: ${pt.insn === null ? 'walk ended' : `step ${pt.step}, insn ${pt.insn} (line ${pt.line}) ${pt.asm}`}${pt.source ? `  ; ${pt.source}` : ''}${pt.events.length ? `  [${pt.events.join('; ')}]` : ''}\n`);
      }
    } else io.out('  the two walks do not diverge\n');
    for (const [side, f] of [['A', p.a.finding], ['B', p.b.finding]] as const) if (f) io.out(`  finding ${side} (${f.kind}, insn ${f.insn}): ${f.explanation}\n`);
  }
  if (c.unmatched.a.length || c.unmatched.b.length) io.out(`\nunmatched: A ${c.unmatched.a.join(', ') || '-'}; B ${c.unmatched.b.join(', ') || '-'}\n`);
}
