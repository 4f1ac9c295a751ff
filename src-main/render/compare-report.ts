/**
 * A comparison of two runs (compare-service's `Comparison`) as Markdown and CSV, for reviews,
 * bug reports and spreadsheets.
 *
 * Contract:
 * - `comparisonToMarkdown(c)`: a header naming both runs (log file name, run id, kernel), then per
 *   program a table `| Metric | A | B | Δ | Δ% |` (verdict, model verdict, the six veristat figures),
 *   the first divergence (reason; step, insn, line, instruction, source line and events of both
 *   sides) and both findings; unmatched programs at the end. GitHub-flavoured Markdown: names,
 *   instructions and source lines are code spans (backticks fenced longer than any inside, `|`
 *   escaped in tables); prose is backslash-escaped and `<`/`>`/`&` become entities, so a log line
 *   cannot inject markup.
 * - `comparisonToCsv(c)`: RFC 4180 CSV (LF line ends, fields quoted when needed), header
 *   `program,matched_by,metric,a,b,delta,delta_pct`, one row per program × metric (verdict,
 *   modelVerdict, the six figures, firstDivergenceInsn); text fields that a spreadsheet would read as
 *   a formula (leading = + - @ tab CR) are prefixed with `'`.
 * Logs are named by their file name only (no directories), so reports from two checkouts diff
 * cleanly. Deterministic: same input → same bytes; numbers are printed as given (Δ% with 2 decimals).
 */
import type { Comparison, DivergencePoint, Metric, ProgramComparison } from '../domain/views/comparison.ts';
import { METRICS } from '../domain/views/comparison.ts';
import type { Finding } from '../domain/model/types.ts';

export const METRIC_LABELS: Record<Metric, string> = {
  insnsProcessed: 'Insns processed',
  maxStatesPerInsn: 'Max states per insn',
  totalStates: 'Total states',
  peakStates: 'Peak states',
  verificationUsec: 'Verification time (µs)',
  stackDepth: 'Stack depth',
};

function baseName(p: string): string {
  const parts = p.split(/[\\/]/);
  return parts[parts.length - 1] || p;
}

function oneLine(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '').replace(/\s+/g, ' ').trim();
}

