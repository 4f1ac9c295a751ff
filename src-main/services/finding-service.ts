/**
 * The finding shown at the top of a run view, in plain words with links to the instructions it
 * names. For now from the kernel's own verdict (error text, failing instruction, statistics); the
 * ownership model's finding (why, not just where) replaces it behind the contract's `finding`.
 *
 * Contract: `kernelFinding(program, idx)` → Finding; every instruction number in the sentence is a
 * link segment carrying the line that shows it (the failing line, or the last execution of that
 * instruction before it).
 */
import type { Finding, TextSegment } from '../api/contract.ts';
import type { ProgramSummary } from '../ingest/verifier-log/program-state.ts';
import { K, type RunIndex } from './run-index.ts';

/** The last line executing `insn` at or before `before` (else the first anywhere in the program). */
function lineOfInsn(idx: RunIndex, p: ProgramSummary, insn: number, before: number | null): number | null {
  const last = Math.min(before ?? p.lastLine, p.lastLine);
  for (let l = last; l >= p.firstLine; l--) if (idx.kinds[l - 1] === K.insn && idx.insns[l - 1] === insn) return l;
  for (let l = p.firstLine; l <= p.lastLine; l++) if (idx.kinds[l - 1] === K.insn && idx.insns[l - 1] === insn) return l;
  return null;
}

const INSN_REF_RE = /\b(alloc_insn=|insn |insn#|at insn |idx )(\d+)/g;

/** Split a kernel message into text and instruction links. */
function linkInsns(idx: RunIndex, p: ProgramSummary, text: string): TextSegment[] {
  const out: TextSegment[] = [];
  let pos = 0;
  for (const m of text.matchAll(INSN_REF_RE)) {
    const at = m.index ?? 0;
    const prefix = m[1] ?? '';
    const insn = Number(m[2]);
    out.push({ text: text.slice(pos, at + prefix.length) });
    out.push({ text: String(insn), insn, line: lineOfInsn(idx, p, insn, p.failLine) });
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

export function kernelFinding(p: ProgramSummary, idx: RunIndex): Finding {
  const s: TextSegment[] = [];
  const name = p.name;
  const base = { program: p.index, verdict: p.verdict, source: 'kernel' as const };
  if (p.verdict === 'rejected') {
    s.push({ text: `The kernel rejected ${name}` });
    if (p.failInsn !== null) {
      s.push({ text: ' at ' }, { text: `instruction ${p.failInsn}`, insn: p.failInsn, line: p.failLine ?? lineOfInsn(idx, p, p.failInsn, null) });
    }
    if (p.error) s.push({ text: ': ' }, ...linkInsns(idx, p, firstLine(p.error)));
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
    if (p.error) s.push({ text: '; last error seen: ' }, ...linkInsns(idx, p, firstLine(p.error)));
    s.push({ text: '.' });
    return { ...base, severity: 'warning', sentence: s, insn: null, line: null };
  }
  s.push({ text: `Nothing to judge in the log of ${name}${p.loaderError ? `; the loader said: ${firstLine(p.loaderError)}` : ''}.` });
  return { ...base, severity: 'warning', sentence: s, insn: null, line: null };
}

/** The whole run's finding (program -1): the first rejected program's, else a summary. */
export function runFinding(idx: RunIndex): Finding {
  const progs = idx.programs.filter((p) => p.lines > 0);
  const bad = progs.find((p) => p.verdict === 'rejected');
  if (bad) {
    const f = kernelFinding(bad, idx);
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
