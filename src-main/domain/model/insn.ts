/**
 * Decodes the disassembly text of an instruction line (reference §1.3) into the few operation
 * shapes the ownership model cares about.
 *
 * Contract: pure; anything unrecognised is `{ op: 'other' }` (no ownership effect).
 */

export type Insn =
  | { op: 'call'; name: string; num: number }
  | { op: 'subcall'; target: number }
  | { op: 'exit' }
  | { op: 'goto'; target: number }
  | { op: 'cond'; reg: number; wide: boolean; cmp: string; imm?: string; src?: number; target: number }
  | { op: 'ldx'; dst: number; size: string; src: number; off: number }
  | { op: 'stx'; dst: number; size: string; off: number; src: number }
  | { op: 'st'; dst: number; size: string; off: number; imm: string }
  | { op: 'mov'; dst: number; src: number; wide: boolean; sx: boolean }
  | { op: 'movimm'; dst: number; imm: string; ld64: boolean }
  | { op: 'alu'; dst: number; aluOp: string; imm?: string; src?: number; wide: boolean }
  | { op: 'atomic'; dst?: number; base: number }
  | { op: 'other' };

// BPF has registers r0–r10 only: anything else is not an instruction this model knows (→ 'other').
const RE = {
  call: /^call ([A-Za-z_][\w]*)#(\d+)$/,
  callKernel: /^call kernel-function#?(\d*)$/,
  subcall: /^call pc([+-]\d+)$/,
  goto: /^(?:goto|gotol) pc([+-]\d+)$/,
  cond: /^if ([rw])(10|[0-9])(?![0-9]) (\S+) (?:([rw])(10|[0-9])(?![0-9])|(-?(?:0x[0-9a-fA-F]+|\d+))) goto pc([+-]\d+)$/,
  ldx: /^([rw])(10|[0-9])(?![0-9]) = \*\(([us]\d+) \*\)\(r(10|[0-9])(?![0-9]) ([+-]\d+)\)$/,
  stx: /^\*\(([us]\d+) \*\)\(r(10|[0-9])(?![0-9]) ([+-]\d+)\) = ([rw])(10|[0-9])(?![0-9])$/,
  st: /^\*\(([us]\d+) \*\)\(r(10|[0-9])(?![0-9]) ([+-]\d+)\) = (-?(?:0x[0-9a-fA-F]+|\d+))$/,
  mov: /^([rw])(10|[0-9])(?![0-9]) = (\(s\d+\))?([rw])(10|[0-9])(?![0-9])$/,
  movimm: /^([rw])(10|[0-9])(?![0-9]) = (-?(?:0x[0-9a-fA-F]+|\d+))$/,
  alu: /^([rw])(10|[0-9])(?![0-9]) (\+|-|\*|\/|s\/|%|s%|\||&|\^|<<|>>|s>>)= (?:([rw])(10|[0-9])(?![0-9])|(-?(?:0x[0-9a-fA-F]+|\d+)))$/,
  atomicFetch: /^([rw])(10|[0-9])(?![0-9]) = atomic(?:64)?_\w+\(\(u\d+ \*\)\(r(10|[0-9])(?![0-9]) [+-]\d+\)/,
  lock: /^lock \*\(u\d+ \*\)\(r(10|[0-9])(?![0-9]) [+-]\d+\)/,
};

function num(s: string): string {
  if (/^-?0x/i.test(s)) {
    const neg = s.startsWith('-');
    const v = BigInt(neg ? s.slice(1) : s);
    return (neg ? -v : v).toString();
  }
  return s;
}

export function decodeInsn(insn: number, opcode: string, asm: string): Insn {
  let m: RegExpExecArray | null;
  if ((m = RE.call.exec(asm))) return { op: 'call', name: m[1] as string, num: Number(m[2]) };
  if ((m = RE.callKernel.exec(asm))) return { op: 'call', name: 'kernel-function', num: Number(m[1] || 0) };
  if ((m = RE.subcall.exec(asm))) return { op: 'subcall', target: insn + Number(m[1]) + 1 };
  if (asm === 'exit') return { op: 'exit' };
  if ((m = RE.goto.exec(asm))) return { op: 'goto', target: insn + Number(m[1]) + 1 };
  if ((m = RE.cond.exec(asm))) {
    const c: Insn = { op: 'cond', reg: Number(m[2]), wide: m[1] === 'r', cmp: m[3] as string, target: insn + Number(m[7]) + 1 };
    if (m[5] !== undefined) c.src = Number(m[5]);
    if (m[6] !== undefined) c.imm = num(m[6]);
    return c;
  }
  if ((m = RE.ldx.exec(asm))) return { op: 'ldx', dst: Number(m[2]), size: m[3] as string, src: Number(m[4]), off: Number(m[5]) };
  if ((m = RE.stx.exec(asm))) return { op: 'stx', size: m[1] as string, dst: Number(m[2]), off: Number(m[3]), src: Number(m[5]) };
  if ((m = RE.st.exec(asm))) return { op: 'st', size: m[1] as string, dst: Number(m[2]), off: Number(m[3]), imm: num(m[4] as string) };
  if ((m = RE.mov.exec(asm))) {
    return { op: 'mov', dst: Number(m[2]), src: Number(m[5]), wide: m[1] === 'r' && m[4] === 'r', sx: m[3] !== undefined };
  }
  if ((m = RE.movimm.exec(asm))) return { op: 'movimm', dst: Number(m[2]), imm: num(m[3] as string), ld64: opcode === '18' };
  if ((m = RE.alu.exec(asm))) {
    const a: Insn = { op: 'alu', dst: Number(m[2]), aluOp: m[3] as string, wide: m[1] === 'r' };
    if (m[5] !== undefined) a.src = Number(m[5]);
    if (m[6] !== undefined) a.imm = num(m[6]);
    return a;
  }
  if ((m = RE.atomicFetch.exec(asm))) return { op: 'atomic', dst: Number(m[2]), base: Number(m[3]) };
  if ((m = RE.lock.exec(asm))) return { op: 'atomic', base: Number(m[1]) };
  const d = /^[rw](10|[0-9]) = /.exec(asm);
  if (d) return { op: 'alu', dst: Number(d[1]), aluOp: '?', wide: true };
  return { op: 'other' };
}

/** Index of the instruction that follows `insn` in straight-line order (ld_imm64 takes two slots). */
export function nextInsn(insn: number, opcode: string): number {
  return opcode === '18' ? insn + 2 : insn + 1;
}