/** Prose for Markdown: backslash-escape markup characters, entities for < > &. */
export function mdText(s: string): string {
  return oneLine(s)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/([\\`*_[\]|~#!])/g, '\\$1');
}

/** A code span that survives any backticks inside it; `|` escaped for table cells. */
export function mdCode(s: string, inTable = true): string {
  const t = oneLine(s);
  if (t === '') return '';
  const runs = t.match(/`+/g) ?? [];
  const fence = '`'.repeat(Math.max(0, ...runs.map((r) => r.length)) + 1);
  const pad = t.startsWith('`') || t.endsWith('`') ? ' ' : '';
  const body = inTable ? t.replace(/\|/g, '\\|') : t;
  return `${fence}${pad}${body}${pad}${fence}`;
}

function signed(n: number): string {
  return n > 0 ? `+${n}` : String(n);
}

function pct(p: number | null | undefined): string {
  if (p === null || p === undefined) return '';
  return `${p > 0 ? '+' : ''}${p.toFixed(2)}%`;
}

function val(v: number | null | undefined): string {
  return v === null || v === undefined ? '—' : String(v);
}

function side(c: Comparison['a'], name: string): string {
  return `| ${name} | ${c.run} | ${mdCode(baseName(c.source))} | ${c.kernel ? mdCode(c.kernel) : 'unknown'} |`;
}

function pointRow(name: string, p: DivergencePoint): string {
  if (p.insn === null) return `| ${name} | ${p.step} | — | — | walk ended | | |`;
  return `| ${name} | ${p.step} | ${p.insn} | ${val(p.line)} | ${mdCode(p.asm ?? '')} | ${p.source ? mdCode(p.source) : ''} | ${p.events.length > 0 ? p.events.map((e) => mdCode(e)).join('<br>') : '—'} |`;
}

function findingLine(name: string, f: Finding | null, kernelDiagnostic: string | null = null): string {
  const diag = kernelDiagnostic ? `; the kernel's diagnostic: ${mdText(kernelDiagnostic)}` : '';
  if (!f) return `- ${name}: no finding${diag}`;
  return `- ${name}: **${mdText(f.kind)}** at insn ${f.insn} — ${mdText(f.explanation)}${diag}`;
}

function programSection(p: ProgramComparison): string[] {
  const out: string[] = [];
  out.push(`## ${mdText(p.name)}${p.matchedBy === 'position' ? ' (matched by position)' : ''}`, '');
  out.push('| Metric | A | B | Δ | Δ% |', '|---|---:|---:|---:|---:|');
  out.push(`| Verdict | ${mdText(p.a.verdict)} | ${mdText(p.b.verdict)} | ${p.delta.verdict ? mdText(p.delta.verdict) : ''} | |`);
  out.push(`| Model verdict | ${mdText(p.a.modelVerdict)} | ${mdText(p.b.modelVerdict)} | ${p.a.modelVerdict === p.b.modelVerdict ? '' : mdText(`${p.a.modelVerdict} → ${p.b.modelVerdict}`)} | |`);
  for (const m of METRICS) {
    const d = p.delta[m];
    out.push(`| ${METRIC_LABELS[m]} | ${val(p.a[m])} | ${val(p.b[m])} | ${d ? signed(d.abs) : ''} | ${d ? pct(d.pct) : ''} |`);
  }
  out.push('');
  const fd = p.firstDivergence;
  if (fd) {
    out.push(`**First divergence:** ${mdText(fd.reason)}`, '');
    out.push('| | Step | Insn | Line | Instruction | Source | Events |', '|---|---:|---:|---:|---|---|---|');
    out.push(pointRow('A', fd.a), pointRow('B', fd.b), '');
  } else {
    out.push('**First divergence:** none — the two walks do not diverge', '');
  }
  out.push('**Findings**', '', findingLine('A', p.a.finding, p.a.kernelDiagnostic), findingLine('B', p.b.finding, p.b.kernelDiagnostic), '');
  return out;
}

export function comparisonToMarkdown(c: Comparison): string {
  const out: string[] = [];
  out.push(`# Comparison: ${mdText(baseName(c.a.source))} vs ${mdText(baseName(c.b.source))}`, '');
  out.push('| | Run | Log | Kernel |', '|---|---:|---|---|', side(c.a, 'A'), side(c.b, 'B'), '');
  out.push(`Replayed with the ownership rules of kernel ${mdText(c.kernelProfile)}.`, '');
  for (const p of c.programs) out.push(...programSection(p));
  if (c.programs.length === 0) out.push('No programs to compare.', '');
  if (c.unmatched.a.length > 0 || c.unmatched.b.length > 0) {
    out.push('## Unmatched programs', '');
    out.push(`- only in A: ${c.unmatched.a.map((n) => mdCode(n, false)).join(', ') || '—'}`);
    out.push(`- only in B: ${c.unmatched.b.map((n) => mdCode(n, false)).join(', ') || '—'}`, '');
  }
  while (out[out.length - 1] === '') out.pop();
  return out.join('\n') + '\n';
}

/** One CSV field: quoted when it holds a comma, quote or line break; formula-looking text defused. */
export function csvField(v: string | number | null | undefined, isText = true): string {
  if (v === null || v === undefined) return '';
  let s = String(v);
  if (isText && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function comparisonToCsv(c: Comparison): string {
  const rows: string[] = ['program,matched_by,metric,a,b,delta,delta_pct'];
  const row = (p: ProgramComparison, metric: string, a: string | number | null, b: string | number | null, delta: string | number | null, dpct: number | null, numeric: boolean) =>
    rows.push(
      [csvField(p.name), csvField(p.matchedBy), csvField(metric), csvField(a, !numeric), csvField(b, !numeric), csvField(delta, !numeric), dpct === null ? '' : dpct.toFixed(2)].join(','),
    );
  for (const p of c.programs) {
    row(p, 'verdict', p.a.verdict, p.b.verdict, p.delta.verdict ?? '', null, false);
    row(p, 'modelVerdict', p.a.modelVerdict, p.b.modelVerdict, p.a.modelVerdict === p.b.modelVerdict ? '' : `${p.a.modelVerdict} → ${p.b.modelVerdict}`, null, false);
    for (const m of METRICS) {
      const d = p.delta[m];
      row(p, m, p.a[m], p.b[m], d ? d.abs : null, d ? d.pct : null, true);
    }
    const fd = p.firstDivergence;
    row(p, 'firstDivergenceInsn', fd ? fd.a.insn : null, fd ? fd.b.insn : null, fd ? fd.reason : '', null, false);
  }
  return rows.join('\n') + '\n';
}
