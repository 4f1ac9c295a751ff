/**
 * What the app's graph needs from a run's BTF summaries (stored by btf-service at ingest): special
 * fields of structs (kptr slots, list/rbtree nodes and roots), global data sections and maps with
 * special fields (drawn as fixed nodes), and which field sits at which offset.
 *
 * Contract: `loadBtfFacts(db, runId)` merges every program-BTF summary linked to the run (kernel
 * BTF only contributes kfuncs, not used here); with no BTF, every lookup answers "unknown" and the
 * graph still shows registers and references from the log.
 */
import type { Db } from '../store/db.ts';
import type { BtfSummary, SpecialField, GlobalSectionSummary, MapSummary } from '../ingest/btf/special-fields.ts';
import type { GraphNode } from '../api/contract.ts';

export interface FieldHit {
  node: string;
  field?: string;
  kind: string;
}

interface Labelled {
  objects: Map<number, { type: string }>;
}

export class BtfFacts {
  private structs = new Map<string, SpecialField[]>();
  private globals: GlobalSectionSummary[] = [];
  private maps: MapSummary[] = [];

  constructor(summaries: BtfSummary[]) {
    for (const s of summaries) {
      if (s.source !== 'program') continue;
      for (const st of s.structs) if (!this.structs.has(st.name) || st.fields.length > 0) this.structs.set(st.name, st.fields);
      this.globals.push(...s.globals.filter((g) => g.vars.some((v) => v.specialFields.length > 0)));
      this.maps.push(...s.mapValueTypes.filter((m) => m.valueSpecialFields.length > 0));
    }
  }

  get empty(): boolean {
    return this.structs.size === 0 && this.globals.length === 0 && this.maps.length === 0;
  }

  /** Special fields of a struct (kptrs, list/rbtree nodes and heads, refcount, lock). */
  fieldsOf(type: string): { name: string; kind: string }[] {
    return (this.structs.get(type) ?? []).map((f) => ({ name: f.name, kind: f.kind }));
  }

  /** A struct with special fields is a local object type (bpf_obj_new); kernel types have none here. */
  isLocal(type: string): boolean {
    return (this.structs.get(type) ?? []).length > 0;
  }

  structField(type: string, off: number): { name: string; kind: string } | undefined {
    const f = (this.structs.get(type) ?? []).find((x) => off >= x.offset && off < x.offset + Math.max(1, x.size));
    return f ? { name: f.name, kind: f.kind } : undefined;
  }

  private section(map: string): GlobalSectionSummary | undefined {
    // Kernel map names are cut at 15 characters; libbpf may prefix the object name.
    return this.globals.find((g) => g.name === map || g.name.startsWith(map) || map.endsWith(g.name));
  }

  private mapOf(map: string): MapSummary | undefined {
    return this.maps.find((m) => m.name === map || m.name.startsWith(map));
  }

  mapNodeId(map: string): string {
    const g = this.section(map);
    if (g) return `global:${g.name}`;
    const m = this.mapOf(map);
    return m ? `mapval:${m.name}` : `global:${map}`;
  }

  /** The special field at `off` of a map value (a global data section or a map with kptr slots). */
  fieldAtMapValue(map: string, off: number): FieldHit | null {
    const g = this.section(map);
    if (g) {
      for (const v of g.vars) {
        for (const f of v.specialFields) {
          if (off >= f.valueOffset && off < f.valueOffset + Math.max(1, f.size)) {
            if (f.kind === 'list_head' || f.kind === 'rb_root') return { node: `root:${g.name}:${f.name}`, kind: f.kind };
            return { node: `global:${g.name}`, field: f.name, kind: f.kind };
          }
        }
      }
      return { node: `global:${g.name}`, kind: 'value' };
    }
    const m = this.mapOf(map);
    if (m) {
      const f = m.valueSpecialFields.find((x) => off >= x.offset && off < x.offset + Math.max(1, x.size));
      return { node: `mapval:${m.name}`, field: f?.name, kind: f?.kind ?? 'value' };
    }
    return null;
  }

  /** Short label of a node id for sentences: `spawn_rec#2`, `spawn_list`, `last_task[value]`. */
  nodeLabel(id: string, w?: Labelled): string {
    if (id.startsWith('obj:')) {
      const ref = Number(id.slice(4));
      const t = w?.objects.get(ref)?.type;
      return t ? `${t}#${ref}` : `#${ref}`;
    }
    if (id.startsWith('root:')) return id.split(':').slice(2).join(':');
    if (id.startsWith('mapval:')) return `${id.slice(7)}[value]`;
    if (id.startsWith('global:')) return id.slice(7);
    return id;
  }

  /** Fixed nodes: global sections with special fields, their list/rbtree roots, maps with kptr slots. */
  staticNodes(lock: { target: string } | null): GraphNode[] {
    const out: GraphNode[] = [];
    for (const g of this.globals) {
      const specials = g.vars.flatMap((v) => v.specialFields);
      out.push({
        id: `global:${g.name}`,
        kind: 'global',
        label: g.name,
        detail: `global data section, ${g.layoutSize} bytes`,
        fields: specials.filter((f) => f.kind !== 'list_head' && f.kind !== 'rb_root').map((f) => ({ name: f.name, kind: f.kind })),
      });
      const lockVar = specials.find((f) => f.kind === 'spin_lock');
      for (const f of specials) {
        if (f.kind !== 'list_head' && f.kind !== 'rb_root') continue;
        const held = lock !== null && lockVar !== undefined && (lock.target === `global:${g.name}` || lock.target.startsWith(`global:${g.name}`));
        const what = f.contains ? `${f.kind === 'list_head' ? 'list' : 'rbtree'} of ${f.contains.type} (${f.contains.field})` : f.kind;
        out.push({
          id: `root:${g.name}:${f.name}`,
          kind: f.kind === 'list_head' ? 'list-head' : 'rb-root',
          label: f.name,
          detail: `${what}${lockVar ? ` · lock ${lockVar.name}${held ? ' (held)' : ''}` : ''}`,
          parent: `global:${g.name}`,
          status: held ? 'live' : undefined,
        });
      }
    }
    for (const m of this.maps) {
      out.push({ id: `map:${m.name}`, kind: 'map', label: m.name, detail: `${m.mapTypeName ?? 'map'}${m.maxEntries ? `, ${m.maxEntries} entries` : ''}` });
      out.push({
        id: `mapval:${m.name}`,
        kind: 'map-value',
        label: `${m.name}[value]`,
        detail: m.valueType?.name ?? 'value',
        fields: m.valueSpecialFields.map((f) => ({ name: f.name, kind: f.kind })),
        parent: `map:${m.name}`,
      });
    }
    return out;
  }
}

export function loadBtfFacts(db: Db, runId: number): BtfFacts {
  const rows = db
    .prepare('SELECT b.summary_json AS s FROM run_btf r JOIN btf_files b ON b.id = r.btf_id WHERE r.run_id = ? ORDER BY b.id')
    .all(runId) as { s: string }[];
  const summaries: BtfSummary[] = [];
  for (const r of rows) {
    try {
      summaries.push(JSON.parse(r.s) as BtfSummary);
    } catch {
      /* a summary from a future version: ignore it */
    }
  }
  return new BtfFacts(summaries);
}
