/**
 * The finding shown at the top of a run view, in plain words with links to the instructions it
 * names: the ownership model's finding (why: which object, where it was allocated or acquired, who
 * held it last, on which path) followed by the kernel's own verdict in its words (error text,
 * failing instruction, statistics) — one sentence, both in view.
 *
 * Contract: `programFinding(p, model, lines)` → FindingView; every instruction number in the
 * sentence is a link segment carrying the line that shows it (`lines.lineOfInsn(insn, before)`:
 * the last execution of that instruction at or before `before`, else the first anywhere).
 * `runFinding(programs, …)` is the whole log's (program -1). Pure.
 */
import type { Finding as ModelFinding } from '../model/types.ts';
import type { ProgramSummary } from '../log/program-state.ts';
import { checkDiagnostics, diagnosticSentence, type DiagnosticDisagreement } from './kernel-diagnostic-view.ts';

/** A sentence as segments: plain text, or a link to an instruction (and the line that shows it). */
export type TextSegment = { text: string } | { text: string; insn: number; line: number | null };

export interface FindingView {
  program: number;
  verdict: ProgramSummary['verdict'];
  source: 'kernel' | 'model';
  /** error | ok | truncated | unknown: how to style it. */
  severity: 'error' | 'ok' | 'warning';
  sentence: TextSegment[];
  /** The instruction the finding is about (failing insn), if any. */
  insn: number | null;
  line: number | null;
  /** The kernel's own diagnostic (7.3+) in words, beside the finding; null when it printed none. */
  kernelDiagnostic?: TextSegment[] | null;
  /** Where the kernel's diagnostic and the model's finding disagree (shown like a divergence). */
  diagnosticDisagreements?: DiagnosticDisagreement[];
  /** The kernel refused the object's BTF: the program was loaded and judged without it. */
  btfRefused?: boolean;
}

export interface InsnLines {
  /** The last line of program `p` executing `insn` at or before `before` (else the first anywhere). */
  lineOfInsn(p: ProgramSummary, insn: number, before: number | null): number | null;
}

type Finding = FindingView;

