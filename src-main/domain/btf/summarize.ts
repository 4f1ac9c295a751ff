/**
 * Contract: `summarizeBtf(btf)` extracts what the ownership model needs from a Btf, as a
 * plain JSON-serialisable object (stored in SQLite as JSON):
 *   - structs: every STRUCT that has special fields (kptrs, graph roots/nodes, locks, timers,
 *     refcounts, ... — also nested in member structs / arrays), plus every struct that is a kptr
 *     pointee or a `contains:` target, each with its special fields at byte offsets;
 *   - globals: DATASECs (.data.*, .bss, ...) with their vars, special fields, `contains:` tags and a
 *     best-effort layout (real offsets when the BTF or the ELF symbol table has them, otherwise the
 *     natural-alignment packing libbpf/clang use for an unlinked object);
 *   - mapValueTypes: BTF-defined maps from `.maps` (map type, key/value types, value special fields);
 *   - kfuncs: extern FUNCs of a program (.ksyms) or, for kernel BTF, FUNCs tagged `bpf_kfunc`;
 *   - warnings: human-readable problems (kptr to a FWD, dangling `contains:`, stacked type tags, ...).
 * Every resolver is depth/cycle guarded; nothing here throws on odd BTF.
 */
import {
  type Btf,
  type BtfDatasec,
  type BtfType,
  declTagsOf,
  formatTypeName,
  getType,
  skipModifiers,
  typeAlign,
  typeSize,
  typesByName,
} from './btf-types.ts';
import { Summarizer, kfuncTagged } from './special-fields.ts';
import {
  MAP_TYPE_NAMES,
  type BtfSummary,
  type GlobalSectionSummary,
  type GlobalVarSummary,
  type KfuncParam,
  type KfuncSummary,
  type MapSummary,
  type StructSummary,
  type SummarizeOptions,
} from './summary-types.ts';

function summarizeStructs(s: Summarizer): StructSummary[] {
  const btf = s.btf;
  const out = new Map<number, StructSummary>();
  for (let id = btf.startId; id < btf.types.length; id++) {
    const t = btf.types[id];
    if (t === undefined || t.kind !== 'STRUCT') continue;
    const fields = s.structFields(t);
    if (fields.length > 0) {
      out.set(t.id, { id: t.id, name: t.name, size: t.size, fields });
      s.checkLocks(fields, formatTypeName(btf, t.id));
    }
  }
  for (const id of s.referenced) {
    if (out.has(id)) continue;
    const t = getType(btf, id);
    if (t === undefined || t.kind !== 'STRUCT') continue;
    out.set(id, { id, name: t.name, size: t.size, fields: s.structFields(t) });
  }
  return [...out.values()].sort((a, b) => a.id - b.id);
}

function alignUp(v: number, a: number): number {
  return a <= 1 ? v : Math.ceil(v / a) * a;
}

function summarizeGlobals(s: Summarizer, opts: SummarizeOptions): GlobalSectionSummary[] {
  const btf = s.btf;
  const out: GlobalSectionSummary[] = [];
  for (let id = btf.startId; id < btf.types.length; id++) {
    const sec = btf.types[id];
    if (sec === undefined || sec.kind !== 'DATASEC') continue;
    if (sec.name === '.ksyms' || sec.name === '.maps') continue;
    out.push(summarizeSection(s, sec, opts));
  }
  return out;
}

/** Offsets of the vars when packed in DATASEC order, each aligned to max(natural, minAlign). */
function packVars(btf: Btf, sec: BtfDatasec, minAlign: number): { offsets: number[]; size: number } {
  let cursor = 0;
  const offsets: number[] = [];
  for (const v of sec.vars) {
    const vt = getType(btf, v.typeId);
    const natural = vt?.kind === 'VAR' ? (typeAlign(btf, vt.typeId) ?? 1) : 1;
    const off = alignUp(cursor, Math.max(natural, minAlign));
    offsets.push(off);
    cursor = off + v.size;
  }
  return { offsets, size: cursor };
}

