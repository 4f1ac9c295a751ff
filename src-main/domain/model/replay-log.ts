/**
 * What a replay reports: ownership events, findings, divergences from the kernel's printed state,
 * the steps walked, and the kernel's own error lines.
 *
 * Contract: every entry is placed at the shared Cursor's instruction and line; an event belongs to
 * the step that is recorded next. While the current path is blind (it began without a printed
 * state, e.g. a rotated log's head) divergences and findings other than `outside-model` are not
 * reported: there is nothing to judge from. A finding names its objects with their type,
 * allocation instruction, ref id and current (else last) holders.
 */
import type { Divergence, EventKind, Finding, FindingKind, OwnershipEvent, Step } from './types.ts';
import { holdersOf } from './path-state.ts';
import type { Cursor, ObjectTable } from './object-table.ts';

export class ReplayLog {
  readonly events: OwnershipEvent[] = [];
  readonly findings: Finding[] = [];
  readonly divergences: Divergence[] = [];
  readonly kernelErrors: string[] = [];
  /** Per-step insn, line, path index (Step objects are built by `steps`). */
  private readonly stepCols: number[] = [];

  constructor(
    private readonly cur: Cursor,
    private readonly objects: ObjectTable,
  ) {}

  event(kind: EventKind, object: number, from: string | null, to: string | null): void {
    this.events.push({ step: this.stepCols.length / 3, insn: this.cur.insn, line: this.cur.line, kind, object, from, to });
  }

  divergence(what: string, model: string, kernel: string): void {
    if (this.cur.s?.blind) return;
    this.divergences.push({ insn: this.cur.insn, line: this.cur.line, what, model, kernel });
  }

  finding(kind: FindingKind, objs: number[], explanation: string, extra: { feature?: string; kernelText?: string } = {}): void {
    const s = this.cur.s;
    if (s?.blind && kind !== 'outside-model') return; // no printed state yet: nothing to judge from
    const f: Finding = {
      kind,
      insn: this.cur.insn,
      line: this.cur.line,
      objects: objs.map((id) => {
        const o = this.objects.obj(id);
        const now = s ? holdersOf(s, id) : [];
        const last = now.length > 0 ? now : (this.objects.lastHolders.get(id)?.holders ?? []);
        const fo: Finding['objects'][number] = { type: o?.type ?? '?', allocInsn: o?.allocInsn ?? -1, lastHolders: last, object: id };
        if (o?.refId !== undefined) fo.refId = o.refId;
        return fo;
      }),
      path: s ? [...s.path] : [],
      explanation,
    };
    if (extra.feature !== undefined) f.feature = extra.feature;
    if (extra.kernelText !== undefined) f.kernelText = extra.kernelText;
    this.findings.push(f);
  }

  step(pathIndex: number): void {
    this.stepCols.push(this.cur.insn, this.cur.line, pathIndex);
  }

  steps(): Step[] {
    const c = this.stepCols;
    const n = c.length / 3;
    const out: Step[] = [];
    for (let i = 0; i < n; i++) out.push({ insn: c[i * 3] as number, line: c[i * 3 + 1] as number, pathIndex: c[i * 3 + 2] as number });
    return out;
  }
}
