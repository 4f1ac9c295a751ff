/**
 * The matrix as text: the terminal table, Markdown (a review comment) and CSV (one row per program
 * and kernel). Pure; CSV fields that a spreadsheet would read as a formula are quoted with a `'`.
 */
import type { Matrix, MatrixCell, MatrixDifference } from '../domain/views/matrix.ts';

function cellText(c: MatrixCell | undefined): string {
  if (!c) return '';
  const parts: string[] = [c.verdict];
  if (c.insnsProcessed !== null) parts.push(`${c.insnsProcessed} insns`);
  if (c.finding) parts.push(`${c.finding.kind}@${c.finding.insn}`);
  if (c.blockedBy) parts.push(`blocked by ${c.blockedBy}`);
  return parts.join(', ');
}

function differenceText(d: MatrixDifference): string {
  return `${d.from} → ${d.to}${d.insn !== null ? ` at insn ${d.insn}` : ''}: ${d.rule ? `${d.rule} (since ${d.since})` : 'no profile rule'} — ${d.explanation}`;
}

const mdCell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function matrixMarkdown(m: Matrix): string {
  const out: string[] = [];
  out.push(`| object | program | ${m.kernels.join(' | ')} |`);
  out.push(`|---|---|${m.kernels.map(() => '---').join('|')}|`);
  for (const p of m.programs) out.push(`| ${mdCell(p.object)} | ${mdCell(p.name)} | ${m.kernels.map((k) => mdCell(cellText(p.cells[k]))).join(' | ')} |`);
  const diffs = m.programs.filter((p) => p.differences.length > 0);
  if (diffs.length > 0) {
    out.push('', '**Verdicts that change**', '');
    for (const p of diffs) for (const d of p.differences) out.push(`- \`${mdCell(p.object)}\` ${mdCell(p.name)}: ${mdCell(differenceText(d))}`);
  }
  return out.join('\n') + '\n';
}

const csvField = (s: string) => {
  const safe = /^[=+\-@\t\r]/.test(s) ? `'${s}` : s;
  return /[",\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
};

/** One row per program × kernel: object, sha256, program, series, release, verdict, insns, finding, run. */
export function matrixCsv(m: Matrix): string {
  const rows = [['object', 'sha256', 'program', 'series', 'release', 'verdict', 'insnsProcessed', 'findingKind', 'findingInsn', 'runId', 'changeFromPrevious', 'rule', 'since']];
  for (const p of m.programs) {
    for (const k of m.kernels) {
      const c = p.cells[k];
      if (!c) continue;
      const d = p.differences.find((x) => x.to === k);
      rows.push([p.object, p.sha256 ?? '', p.name, k, c.release ?? '', c.verdict, c.insnsProcessed === null ? '' : String(c.insnsProcessed), c.finding?.kind ?? '', c.finding ? String(c.finding.insn) : '', String(c.runId), d ? `${d.from}→${d.to}` : '', d?.rule ?? '', d?.since ?? '']);
    }
  }
  return rows.map((r) => r.map(csvField).join(',')).join('\n') + '\n';
}

/** The terminal table: one line per program, one column per series, then the changes. */
export function matrixText(m: Matrix): string {
  const header = ['object', 'program', ...m.kernels];
  const body = m.programs.map((p) => [p.object, p.name, ...m.kernels.map((k) => cellText(p.cells[k]))]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => (r[i] as string).length)));
  const line = (r: string[]) => r.map((x, i) => x.padEnd(widths[i] as number)).join('  ').trimEnd();
  const out = [line(header), ...body.map(line)];
  for (const p of m.programs) for (const d of p.differences) out.push(`  ${p.object} ${p.name}: ${differenceText(d)}`);
  return out.join('\n') + '\n';
}
