/**
 * bpf_kptr_xchg (helper #194, 5.19): swap an owned reference into a referenced kptr field.
 *
 * Destination: a map value's kptr field (5.19) or — since 6.12 — a kptr field of an owned local
 * object; found by the register's map/struct + offset in the BTF field table. It must be a
 * referenced kptr (`__kptr`, not `__kptr_untrusted`) whose pointee is a complete struct.
 * Source: NULL or an owning reference of exactly the field's type at offset 0 (a local object into
 * a map value needs 6.4). Effect: the source object moves into the field ("stash"); the previous
 * content comes back in R0 as a new, maybe-NULL owning reference ("unstash").
 */
import { fieldAt, mapFieldAt } from '../btf-layout.ts';
import { isNullConst, type MReg } from '../regs.ts';
import { deadFinding } from './common.ts';
import { borrowedHint } from './struct-ops.ts';
import type { CallInfo, CallRule, ModelApi } from './types.ts';

interface Dest {
  holder: string;
  local: boolean;
  kind?: string;
  pointee?: string;
  pointeeFwd?: boolean;
  found: boolean;
  off: number;
}

function resolveDest(m: ModelApi, r: MReg | undefined): Dest | undefined {
  if (r === undefined) return undefined;
  const off = r.off ?? 0;
  if (r.k === 'ptr' && r.base === 'map_value') {
    const f = mapFieldAt(m.layout, r.map, off);
    const map = r.map ?? '?';
    if (!f) return { holder: `map ${map}[value]+${off}`, local: false, found: false, off };
    const holder = f.region === 'global' ? `${map}:${f.name}` : `map ${map}[value].${f.name}`;
    const d: Dest = { holder, local: false, kind: f.kind, found: true, off };
    if (f.pointee !== undefined) d.pointee = f.pointee;
    if (f.pointeeFwd !== undefined) d.pointeeFwd = f.pointeeFwd;
    return d;
  }
  if (r.k === 'ptr' && r.own === 'own' && r.obj !== undefined) {
    const f = r.btf !== undefined ? fieldAt(m.layout, r.btf, off) : undefined;
    if (!f) return { holder: `${m.objName(r.obj)}+${off}`, local: true, found: false, off };
    const d: Dest = { holder: `${m.objName(r.obj)}.${f.name}`, local: true, kind: f.kind, found: true, off };
    if (f.pointee !== undefined) d.pointee = f.pointee;
    if (f.pointeeFwd !== undefined) d.pointeeFwd = f.pointeeFwd;
    return d;
  }
  return undefined;
}

function checkDest(m: ModelApi, dst: Dest | undefined, r1: MReg | undefined, objs: number[]): boolean {
  if (r1?.k === 'dead') {
    deadFinding(m, r1, 'R1', 'bpf_kptr_xchg');
    return false;
  }
  if (dst === undefined) {
    m.finding(
      'not-a-kptr-field',
      objs,
      `R1 (${m.describe(r1)}) is not a valid bpf_kptr_xchg destination: it must point at a kptr field of a map value or of an owned local object`,
    );
    return false;
  }
  if (dst.local && !m.requireFeature('local_kptr_dest', 'bpf_kptr_xchg')) return false;
  if (!m.hasBtf) return true;
  if (!dst.found || dst.kind === 'plain' || dst.kind === undefined) {
    m.finding('not-a-kptr-field', objs, `bpf_kptr_xchg destination ${dst.holder} (offset ${dst.off}) is not a kptr field in the BTF`);
    return false;
  }
  if (dst.kind === 'kptr_untrusted') {
    m.finding(
      'not-a-kptr-field',
      objs,
      `bpf_kptr_xchg destination ${dst.holder} (off=${dst.off}) is an unreferenced kptr (__kptr_untrusted); only referenced __kptr fields can hold a reference — declare it __kptr`,
    );
    return false;
  }
  if (dst.kind !== 'kptr' && dst.kind !== 'percpu_kptr') {
    m.finding('not-a-kptr-field', objs, `bpf_kptr_xchg destination ${dst.holder} is a ${dst.kind}, not a kptr field`);
    return false;
  }
  if (dst.pointeeFwd) {
    m.finding(
      'kptr-forward-decl',
      objs,
      `kptr field ${dst.holder} points at struct ${dst.pointee ?? '?'}, which is only a forward declaration in the program BTF; the kernel ignores such fields — make the struct complete`,
    );
    return false;
  }
  return true;
}

