/**
 * The kernel's own diagnostic (7.3+, domain/log/kernel-diagnostic.ts) beside kptrscope's finding:
 * a sentence with every instruction a link, and the cross-check of the two.
 *
 * Contract (pure):
 * - `diagnosticSentence(p, diag, lines)` → segments: "The kernel's diagnostic: <Category>: <Title>
 *   at instruction N (file:line) — <reason> Causal path: acquired at insn A, branch at insn B, …
 *   Suggestion: …".
 * - `checkDiagnostics(diags, finding)` → the disagreements between the kernel's diagnostics and the
 *   model's finding, each `{ what, kernel, model }`: the failing instruction (the last block's
 *   `at.insn` against the finding's), and for every resource a block names (`owned resource (id=N)`
 *   acquired at insn A; a leak prints one block per reference) the same reference among the
 *   finding's objects and its acquire instruction. Empty when they agree, when the kernel printed no
 *   diagnostic, or when the model has no finding of its own (outside-model findings repeat the
 *   kernel's words: nothing to check).
 */
import type { KernelDiagnostic } from '../log/kernel-diagnostic.ts';
import type { ProgramSummary } from '../log/program-state.ts';
import type { Finding } from '../model/types.ts';
import type { InsnLines, TextSegment } from './finding.ts';

export interface DiagnosticDisagreement {
  what: 'failing instruction' | 'resource' | 'acquired at';
  kernel: string;
  model: string;
}

/** The reference a diagnostic is about: the id its reason or an `acquired` event names. */
export function diagnosticResource(d: KernelDiagnostic): { id: number; acquiredInsn: number | null } | null {
  const acquired = d.causalPath.find((e) => e.kind === 'acquired' && /\(id=\d+\)/.test(e.text));
  const m = /\(id=(\d+)\)/.exec(acquired?.text ?? d.reason ?? '');
  if (!m) return null;
  const id = Number(m[1]);
  const fromReason = /acquired at instruction (\d+)/.exec(d.reason ?? '');
  return { id, acquiredInsn: acquired?.insn ?? (fromReason ? Number(fromReason[1]) : null) };
}

export function checkDiagnostics(diags: readonly KernelDiagnostic[], f: Finding | null): DiagnosticDisagreement[] {
  const last = diags[diags.length - 1];
  if (!last || !f || f.kind === 'outside-model') return [];
  const out: DiagnosticDisagreement[] = [];
  if (last.at?.insn !== null && last.at?.insn !== undefined && last.at.insn !== f.insn) {
    out.push({ what: 'failing instruction', kernel: `insn ${last.at.insn}`, model: `insn ${f.insn}` });
  }
  for (const d of diags) checkResource(d, f, out);
  return out;
}

function checkResource(d: KernelDiagnostic, f: Finding, out: DiagnosticDisagreement[]): void {
  const res = diagnosticResource(d);
  if (res) {
    const obj = f.objects.find((o) => o.refId === res.id);
    if (!obj) {
      const named = f.objects.map((o) => (o.refId !== undefined ? `id=${o.refId}` : o.type)).join(', ');
      out.push({ what: 'resource', kernel: `id=${res.id}`, model: named || 'no object' });
    } else if (res.acquiredInsn !== null && obj.allocInsn !== res.acquiredInsn) {
      out.push({ what: 'acquired at', kernel: `insn ${res.acquiredInsn}`, model: `insn ${obj.allocInsn}` });
    }
  }
}

/** `Category: Title at insn N` — the diagnostic in one line (export titles, compare reports). */
export function diagnosticOneLine(d: KernelDiagnostic): string {
  return `${d.category}${d.title ? `: ${d.title}` : ''}${d.at?.insn !== null && d.at?.insn !== undefined ? ` at insn ${d.at.insn}` : ''}`;
}

export function diagnosticSentence(p: ProgramSummary, d: KernelDiagnostic, lines: InsnLines): TextSegment[] {
  const link = (insn: number, label = `instruction ${insn}`): TextSegment => ({ text: label, insn, line: lines.lineOfInsn(p, insn, p.failLine) });
  const s: TextSegment[] = [{ text: `The kernel's diagnostic: ${d.category}${d.title ? `: ${d.title}` : ''}` }];
  if (d.at?.insn !== null && d.at?.insn !== undefined) {
    s.push({ text: ' at ' }, link(d.at.insn));
    if (d.at.file) s.push({ text: ` (${d.at.file}:${d.at.line ?? '?'})` });
  }
  if (d.reason) s.push({ text: ` — ${d.reason}` });
  const events = d.causalPath.filter((e) => e.kind !== 'note');
  if (events.length > 0) {
    s.push({ text: ' Causal path: ' });
    events.forEach((e, i) => {
      if (i > 0) s.push({ text: ', ' });
      s.push({ text: `${e.kind} at ` });
      if (e.insn !== null) s.push(link(e.insn, `insn ${e.insn}`));
      else s.push({ text: '?' });
    });
    if (d.omittedEvents > 0) s.push({ text: ` (+${d.omittedEvents} omitted)` });
    s.push({ text: '.' });
  }
  if (d.activeLock?.insn !== null && d.activeLock?.insn !== undefined) s.push({ text: ' Lock taken at ' }, link(d.activeLock.insn, `insn ${d.activeLock.insn}`), { text: '.' });
  if (d.suggestion) s.push({ text: ` Suggestion: ${d.suggestion}` });
  return s;
}