function summarizeSection(s: Summarizer, sec: BtfDatasec, opts: SummarizeOptions): GlobalSectionSummary {
  const btf = s.btf;
  const vars: GlobalVarSummary[] = [];
  const elf = opts.dataLayout?.[sec.name];
  const allZero = sec.vars.every((v) => v.offset === 0);
  let layoutSource: GlobalSectionSummary['layoutSource'] = 'btf';
  let packed: { offsets: number[]; size: number } | undefined;
  if (elf !== undefined) layoutSource = 'elf';
  else if (allZero && sec.vars.length > 1) {
    layoutSource = 'packed';
    packed = packVars(btf, sec, 1);
    const known = opts.mapValueSizes?.[sec.name];
    if (known !== undefined && known !== packed.size) {
      const aligned = packVars(btf, sec, 8);
      if (aligned.size === known) {
        layoutSource = 'packed-aligned8';
        packed = aligned;
      } else {
        s.warn(`DATASEC '${sec.name}': computed layout size ${packed.size} does not match the map value size ${known}; var offsets are uncertain (load the .bpf.o for exact offsets)`);
      }
    }
  }

  sec.vars.forEach((v, idx) => {
    const vt = getType(btf, v.typeId);
    if (vt === undefined || vt.kind !== 'VAR') {
      if (vt?.kind !== 'FUNC') s.warn(`DATASEC '${sec.name}': entry type id ${v.typeId} is not a VAR`);
      return;
    }
    let layoutOffset = v.offset;
    if (layoutSource === 'elf') {
      const sym = elf?.vars.find((x) => x.name === vt.name);
      if (sym !== undefined) layoutOffset = sym.offset;
      else s.warn(`DATASEC '${sec.name}': var '${vt.name}' has no ELF symbol; using its DATASEC offset ${v.offset}`);
    } else if (packed !== undefined) {
      layoutOffset = packed.offsets[idx] ?? v.offset;
    }
    const where = `global '${vt.name}' in ${sec.name}`;
    const tag = declTagsOf(btf, vt.id).find((d) => d.componentIdx === -1 && d.name.startsWith('contains:'));
    const fields = s.collect(vt.typeId, vt.name, 0, tag?.name, where, 0);
    const summary: GlobalVarSummary = {
      name: vt.name,
      id: vt.id,
      typeId: vt.typeId,
      typeName: formatTypeName(btf, vt.typeId),
      linkage: vt.linkage,
      offset: v.offset,
      size: v.size,
      layoutOffset,
      specialFields: fields.map((f) => ({ ...f, valueOffset: layoutOffset + f.offset })),
    };
    const direct = fields.find((f) => f.name === vt.name && f.contains !== undefined);
    if (direct?.contains !== undefined) summary.contains = direct.contains;
    else if (tag !== undefined) summary.contains = s.resolveContains(tag.name, undefined, where);
    vars.push(summary);
  });
  let layoutSize = sec.size;
  if (layoutSource === 'elf' && elf !== undefined) layoutSize = elf.size;
  else if (packed !== undefined) layoutSize = packed.size;
  else if (layoutSize === 0) layoutSize = vars.reduce((m, v) => Math.max(m, v.layoutOffset + v.size), 0);
  s.checkLocks(
    vars.flatMap((v) => v.specialFields),
    `DATASEC '${sec.name}'`,
  );
  return { name: sec.name, id: sec.id, size: sec.size, layoutSize, layoutSource, vars };
}

function mapTypeName(btf: Btf, n: number): string | undefined {
  const e = typesByName(btf, 'bpf_map_type').find((t) => t.kind === 'ENUM');
  if (e !== undefined && e.kind === 'ENUM') {
    const v = e.values.find((x) => x.value === n && !x.name.endsWith('_DEPRECATED'));
    if (v !== undefined) return v.name.replace(/^BPF_MAP_TYPE_/, '').toLowerCase();
  }
  return MAP_TYPE_NAMES[n];
}