export const KPTR_XCHG_RULES: readonly CallRule[] = [
  {
    name: 'bpf_kptr_xchg',
    helper: 194,
    since: '5.19',
    feature: 'kptr_xchg',
    apply(m: ModelApi, call: CallInfo): MReg | undefined {
      if (!m.requireFeature('kptr_xchg', 'bpf_kptr_xchg')) return undefined;
      const [r1, r2] = call.args;
      const srcObjs = r2?.obj !== undefined && r2.own === 'own' ? [r2.obj] : [];
      const dst = resolveDest(m, r1);
      if (!checkDest(m, dst, r1, srcObjs) || dst === undefined) return undefined;
      let src: number | undefined;
      if (r2 === undefined || isNullConst(r2)) {
        src = undefined;
      } else if (r2.k === 'dead') {
        deadFinding(m, r2, 'R2', 'bpf_kptr_xchg');
        return undefined;
      } else if (r2.own !== 'own' || r2.obj === undefined) {
        const hint = r2.own === undefined ? borrowedHint(m.structOps, r2.btf) : '';
        m.finding('release-unowned', [], `R2 (${m.describe(r2)}) passed to bpf_kptr_xchg carries no reference: only an owning reference (or NULL) can be stashed${hint ? `; ${hint}` : ''}`);
        return undefined;
      } else {
        src = r2.obj;
        if (m.hasBtf && dst.pointee !== undefined && r2.btf !== undefined && r2.btf !== dst.pointee) {
          m.finding(
            'kptr-type-mismatch',
            [src],
            `${m.objName(src)} is a struct ${r2.btf} but ${dst.holder} holds struct ${dst.pointee}; bpf_kptr_xchg needs exactly the field's type`,
          );
          return undefined;
        }
        if ((r2.off ?? 0) !== 0) {
          m.finding('nonzero-offset-release', [src], `R2 points ${r2.off} bytes into ${m.objName(src)}; bpf_kptr_xchg needs the object start`);
          return undefined;
        }
        if (!dst.local && m.object(src)?.local && !m.requireFeature('local_kptr_in_map', 'bpf_kptr_xchg')) return undefined;
      }
      // The previous content of the field on this path, if the model knows it.
      let prev: number | undefined;
      for (const [o, h] of m.s.placed) if (h === dst.holder) prev = o;
      if (prev !== undefined) m.s.placed.delete(prev);
      if (src !== undefined) {
        m.dropRef(src, 'stash', 'stash', dst.holder);
        m.s.placed.set(src, dst.holder);
      }
      const prevObj = prev !== undefined ? m.object(prev) : undefined;
      const type = dst.pointee ?? r2?.btf ?? prevObj?.type ?? '?';
      const local = prevObj?.local ?? (src !== undefined ? (m.object(src)?.local ?? false) : false);
      const obj = m.newObject(type, 'bpf_kptr_xchg', local, prev);
      if (prev !== undefined) m.endObject(prev, 'unstash');
      m.addRef(obj);
      m.event('unstash', obj, dst.holder, 'R0');
      // An unknown type ('?': no BTF) stays unset on the register: the kernel's print names it (bindType).
      const r0: MReg = { k: 'ptr', base: 'ptr', own: 'own', obj, off: 0, nul: true, ng: m.nullGroup() };
      if (type !== '?') r0.btf = type;
      return r0;
    },
  },
];