const INSN_REF_RE = /\b(alloc_insn=|insn |insn#|at insn |idx )(\d+)/g;

/** Split a kernel message into text and instruction links. */
function linkInsns(lines: InsnLines, p: ProgramSummary, text: string): TextSegment[] {
  const out: TextSegment[] = [];
  let pos = 0;
  for (const m of text.matchAll(INSN_REF_RE)) {
    const at = m.index ?? 0;
    const prefix = m[1] ?? '';
    const insn = Number(m[2]);
    out.push({ text: text.slice(pos, at + prefix.length) });
    out.push({ text: String(insn), insn, line: lines.lineOfInsn(p, insn, p.failLine) });
    pos = at + m[0].length;
  }
  out.push({ text: text.slice(pos) });
  return out.filter((s) => s.text !== '');
}

function firstLine(text: string): string {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const head = (lines[0] ?? '').trim();
  return lines.length > 1 ? `${head} (+${lines.length - 1} more line${lines.length > 2 ? 's' : ''})` : head;
}

export function kernelFinding(p: ProgramSummary, lines: InsnLines): Finding {
  const s: TextSegment[] = [];
  const name = p.name;
  const base = { program: p.index, verdict: p.verdict, source: 'kernel' as const };
  if (p.verdict === 'rejected') {
    s.push({ text: `The kernel rejected ${name}` });
    if (p.failInsn !== null) {
      s.push({ text: ' at ' }, { text: `instruction ${p.failInsn}`, insn: p.failInsn, line: p.failLine ?? lines.lineOfInsn(p, p.failInsn, null) });
    }
    if (p.error) s.push({ text: ': ' }, ...linkInsns(lines, p, firstLine(p.error)));
    else if (p.loaderError) s.push({ text: `; the loader said: ${firstLine(p.loaderError)}` });
    s.push({ text: '.' });
    return { ...base, severity: 'error', sentence: s, insn: p.failInsn, line: p.failLine };
  }
  if (p.verdict === 'accepted') {
    const n = p.stats.insnsProcessed;
    s.push({ text: `The kernel accepted ${name}${n !== undefined ? ` after processing ${n.toLocaleString('en-US')} instructions` : ''}; its log shows no error.` });
    return { ...base, severity: 'ok', sentence: s, insn: null, line: null };
  }
  if (p.verdict === 'truncated') {
    const what = p.truncation === 'head' ? 'its beginning was lost' : p.truncation === 'tail' ? 'its end was lost' : p.truncation === 'head+tail' ? 'its beginning and end were lost' : 'only a summary remains';
    s.push({ text: `The log of ${name} is truncated (${what}): the kernel's verdict cannot be read from it` });
    if (p.error) s.push({ text: '; last error seen: ' }, ...linkInsns(lines, p, firstLine(p.error)));
    s.push({ text: '.' });
    return { ...base, severity: 'warning', sentence: s, insn: null, line: null };
  }
  if (p.verdict === 'not-loaded') {
    s.push({ text: `${name} never reached the kernel: the loader stopped at ${p.blockedBy ?? 'another program of the object'}, which failed first, and did not try ${name}. Its own verdict needs a load of it alone (kptrscope capture loads each program on its own).` });
    return { ...base, severity: 'warning', sentence: s, insn: null, line: null };
  }
  if (p.verdict === 'unsupported') {
    s.push({ text: `This kernel cannot load ${name}: the loader could not even attempt it${p.loaderError ? ` (${firstLine(p.loaderError)})` : ''}.` });
    return { ...base, severity: 'warning', sentence: s, insn: null, line: null };
  }
  s.push({ text: `Nothing to judge in the log of ${name}${p.loaderError ? `; the loader said: ${firstLine(p.loaderError)}` : ''}.` });
  return { ...base, severity: 'warning', sentence: s, insn: null, line: null };
}

/** The whole run's finding (program -1): the first rejected program's, else a summary. */
export function runFinding(programs: readonly ProgramSummary[], lines: InsnLines): Finding {
  const progs = programs.filter((p) => p.lines > 0);
  const bad = progs.find((p) => p.verdict === 'rejected');
  if (bad) {
    const f = kernelFinding(bad, lines);
    return { ...f, program: -1, sentence: [{ text: `${progs.length} program${progs.length === 1 ? '' : 's'} in this log. ` }, ...f.sentence] };
  }
  const counts = new Map<string, number>();
  for (const p of progs) counts.set(p.verdict, (counts.get(p.verdict) ?? 0) + 1);
  const parts = [...counts].map(([v, n]) => `${n} ${v}`).join(', ');
  const allOk = progs.length > 0 && progs.every((p) => p.verdict === 'accepted');
  return {
    program: -1,
    verdict: allOk ? 'accepted' : progs.length === 0 ? 'unknown' : (progs.find((p) => p.verdict !== 'accepted')?.verdict ?? 'unknown'),
    source: 'kernel',
    severity: allOk ? 'ok' : 'warning',
    sentence: [{ text: `${progs.length} program${progs.length === 1 ? '' : 's'} in this log: ${parts || 'none'}.` }],
    insn: null,
    line: null,
  };
}

/**
 * The model's finding as a sentence with links to the instructions it names, then the kernel's
 * verdict (`agree`: whether the kernel rejected at the same instruction; null when its verdict is
 * incomplete). Null when the model has no finding (the program was accepted).
 */
export function modelFinding(p: ProgramSummary, f: ModelFinding | null, agree: boolean | null, lineOfInsn: (insn: number) => number | null): Finding | null {
  if (!f) return null;
  const segs: TextSegment[] = [];
  const text = /[.!?]$/.test(f.explanation) ? f.explanation : `${f.explanation}.`;
  let pos = 0;
  for (const m of text.matchAll(/\b(insns? |at |alloc_insn=)(\d+)\b/g)) {
    const at = (m.index ?? 0) + (m[1] as string).length;
    const insn = Number(m[2]);
    segs.push({ text: text.slice(pos, at) });
    segs.push({ text: String(insn), insn, line: insn === f.insn ? f.line : lineOfInsn(insn) });
    pos = at + (m[2] as string).length;
  }
  segs.push({ text: text.slice(pos) });
  const said = agree === true ? ' The kernel rejected it at the same instruction.' : agree === false ? ` The kernel said: ${p.verdict}${p.failInsn !== null ? ` at instruction ${p.failInsn}` : ''}.` : '';
  if (said) segs.push({ text: said });
  return {
    program: p.index,
    verdict: p.verdict,
    source: 'model',
    severity: 'error',
    sentence: segs.filter((x) => x.text !== ''),
    insn: f.insn >= 0 ? f.insn : null,
    line: f.insn >= 0 ? f.line : null,
  };
}

/** A program's finding: the model's (when it has one), followed by the kernel's words. */
export function programFinding(p: ProgramSummary, model: { finding: ModelFinding | null; agree: boolean | null } | null, lines: InsnLines): Finding {
  const kernel = kernelFinding(p, lines);
  const mf = model ? modelFinding(p, model.finding, model.agree, (insn) => lines.lineOfInsn(p, insn, null)) : null;
  const diag = p.kernelDiagnostics[p.kernelDiagnostics.length - 1] ?? null;
  const extra = {
    kernelDiagnostic: diag ? diagnosticSentence(p, diag, lines) : null,
    diagnosticDisagreements: checkDiagnostics(p.kernelDiagnostics, model?.finding ?? null),
    btfRefused: p.btfRefused,
  };
  // A refused BTF is said once: by the model's finding when there is one, else here (and the app's banner).
  const btfNote: TextSegment[] = p.btfRefused ? [{ text: " The kernel refused this object's BTF: the program was loaded, and is judged here, without it." }] : [];
  if (!mf) return { ...kernel, sentence: [...kernel.sentence, ...btfNote], ...extra };
  return { ...mf, sentence: [...mf.sentence, { text: ' — ' }, ...kernel.sentence], ...extra };
}
