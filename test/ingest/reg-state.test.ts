// The state parser on real state text from 6.18 captures and on the real older-kernel lines quoted
// in the verifier reference (5.8/5.10 `inv`, `_w` marks, long attribute names; 6.1–6.6 short names;
// 6.4 kptr loads; 6.8+ `=`-chained bounds and hex numbers).
import { describe, it, expect } from 'vitest';
import { parseState, parseValue } from '../../src-main/domain/log/reg-state.ts';

describe('parseState', () => {
  it('reads a 6.18 compact suffix with refs', () => {
    const s = parseState('R0=ptr_or_null_task_struct(id=6,ref_obj_id=6) refs=2,6');
    expect(s.refs).toEqual([2, 6]);
    const v = s.regs[0]!.value;
    expect(s.regs[0]!.reg).toBe(0);
    expect(v.kind).toBe('typed');
    if (v.kind !== 'typed') return;
    expect(v.base).toBe('ptr');
    expect(v.btfType).toBe('task_struct');
    expect(v.maybeNull).toBe(true);
    expect(v.attrs.id).toBe(6);
    expect(v.attrs.refObjId).toBe(6);
  });

  it('reads non-owning refs, frames, callback flag and spilled pointers', () => {
    const s = parseState(
      'frame1: R1=ptr_node_data(non_own_ref,off=24) R2=ptr_node_data(non_own_ref,off=24) R10=fp0 fp-16=ptr_local_with_root(id=2,ref_obj_id=2,off=8) refs=2,4,2 cb',
    );
    expect(s.frame).toBe(1);
    expect(s.cb).toBe(true);
    expect(s.refs).toEqual([2, 4, 2]);
    const r1 = s.regs[0]!.value;
    expect(r1.kind === 'typed' && r1.attrs.nonOwnRef && r1.attrs.off === 24).toBe(true);
    expect(s.regs[2]!.value).toMatchObject({ kind: 'fp', off: 0 });
    expect(s.stack[0]!.off).toBe(-16);
    expect(s.stack[0]!.value).toMatchObject({ kind: 'typed', btfType: 'local_with_root', attrs: { refObjId: 2, off: 8 } });
  });

  it('reads flags: trusted, rcu, untrusted, percpu', () => {
    expect(parseValue('trusted_ptr_task_struct()')).toMatchObject({ kind: 'typed', flags: ['trusted'], btfType: 'task_struct', maybeNull: false });
    expect(parseValue('rcu_ptr_or_null_task_struct(id=5)')).toMatchObject({ flags: ['rcu'], maybeNull: true, attrs: { id: 5 } });
    expect(parseValue('untrusted_ptr_or_null_cgv_node(id=11,off=0,imm=0)')).toMatchObject({
      flags: ['untrusted'],
      btfType: 'cgv_node',
      attrs: { id: 11, off: 0, imm: '0' },
    });
    expect(parseValue('percpu_rcu_ptr_or_null_val_t(id=3)')).toMatchObject({ flags: ['percpu', 'rcu'], btfType: 'val_t' });
    expect(parseValue('ringbuf_mem_or_null(id=2,ref_obj_id=2,sz=8)')).toMatchObject({ base: 'mem', flags: ['ringbuf'], maybeNull: true, attrs: { sz: 8 } });
    expect(parseValue('map_value(map=.data.A,ks=4,vs=24,off=8)')).toMatchObject({ base: 'map_value', attrs: { map: '.data.A', ks: 4, vs: 24, off: 8 } });
  });

  it('reads 5.8–5.15 spellings: inv, _w marks, long attribute names, id=0', () => {
    // real 5.8 level-2 lines (reference §1.7)
    const a = parseState('R1_w=invP0 R10=fp0 fp-16_w=00000000');
    expect(a.regs[0]).toMatchObject({ reg: 1, live: 'w', value: { kind: 'const', value: '0', precise: true } });
    expect(a.stack[0]).toMatchObject({ off: -16, live: 'w', value: { kind: 'slot', bytes: '00000000' } });
    const b = parseState('R1_w=map_ptr(id=0,off=0,ks=8,vs=8,imm=0) R10=fp0 fp-8_w=inv1 fp-16_w=00000000');
    expect(b.regs[0]!.value).toMatchObject({ kind: 'typed', base: 'map_ptr', attrs: { id: 0, off: 0, ks: 8, vs: 8 } });
    expect(b.stack[0]!.value).toMatchObject({ kind: 'const', value: '1' });
    // real level-1 ≤5.16 line (2021)
    const c = parseState(
      'R0=inv(id=0,umax_value=9223372036854775807,var_off=(0x0; 0x7fffffffffffffff)) R3=pkt(id=0,off=42,r=398,imm=0) R6=invP0 R9=inv(id=9) fp-32=????mmmm fp-440=inv fp-456=map_value',
    );
    expect(c.regs.map((r) => r.reg)).toEqual([0, 3, 6, 9]);
    expect(c.regs[0]!.value).toMatchObject({ kind: 'typed', base: 'scalar', attrs: { other: { umax_value: '9223372036854775807', var_off: '(0x0; 0x7fffffffffffffff)' } } });
    expect(c.regs[1]!.value).toMatchObject({ base: 'pkt', attrs: { off: 42, r: 398 } });
    expect(c.regs[3]!.value).toMatchObject({ base: 'scalar', attrs: { id: 9 } });
    expect(c.stack.map((s) => s.off)).toEqual([-32, -440, -456]);
    expect(c.stack[0]!.value).toMatchObject({ kind: 'slot', bytes: '????mmmm' });
    expect(c.stack[2]!.value).toMatchObject({ kind: 'typed', base: 'map_value' });
    expect(parseValue('map_value_or_null(id=1,off=0,ks=4,vs=16,imm=0)')).toMatchObject({ base: 'map_value', maybeNull: true, attrs: { id: 1, ks: 4, vs: 16 } });
  });

  it('reads 6.1–6.6 short attribute names and 6.8+ chained bounds and hex', () => {
    const s = parseState(
      'R2_w=4398046511104 R3_w=scalar(umax=4398046511104,var_off=(0x0; 0x40000000000),s32_max=0,u32_max=0)',
    );
    expect(s.regs[0]!.value).toMatchObject({ kind: 'const', value: '4398046511104' });
    expect(s.regs[1]!.value).toMatchObject({ attrs: { other: { umax: '4398046511104', s32_max: '0' } } });
    const t = parseState('R1_w=scalar(smin=smin32=-128,smax=smax32=127) R7=0x2900000000');
    expect(t.regs[0]!.value).toMatchObject({ attrs: { other: { smin: '-128', smin32: '-128', smax: '127', smax32: '127' } } });
    expect(t.regs[1]!.value).toMatchObject({ kind: 'const', value: String(0x2900000000) });
    expect(parseValue('fp[1]-8')).toMatchObject({ kind: 'fp', frame: 1, off: -8 });
    expect(parseValue('scalar(id=3+4)')).toMatchObject({ attrs: { id: 3, idDelta: 4 } });
    expect(parseValue('????scalar(smin=0,smax=umax=0xffffffff,var_off=(0x0; 0xffffffff))')).toMatchObject({
      kind: 'slot',
      bytes: '????',
      spilled: { kind: 'typed', base: 'scalar' },
    });
  });

  it('never throws on garbage and keeps what it cannot read', () => {
    const s = parseState('R1=((((( R2=ptr_x(id=1 garbage fp-8=');
    expect(s.regs.length).toBeGreaterThan(0);
    expect(parseValue('%%%').kind).toBe('unparsed');
    expect(parseState('').regs).toEqual([]);
  });
});
