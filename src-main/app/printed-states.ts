/**
 * The kernel's printed state at a line of a stored run (the state pane's kernel column), rebuilt
 * from the log lines of the current path with domain/views/printed-state.ts.
 *
 * Contract: `PrintedStates.at(idx, program, first, line)` reads the lines from the last path start
 * at or before `line` (at most MAX_WALK lines back; older values are then missing and the answer
 * says `partial`) and returns the contract's KernelState. Stepping forward on the same path
 * continues the previous read instead of starting over.
 */
import type { KernelState, RegisterState } from '../contract/contract.ts';
import { recordFromStored } from '../domain/log/stored-lines.ts';
import { PrintedState, type PrintedValue } from '../domain/views/printed-state.ts';
import { K, type RunIndex } from './run-index.ts';

export const MAX_WALK = 20_000;

const READ = new Set<number>([K.branch, K.state, K['call-state'], K.insn]);

interface Walk {
  key: string;
  from: number;
  to: number;
  state: PrintedState;
  partial: boolean;
}

function regOrder(name: string): number {
  const m = /^(?:frame(\d+)\.)?(?:R(\d+)|fp(-?\d+))$/.exec(name);
  if (!m) return 1e9;
  const frame = Number(m[1] ?? 0) * 10_000;
  return m[2] !== undefined ? frame + Number(m[2]) : frame + 100 - Number(m[3]);
}

function registerState(h: PrintedValue, changed: Set<string>): RegisterState {
  const v = h.value.kind === 'slot' && h.value.spilled ? h.value.spilled : h.value;
  const r: RegisterState = { name: h.name, text: h.text, line: h.line, changed: changed.has(h.name) };
  if (v.kind === 'typed') {
    if (v.attrs.refObjId !== undefined) r.refObjId = v.attrs.refObjId;
    if (v.attrs.nonOwnRef) r.nonOwning = true;
    if (v.maybeNull) r.maybeNull = true;
  }
  return r;
}

function kernelState(s: PrintedState, fromLine: number, partial: boolean, atLine: number): KernelState {
  const changed = s.line === atLine ? s.changed : new Set<string>();
  const regs: RegisterState[] = [];
  const slots: RegisterState[] = [];
  for (const f of [...s.frames.keys()].sort((a, b) => a - b)) {
    const fs = s.frames.get(f);
    if (!fs) continue;
    for (const h of fs.regs.values()) regs.push(registerState(h, changed));
    for (const h of fs.slots.values()) slots.push(registerState(h, changed));
  }
  regs.sort((a, b) => regOrder(a.name) - regOrder(b.name));
  slots.sort((a, b) => regOrder(a.name) - regOrder(b.name));
  // The kernel does not print the held lock: the model's column shows it.
  return { frame: s.frame, registers: regs, slots, refs: s.refs, lock: null, fromLine, partial };
}

/** Start of the read for `line`: the last path start at or before it (bounded by MAX_WALK). */
function walkStart(idx: RunIndex, first: number, line: number): { from: number; partial: boolean } {
  const floor = Math.max(first, line - MAX_WALK);
  for (let l = line; l >= floor; l--) if (idx.kinds[l - 1] === K.branch) return { from: l, partial: false };
  return { from: floor, partial: floor > first };
}

function hasBranch(idx: RunIndex, from: number, to: number): boolean {
  for (let l = from; l <= to; l++) if (idx.kinds[l - 1] === K.branch) return true;
  return false;
}

async function readRange(idx: RunIndex, s: PrintedState, from: number, to: number, program: number): Promise<void> {
  for (let l = from; l <= to; l++) {
    const kind = idx.kinds[l - 1] ?? 0;
    if (!READ.has(kind)) continue;
    s.push(recordFromStored({ line: l, kind, text: await idx.textAt(l) }, program));
  }
}

export class PrintedStates {
  private last: Walk | null = null;

  async at(idx: RunIndex, program: number, first: number, line: number): Promise<{ insn: number; kernel: KernelState }> {
    const key = `${idx.runId}:${program}`;
    const c = this.last;
    let w: Walk;
    if (c && c.key === key && c.to <= line && line - c.from <= 4 * MAX_WALK && !hasBranch(idx, c.to + 1, line)) {
      if (c.to < line) await readRange(idx, c.state, c.to + 1, line, program);
      c.to = line;
      w = c;
    } else {
      const { from, partial } = walkStart(idx, first, line);
      w = { key, from, to: line, state: new PrintedState(), partial };
      await readRange(idx, w.state, from, line, program);
      this.last = w;
    }
    return { insn: w.state.insn, kernel: kernelState(w.state, w.from, w.partial, line) };
  }

  reset(): void {
    this.last = null;
  }
}
