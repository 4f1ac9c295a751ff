/**
 * Adapter from the ingest layer's `BtfSummary` (src-main/ingest/btf/special-fields.ts) to the
 * model's `BtfLayout`.
 *
 * Contract: pure. The summary lists only structs with special fields, so a `bpf_obj_new` of a
 * plain struct gets its type name from the log instead of the BTF (pass the parsed `Btf` to
 * `layoutFromBtf` when every struct id must be known).
 */
import type { BtfSummary, SpecialField, SpecialFieldKind } from '../btf/special-fields.ts';
import { emptyLayout, isStructOpsSection, type BtfLayout, type FieldKind, type LayoutField, type LayoutGlobal } from './btf-layout.ts';

const KIND: Partial<Record<SpecialFieldKind, FieldKind>> = {
  kptr: 'kptr',
  kptr_untrusted: 'kptr_untrusted',
  percpu_kptr: 'percpu_kptr',
  list_head: 'list_head',
  rb_root: 'rb_root',
  list_node: 'list_node',
  rb_node: 'rb_node',
  refcount: 'refcount',
  spin_lock: 'spin_lock',
  res_spin_lock: 'spin_lock',
};

function field(f: SpecialField, offset = f.offset): LayoutField {
  const out: LayoutField = { name: f.name, offset, size: f.size, kind: KIND[f.kind] ?? 'plain' };
  if (f.pointee) {
    out.pointee = f.pointee.name;
    out.pointeeFwd = f.pointee.isForward;
  }
  if (f.contains) out.contains = { type: f.contains.type, field: f.contains.field };
  return out;
}

const bare = (n: string): string => n.replace(/^(struct|union) /, '');

export function layoutFromSummary(sum: BtfSummary): BtfLayout {
  const out = emptyLayout();
  for (const s of sum.structs) {
    const l = { name: s.name, id: s.id, size: s.size, fields: s.fields.map((f) => field(f)) };
    out.structsById.set(s.id, l);
    if (!out.structsByName.has(s.name)) out.structsByName.set(s.name, l);
  }
  for (const m of sum.mapValueTypes) {
    if (!m.valueType) continue;
    const name = bare(m.valueType.name);
    out.mapValues.set(m.name, name);
    if (!out.structsByName.has(name)) {
      out.structsByName.set(name, { name, id: m.valueType.id, size: m.valueSize ?? 0, fields: m.valueSpecialFields.map((f) => field(f)) });
    }
  }
  for (const k of sum.kfuncs) {
    const m = /^(?:const )?struct (\w+) \*$/.exec(k.returns);
    if (m) out.kfuncReturns.set(k.name, m[1] as string);
    out.kfuncParams.set(k.name, k.params.map((p) => ({ name: p.name, pointer: /\*\s*$/.test(p.typeName) })));
  }
  for (const sec of sum.globals) {
    if (isStructOpsSection(sec.name)) {
      for (const v of sec.vars) {
        const t = bare(v.typeName);
        if (t !== '' && !out.structOpsTypes.includes(t)) out.structOpsTypes.push(t);
      }
      continue;
    }
    const vars: LayoutGlobal[] = [];
    for (const v of sec.vars) {
      const top = v.specialFields.find((f) => f.offset === 0 && f.name === v.name);
      const g: LayoutGlobal = { section: sec.name, name: v.name, offset: v.layoutOffset, size: v.size, kind: top ? (KIND[top.kind] ?? 'plain') : 'plain' };
      const c = v.contains ?? top?.contains;
      if (c) g.contains = { type: c.type, field: c.field };
      if (top?.pointee) {
        g.pointee = top.pointee.name;
        g.pointeeFwd = top.pointee.isForward;
      }
      vars.push(g);
      // Special fields inside the variable (array elements, members of nested structs), each at
      // its own place in the section, as the kernel's field table has them.
      for (const f of v.specialFields) {
        if (f === top) continue;
        const inner: LayoutGlobal = { section: sec.name, name: f.name, offset: v.layoutOffset + f.offset, size: f.size, kind: KIND[f.kind] ?? 'plain' };
        if (f.contains) inner.contains = { type: f.contains.type, field: f.contains.field };
        if (f.pointee) {
          inner.pointee = f.pointee.name;
          inner.pointeeFwd = f.pointee.isForward;
        }
        vars.push(inner);
      }
    }
    out.globals.set(sec.name, vars);
  }
  return out;
}

export function isBtfSummary(x: unknown): x is BtfSummary {
  return typeof x === 'object' && x !== null && (x as BtfSummary).version === 1 && Array.isArray((x as BtfSummary).structs);
}
