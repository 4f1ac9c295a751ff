// Log formats of older kernels, from real lines of those kernels' verifier logs, copied in below (no
// real captures from those kernels are in the repository yet): 5.8/5.10 level 2 with a full state
// before every instruction and old precision lines, 6.1–6.6 lines without `@ file:line`, 6.4 kptr
// loads.
import { describe, it, expect } from 'vitest';
import { parseText } from '../helpers/parse.ts';
import { classifyKernelLine } from '../../src-main/domain/log/line-grammar.ts';

describe('older kernel formats', () => {
  it('5.8-era level 2 (real sample): every line typed, stats read', () => {
    const log = [
      'func#0 @0',
      '0: R1=ctx(id=0,off=0,imm=0) R10=fp0',
      '0: (b7) r1 = 0',
      '1: R1_w=inv0 R10=fp0',
      '1: (7b) *(u64 *)(r10 -16) = r1',
      'last_idx 1 first_idx 0',
      'regs=2 stack=0 before 0: (b7) r1 = 0',
      '2: R1_w=invP0 R10=fp0 fp-16_w=00000000',
      '4: (18) r1 = 0xffff897957a54800',
      '6: R1_w=map_ptr(id=0,off=0,ks=8,vs=8,imm=0) R10=fp0 fp-8_w=inv1 fp-16_w=00000000',
      'processed 12 insns (limit 1000000) max_states_per_insn 0 total_states 1 peak_states 1 mark_read 1',
    ].join('\n');
    const { records, programs } = parseText(log);
    expect(records.map((r) => r.kind)).toEqual([
      'func-info', 'state', 'insn', 'state', 'insn', 'precision', 'precision', 'state', 'insn', 'state', 'stats',
    ]);
    expect(programs[0]).toMatchObject({ verdict: 'accepted', stats: { insnsProcessed: 12, markRead: 1 } });
    expect(programs[0]!.kernelHints.join(' ')).toMatch(/≤5\.17/);
    expect(programs[0]!.kernelHints.join(' ')).toMatch(/≤6\.17/);
  });

  it('6.2-era compact suffixes without @ file:line (real sched_ext sample)', () => {
    const log = [
      '0: R1=ctx(off=0,imm=0) R10=fp0',
      '0: (79) r6 = *(u64 *)(r1 +8)          ; R1=ctx(off=0,imm=0) R6_w=scalar()',
      '1: (18) r2 = 0x40000000000            ; R2_w=4398046511104',
      "5: (79) r7 = *(u64 *)(r1 +0)",
      "func 'enqueue' arg0 has btf_id 112868 type STRUCT 'task_struct'",
      '6: R1=ctx(off=0,imm=0) R7_w=ptr_task_struct(off=0,imm=0)',
      '; if (!p)',
    ].join('\n');
    const { records, programs } = parseText(log);
    expect(records.map((r) => r.kind)).toEqual(['state', 'insn', 'insn', 'insn', 'info', 'state', 'source']);
    const src = records[6]!;
    expect(src.kind === 'source' && src.file === undefined && src.source === 'if (!p)').toBe(true);
    // no `processed` line: the tail is missing
    expect(programs[0]).toMatchObject({ verdict: 'truncated', truncation: 'tail' });
  });

  it('6.4-era kptr load and precision lines', () => {
    const r = classifyKernelLine('160: (79) r1 = *(u64 *)(r8 +8)        ; R1_w=untrusted_ptr_or_null_cgv_node(id=11,off=0,imm=0) R8_w=map_value(id=10,off=0,ks=8,vs=16,imm=0) refs=6');
    expect(r).toMatchObject({ kind: 'insn', insn: 160, opcode: '79', asm: 'r1 = *(u64 *)(r8 +8)' });
    expect(classifyKernelLine('mark_precise: frame0: regs=r1 stack= before 3: (b7) r2 = 0').kind).toBe('precision');
    expect(classifyKernelLine("parent didn't have regs=4 stack=0 marks").kind).toBe('precision');
  });

  it('6.8–6.17 lines (real, usdt sample) and 6.18 liveness debug lines', () => {
    expect(classifyKernelLine('; if (arg_spec->arg_signed) @ usdt.bpf.h:184')).toMatchObject({ kind: 'source', file: 'usdt.bpf.h', sourceLine: 184 });
    expect(classifyKernelLine('178: (bf) r3 = r2                     ; frame1: R2_w=scalar(id=61) R3_w=scalar(id=61)')).toMatchObject({ kind: 'insn', suffix: 'frame1: R2_w=scalar(id=61) R3_w=scalar(id=61)' });
    expect(classifyKernelLine('181: safe')).toMatchObject({ kind: 'safe', insn: 181 });
    expect(classifyKernelLine('(0) frame 0 insn 40 +live -16').kind).toBe('stack-liveness');
    expect(classifyKernelLine('from 39 to 55: frame1: R1=ptr_node_data(non_own_ref,off=24) R10=fp0 refs=2,4,2 cb')).toMatchObject({ kind: 'branch', from: 39, to: 55 });
    expect(classifyKernelLine('from 12 to 14: safe')).toMatchObject({ kind: 'branch', safe: true });
    expect(classifyKernelLine('      0: .1........ (79) r7 = *(u64 *)(r1 +0)')).toMatchObject({ kind: 'live-regs', insn: 0, mask: '.1........' });
    expect(classifyKernelLine('  3   13: .12....7.. (85) call bpf_obj_new_impl#65205')).toMatchObject({ kind: 'live-regs', scc: 3, insn: 13 });
  });

  it('splits a level-1 rewind line glued to the next state (real 6.18 artefact)', () => {
    const r = classifyKernelLine('11: (55) if r6 != 0x0 goto pc+1 13: R0=1 R6=ptr_elem(ref_obj_id=2,off=8) R10=fp0 refs=2');
    expect(r).toMatchObject({ kind: 'insn', insn: 11, asm: 'if r6 != 0x0 goto pc+1', glued: { insn: 13, state: 'R0=1 R6=ptr_elem(ref_obj_id=2,off=8) R10=fp0 refs=2' } });
  });

  it('splits a source annotation on the last " @ file:line" only', () => {
    expect(classifyKernelLine('; x = a @ b; @ f.c:3')).toMatchObject({ source: 'x = a @ b;', file: 'f.c', sourceLine: 3 });
    expect(classifyKernelLine(';  @ test_libbpf_get_fd_by_id_opts.c:0')).toMatchObject({ source: '', sourceLine: 0 });
  });

  it('a 6.18 rotated log that lost its head is labelled truncated (real first line)', () => {
    const { programs } = parseText(
      ['*task, u64 clone_flags) @ own.c:61', '5: (bf) r6 = r0                       ; R6=0', 'processed 9 insns (limit 1000000) max_states_per_insn 0 total_states 1 peak_states 1 mark_read 0'].join('\n'),
    );
    expect(programs[0]).toMatchObject({ verdict: 'truncated', truncation: 'head' });
  });
});