function summarizeMaps(s: Summarizer): MapSummary[] {
  const btf = s.btf;
  const out: MapSummary[] = [];
  for (let id = btf.startId; id < btf.types.length; id++) {
    const sec = btf.types[id];
    if (sec === undefined || sec.kind !== 'DATASEC' || sec.name !== '.maps') continue;
    for (const v of sec.vars) {
      const vt = getType(btf, v.typeId);
      if (vt === undefined || vt.kind !== 'VAR') continue;
      const def = skipModifiers(btf, vt.typeId).type;
      if (def === undefined || def.kind !== 'STRUCT') {
        s.warn(`map '${vt.name}': its definition is not a struct (legacy map definition?)`);
        continue;
      }
      const m: MapSummary = { name: vt.name, varId: vt.id, valueSpecialFields: [] };
      for (const mem of def.members) {
        const ptr = skipModifiers(btf, mem.typeId).type;
        if (ptr === undefined || ptr.kind !== 'PTR') continue;
        const target = getType(btf, ptr.typeId);
        // __uint(name, N) is `int (*name)[N]`
        const arrayLen = target?.kind === 'ARRAY' ? target.nrElems : undefined;
        switch (mem.name) {
          case 'type':
            if (arrayLen !== undefined) {
              m.mapType = arrayLen;
              const n = mapTypeName(btf, arrayLen);
              if (n !== undefined) m.mapTypeName = n;
            }
            break;
          case 'key':
            m.keyType = { id: ptr.typeId, name: formatTypeName(btf, ptr.typeId) };
            break;
          case 'value':
            m.valueType = { id: ptr.typeId, name: formatTypeName(btf, ptr.typeId) };
            break;
          case 'key_size':
            if (arrayLen !== undefined) m.keySize = arrayLen;
            break;
          case 'value_size':
            if (arrayLen !== undefined) m.valueSize = arrayLen;
            break;
          case 'max_entries':
            if (arrayLen !== undefined) m.maxEntries = arrayLen;
            break;
          case 'map_flags':
            if (arrayLen !== undefined) m.mapFlags = arrayLen;
            break;
        }
      }
      if (m.valueType !== undefined) {
        m.valueSpecialFields = s.collect(m.valueType.id, '', 0, undefined, `value of map '${vt.name}'`, 0).map((f) => ({
          ...f,
          name: f.name.replace(/^\./, ''),
        }));
        const vs = typeSize(btf, m.valueType.id);
        if (m.valueSize === undefined && vs !== undefined) m.valueSize = vs;
        s.checkLocks(m.valueSpecialFields, `value of map '${vt.name}'`);
      }
      if (m.keyType !== undefined && m.keySize === undefined) {
        const ks = typeSize(btf, m.keyType.id);
        if (ks !== undefined) m.keySize = ks;
      }
      out.push(m);
    }
  }
  return out;
}

function kfuncSummary(btf: Btf, f: Extract<BtfType, { kind: 'FUNC' }>): KfuncSummary {
  const tags = declTagsOf(btf, f.id)
    .filter((d) => d.componentIdx === -1)
    .map((d) => d.name);
  const proto = getType(btf, f.typeId);
  const params: KfuncParam[] = [];
  let returns = 'void';
  let returnTypeId = 0;
  if (proto?.kind === 'FUNC_PROTO') {
    returnTypeId = proto.retTypeId;
    returns = formatTypeName(btf, proto.retTypeId);
    for (const p of proto.params) params.push({ name: p.name, typeId: p.typeId, typeName: p.typeId === 0 ? '...' : formatTypeName(btf, p.typeId) });
  }
  return { id: f.id, name: f.name, linkage: f.linkage, tagged: tags.includes('bpf_kfunc'), tags, params, returns, returnTypeId };
}

function summarizeKfuncs(btf: Btf, source: 'program' | 'kernel'): KfuncSummary[] {
  const out: KfuncSummary[] = [];
  if (source === 'kernel') {
    const seen = new Set<number>();
    for (let id = btf.startId; id < btf.types.length; id++) {
      const t = btf.types[id];
      if (t === undefined || t.kind !== 'DECL_TAG' || t.name !== 'bpf_kfunc' || t.componentIdx !== -1) continue;
      const f = getType(btf, t.typeId);
      if (f?.kind !== 'FUNC' || seen.has(f.id)) continue;
      seen.add(f.id);
      out.push(kfuncSummary(btf, f));
    }
    return out.sort((a, b) => a.id - b.id);
  }
  const ids = new Set<number>();
  for (let id = btf.startId; id < btf.types.length; id++) {
    const t = btf.types[id];
    if (t === undefined) continue;
    if (t.kind === 'DATASEC' && t.name === '.ksyms') {
      for (const v of t.vars) if (getType(btf, v.typeId)?.kind === 'FUNC') ids.add(v.typeId);
    } else if (t.kind === 'FUNC' && t.linkage === 'extern') {
      ids.add(t.id);
    }
  }
  for (const id of [...ids].sort((a, b) => a - b)) {
    const f = getType(btf, id);
    if (f?.kind === 'FUNC') out.push(kfuncSummary(btf, f));
  }
  return out;
}

/** Summarise a Btf for the ownership model. Pure; never throws on odd BTF (see `warnings`). */
export function summarizeBtf(btf: Btf, opts: SummarizeOptions = {}): BtfSummary {
  const source = opts.source ?? (kfuncTagged(btf) ? 'kernel' : 'program');
  const s = new Summarizer(btf, opts);
  const summary: BtfSummary = {
    version: 1,
    source,
    typeCount: btf.types.length,
    startId: btf.startId,
    structs: [],
    globals: [],
    mapValueTypes: [],
    kfuncs: summarizeKfuncs(btf, source),
    warnings: s.warnings,
  };
  if (source === 'program') {
    summary.globals = summarizeGlobals(s, opts);
    summary.mapValueTypes = summarizeMaps(s);
    summary.structs = summarizeStructs(s);
  }
  return summary;
}
