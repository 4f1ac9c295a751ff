/**
 * The kernel's printed state at a log line, as the state pane's "kernel" column shows it: the last
 * value the kernel printed for each register and stack slot on the current path, and the last
 * printed `refs=`. Nothing is inferred about ownership (that is the model's job, and where the two
 * disagree the replay reports a divergence): values are only what the log says, with the one rule
 * every reader of a verifier log applies — a helper or kfunc call scratches R1–R5 (the kernel
 * prints only what it still tracks).
 *
 * Contract: `new PrintedState()`, then `push(record)` for the records of one program in log order
 * from a path start (a `from X to Y:` line) or the program's first line; `frames`, `frame`, `refs`,
 * `insn` describe the state after the last record, `changed` the holders the last record printed.
 * Pure.
 */
import type { LogRecord } from '../log/records.ts';
import { parseState, type ParsedState, type RegValue } from '../log/reg-state.ts';

export interface PrintedValue {
  /** `R6`, `fp-8`; frame > 0: `frame1.R6`. */
  name: string;
  frame: number;
  text: string;
  value: RegValue;
  /** Line where the kernel printed it. */
  line: number;
}

export interface PrintedFrame {
  regs: Map<string, PrintedValue>;
  slots: Map<string, PrintedValue>;
}

const CALL_RE = /^call ([A-Za-z_]\w*)/;

function holderName(frame: number, item: string): string {
  return frame > 0 ? `frame${frame}.${item}` : item;
}

export class PrintedState {
  frames = new Map<number, PrintedFrame>();
  frame = 0;
  refs: { ids: number[]; line: number } | null = null;
  changed = new Set<string>();
  insn = -1;
  line = 0;

  frameState(f: number): PrintedFrame {
    let s = this.frames.get(f);
    if (!s) this.frames.set(f, (s = { regs: new Map(), slots: new Map() }));
    return s;
  }

  /** Merge a printed state (a complete one replaces its frame and drops deeper frames). */
  private apply(ps: ParsedState, line: number, complete: boolean): void {
    const f = ps.frame ?? this.frame;
    this.frame = f;
    if (complete) {
      this.frames.set(f, { regs: new Map(), slots: new Map() });
      for (const k of [...this.frames.keys()]) if (k > f) this.frames.delete(k);
    }
    const fs = this.frameState(f);
    for (const r of ps.regs) this.put(fs.regs, f, `R${r.reg}`, r.value, line);
    for (const s of ps.stack) this.put(fs.slots, f, `fp${s.off}`, s.value, line);
    if (ps.refs) this.refs = { ids: ps.refs, line };
  }

  private put(m: Map<string, PrintedValue>, frame: number, key: string, value: RegValue, line: number): void {
    const name = holderName(frame, key);
    m.set(key, { name, frame, text: value.raw, value, line });
    this.changed.add(name);
  }

  push(rec: LogRecord): void {
    this.changed = new Set();
    this.line = rec.line;
    switch (rec.kind) {
      case 'branch':
        if (rec.safe || rec.state.trim() === '') return;
        this.frames = new Map();
        this.frame = 0;
        this.refs = null;
        this.insn = rec.to;
        this.apply(parseState(rec.state), rec.line, true);
        return;
      case 'state':
      case 'call-state': {
        const ps = parseState(rec.state);
        if (rec.kind === 'state') this.insn = rec.insn;
        this.apply(ps, rec.line, ps.regs.some((r) => r.reg === 10));
        return;
      }
      case 'insn': {
        this.insn = rec.insn;
        const call = CALL_RE.exec(rec.asm)?.[1];
        if (call !== undefined && call !== 'pc') {
          const fs = this.frameState(this.frame);
          for (const r of ['R1', 'R2', 'R3', 'R4', 'R5']) fs.regs.delete(r);
        }
        if (rec.suffix !== undefined) {
          const ps = parseState(rec.suffix);
          this.apply(ps, rec.line, false);
        }
        if (rec.glued) this.apply(parseState(rec.glued.state), rec.line, true);
        return;
      }
      default:
        return;
    }
  }

  /** Every printed holder, frame by frame. */
  holders(): PrintedValue[] {
    const out: PrintedValue[] = [];
    for (const f of [...this.frames.keys()].sort((a, b) => a - b)) {
      const s = this.frames.get(f);
      if (s) out.push(...s.regs.values(), ...s.slots.values());
    }
    return out;
  }
}
