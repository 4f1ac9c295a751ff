/**
 * The ownership graph at one step of a replay: who holds which object (registers, stack slots,
 * kptr fields of map values and of local objects, list/rbtree roots), built from the model's state.
 *
 * Contract: `buildOwnershipGraph(input)` is pure and deterministic (nodes and edges sorted by id) and
 * returns the contract's `GraphSnapshot` (source 'model'), used alike by the app, the CLI export and
 * the compare view. Node ids: `obj:<model object id>`, `reg:<frame>:R<n>`, `slot:<frame>:fp<off>`,
 * `glob:<section>`, `root:<section>:<var>` (or `root:obj:<id>:<field>`), `map:<name>`, `mv:<name>`.
 */
import type { GraphEdge, GraphNode, GraphSnapshot } from './graph-types.ts';
import type { Finding, ModelObject, OwnershipEvent, StateView, RegView } from '../model/index.ts';
import type { BtfSummary } from '../btf/index.ts';

export interface OwnershipGraphInput {
  state: StateView;
  objects: readonly ModelObject[];
  /** Events of this step (for notes and statuses: a leak or release at this step shows in red/grey). */
  events: readonly OwnershipEvent[];
  btf: BtfSummary | null;
  step: number;
  insn: number;
  line: number;
  /** The model's finding; at its step the offending holders and objects are drawn in red. */
  finding?: Finding | null;
}

const COLLECTION_KINDS = new Set(['list_head', 'rb_root']);

function objectLabel(o: ModelObject): string {
  return o.refId !== undefined ? `${o.type} #${o.refId}` : `${o.type} (object ${o.id})`;
}

function structFields(btf: BtfSummary | null, type: string) {
  return btf?.structs.find((s) => s.name === type)?.fields ?? [];
}

/** The special field of `type` at byte offset `off` (for `R6 → task_node.node`). */
function fieldAt(btf: BtfSummary | null, type: string, off: number): string | undefined {
  return structFields(btf, type).find((f) => f.offset === off)?.name;
}

function offOf(text: string): number {
  const m = /[(,]off=(-?\d+)/.exec(text);
  return m ? Number(m[1]) : 0;
}

export function buildOwnershipGraph(input: OwnershipGraphInput): GraphSnapshot {
  const { state, objects, btf, events } = input;
  const nodes = new Map<string, GraphNode>();
  const edges = new Map<string, GraphEdge>();
  const byId = new Map(objects.map((o) => [o.id, o]));
  const nonOwningOnly = new Map<number, boolean>();
  const maybeNull = new Set<number>();

  const addObject = (id: number): string | null => {
    const o = byId.get(id);
    if (!o) return null;
    const nid = `obj:${id}`;
    if (!nodes.has(nid)) {
      const n: GraphNode = {
        id: nid,
        kind: o.local ? 'local-object' : 'kernel-object',
        label: objectLabel(o),
        detail: `${o.local ? 'local object' : 'kernel object'} from ${o.origin} at insn ${o.allocInsn}${o.refId !== undefined ? `, ref ${o.refId}` : ''}`,
        allocInsn: o.allocInsn,
        status: 'live',
      };
      if (o.refId !== undefined) n.refId = o.refId;
      const fields = structFields(btf, o.type).map((f) => ({ name: f.name, kind: f.kind }));
      if (fields.length > 0) n.fields = fields;
      nodes.set(nid, n);
    }
    return nid;
  };
  const addEdge = (e: GraphEdge) => edges.set(e.id, e);

  const atFinding = input.finding != null && input.finding.insn === input.insn;
  const holder = (frame: number, name: string, r: RegView, kind: 'register' | 'stack-slot') => {
    if (r.object === undefined) return;
    if (r.dead !== undefined) {
      // A released/invalidated pointer matters only where it is used: at the finding's step.
      if (!atFinding) return;
      const target = addObject(r.object);
      if (!target) return;
      const hid = `${kind === 'register' ? 'reg' : 'slot'}:${frame}:${name}`;
      nodes.set(hid, { id: hid, kind, label: frame > 0 ? `frame${frame} ${name}` : name, detail: `${r.dead}: ${r.text}`, status: 'error' });
      addEdge({ id: `${hid}->${target}`, from: hid, to: target, kind: 'non-owning' });
      return;
    }
    if (r.own === undefined) return;
    const target = addObject(r.object);
    if (!target) return;
    const hid = `${kind === 'register' ? 'reg' : 'slot'}:${frame}:${name}`;
    nodes.set(hid, { id: hid, kind, label: frame > 0 ? `frame${frame} ${name}` : name, detail: r.text });
    const o = byId.get(r.object) as ModelObject;
    const e: GraphEdge = { id: `${hid}->${target}`, from: hid, to: target, kind: r.own === 'own' ? 'owns' : 'non-owning' };
    const f = fieldAt(btf, o.type, offOf(r.text));
    if (f !== undefined && offOf(r.text) !== 0) e.toField = f;
    addEdge(e);
    if (r.own === 'own') nonOwningOnly.set(r.object, false);
    else if (!nonOwningOnly.has(r.object)) nonOwningOnly.set(r.object, true);
    if (r.text.includes('or_null')) maybeNull.add(r.object);
  };

  state.frames.forEach((fr, f) => {
    for (const [name, r] of Object.entries(fr.regs)) holder(f, name, r, 'register');
    for (const [name, r] of Object.entries(fr.slots)) holder(f, name, r, 'stack-slot');
  });
  for (const ref of state.refs) if (ref.kind === 'ptr' && ref.object !== undefined) addObject(ref.object);

  // Objects placed somewhere other than a register: kptr fields, collections, map values.
  const objectByTypeRef = (type: string, ref: number): number | undefined => {
    const live = objects.filter((o) => o.type === type && o.refId === ref);
    return (live.find((o) => nodes.has(`obj:${o.id}`)) ?? live[0])?.id;
  };
  const lockName = state.lock;
  for (const [objText, where] of Object.entries(state.placed)) {
    const obj = Number(objText);
    const target = addObject(obj);
    if (!target) continue;
    nonOwningOnly.set(obj, false);
    let m: RegExpExecArray | null;
    if ((m = /^(.+)#(\d+)\.([\w.[\]]+)$/.exec(where))) {
      // a field of another local object: a kptr (stashed) or a list/rbtree root inside it
      const container = objectByTypeRef(m[1] as string, Number(m[2]));
      const cid = container !== undefined ? addObject(container) : null;
      const field = m[3] as string;
      const fkind = structFields(btf, m[1] as string).find((x) => x.name === field)?.kind;
      if (cid) {
        if (fkind && COLLECTION_KINDS.has(fkind)) {
          const rid = `root:${cid}:${field}`;
          nodes.set(rid, { id: rid, kind: fkind === 'rb_root' ? 'rb-root' : 'list-head', label: field, parent: cid });
          addEdge({ id: `${rid}->${target}`, from: rid, to: target, kind: 'in-collection' });
        } else {
          addEdge({ id: `${cid}.${field}->${target}`, from: cid, to: target, fromField: field, kind: 'stashed' });
        }
      }
    } else if ((m = /^(\.[^:]+):(.+)$/.exec(where))) {
      const section = m[1] as string;
      const name = m[2] as string;
      const gid = `glob:${section}`;
      nodes.set(gid, { id: gid, kind: 'global', label: section, detail: 'global data section (a map)' });
      const v = btf?.globals.find((g) => g.name === section)?.vars.find((x) => x.name === name);
      const sf = v?.specialFields.find((f) => f.name === '' || f.name === name) ?? v?.specialFields[0];
      const fkind = sf?.kind;
      const contains = v?.contains ?? sf?.contains;
      const what = contains ? `${fkind === 'rb_root' ? 'rbtree' : 'list'} of ${contains.type} (${contains.field}) · ` : '';
      const rid = `root:${section}:${name}`;
      nodes.set(rid, {
        id: rid,
        kind: fkind === 'rb_root' ? 'rb-root' : 'list-head',
        label: name,
        parent: gid,
        detail: `${what}${lockName && lockName.startsWith(`${section}:`) ? `lock ${lockName} held` : 'lock not held'}`,
      });
      addEdge({ id: `${rid}->${target}`, from: rid, to: target, kind: 'in-collection' });
    } else if ((m = /^map (\S+)\[value\]\.(.+)$/.exec(where))) {
      const map = m[1] as string;
      const field = m[2] as string;
      nodes.set(`map:${map}`, { id: `map:${map}`, kind: 'map', label: map });
      nodes.set(`mv:${map}`, { id: `mv:${map}`, kind: 'map-value', label: `${map}[value]`, parent: `map:${map}`, fields: [{ name: field, kind: 'kptr' }] });
      addEdge({ id: `mv:${map}.${field}->${target}`, from: `mv:${map}`, to: target, fromField: field, kind: 'stashed' });
    } else {
      const hid = `holder:${where}`;
      nodes.set(hid, { id: hid, kind: 'global', label: where });
      addEdge({ id: `${hid}->${target}`, from: hid, to: target, kind: 'stashed' });
    }
  }

  // Objects ended at this step stay visible for the step: released grey, leaked red.
  const notes: string[] = [];
  for (const e of events) {
    const o = byId.get(e.object);
    const label = o ? objectLabel(o) : `object ${e.object}`;
    notes.push(`${e.kind}: ${label}${e.from ? ` from ${e.from}` : ''}${e.to ? ` to ${e.to}` : ''}`);
    const nid = addObject(e.object);
    if (!nid) continue;
    const n = nodes.get(nid) as GraphNode;
    if (e.kind === 'leak') n.status = 'leaked';
    else if ((e.kind === 'release' || e.kind === 'drop') && e.to !== 'NULL') n.status = 'released';
  }
  if (atFinding && input.finding) {
    for (const fo of input.finding.objects) {
      const n = fo.object !== undefined ? nodes.get(`obj:${fo.object}`) : undefined;
      if (n && n.status !== 'leaked') n.status = input.finding.kind === 'leak' ? 'leaked' : 'error';
    }
    notes.push(`${input.finding.kind}: ${input.finding.explanation}`);
  }
  for (const [id, n] of nodes) {
    if (!id.startsWith('obj:') || n.status !== 'live') continue;
    const obj = Number(id.slice(4));
    if (nonOwningOnly.get(obj) === true) n.status = 'non-owning';
    else if (maybeNull.has(obj)) n.status = 'maybe-null';
  }

  const sortedNodes = [...nodes.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const sortedEdges = [...edges.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return { step: input.step, line: input.line, insn: input.insn, source: 'model', nodes: sortedNodes, edges: sortedEdges, notes };
}
