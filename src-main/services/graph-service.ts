/**
 * The ownership graph at one step, built from the kernel's printed state (kernel-walk.ts) and the
 * run's BTF (btf-facts.ts). This is the server side of the contract's `graphAt`; the ownership
 * model's richer snapshots replace `snapshotFromWalk` behind the same signature later.
 *
 * Contract: `graphSnapshot(walk, btf, step)` → GraphSnapshot with
 *   nodes: fixed BTF nodes (global sections, their list/rbtree roots, maps with kptr slots), one
 *          node per reference id still alive on the path (local or kernel object, with its special
 *          fields), one per pointer-holding register / stack slot, one per borrowed kernel object;
 *   edges: owns (holder → referenced object), non-owning, borrows (no reference: trusted/rcu
 *          pointers, map values), stashed (object/map-value field → object), in-collection (root →
 *          node; map → its value).
 * Node ids are stable across steps (`reg:R6`, `obj:2`, `root:.data.A:fifo`) so layouts can be reused.
 */
import type { GraphEdge, GraphNode, GraphSnapshot } from '../api/contract.ts';
import type { RegValue } from '../ingest/verifier-log/reg-state.ts';
import type { BtfFacts } from './btf-facts.ts';
import { pointee, type Holder, type WalkState } from './kernel-walk.ts';

function typed(v: RegValue): Extract<RegValue, { kind: 'typed' }> | null {
  if (v.kind === 'typed') return v;
  if (v.kind === 'slot' && v.spilled?.kind === 'typed') return v.spilled;
  return null;
}

function holderId(h: Holder): string {
  return h.name.startsWith('fp') || h.name.includes('.fp') ? `slot:${h.name}` : `reg:${h.name}`;
}

export interface StepInfo {
  step: number;
  line: number;
  insn: number;
}

export function graphSnapshot(w: WalkState, btf: BtfFacts, at: StepInfo): GraphSnapshot {
  const nodes = new Map<string, GraphNode>();
  const edges: GraphEdge[] = [];
  for (const n of btf.staticNodes(w.lock)) nodes.set(n.id, n);
  for (const n of btf.staticNodes(null)) if (n.kind === 'map-value') edges.push({ id: `e:${n.parent}>${n.id}`, from: n.parent ?? '', to: n.id, kind: 'in-collection' });

  const objNode = (ref: number): GraphNode => {
    const id = `obj:${ref}`;
    let n = nodes.get(id);
    if (n) return n;
    const o = w.objects.get(ref);
    const type = o?.type ?? 'object';
    const local = Boolean(o?.local) || btf.isLocal(type);
    const fields = btf.fieldsOf(type);
    n = {
      id,
      kind: local ? 'local-object' : 'kernel-object',
      label: `${type} #${ref}`,
      detail: [
        local ? 'local object' : 'kernel object',
        o?.allocInsn !== undefined ? `acquired at insn ${o.allocInsn}${o.origin ? ` by ${o.origin}` : ''}` : 'acquired before this path',
        o?.ended ? `ended at insn ${o.ended.insn} (${o.ended.how})` : '',
      ]
        .filter((s) => s !== '')
        .join(' · '),
      status: o?.leaked ? 'leaked' : 'live',
      refId: ref,
    };
    if (fields.length > 0) n.fields = fields;
    if (o?.allocInsn !== undefined) n.allocInsn = o.allocInsn;
    nodes.set(id, n);
    return n;
  };

  const refsAlive = new Set<number>();
  const collectedOfType = (type: string): number[] =>
    [...w.objects.values()].filter((o) => !o.ended && o.placedIn?.kind === 'in-collection' && o.type === type).map((o) => o.refId);
  // Holders: registers and stack slots that point at something.
  for (const h of w.holders()) {
    const t = typed(h.value);
    if (!t) continue;
    const ref = t.attrs.refObjId;
    const nonOwning = Boolean(t.attrs.nonOwnRef || h.inferredNonOwning);
    let target: string | null = null;
    let field: string | undefined;
    let kind: GraphEdge['kind'];
    if (ref !== undefined) {
      const on = objNode(ref);
      if (t.maybeNull && on.status === 'live') on.status = 'maybe-null';
      refsAlive.add(ref);
      target = on.id;
      kind = nonOwning ? 'non-owning' : 'owns';
      field = t.attrs.off ? btf.structField(t.btfType ?? '', t.attrs.off)?.name : undefined;
    } else if (nonOwning && t.btfType && collectedOfType(t.btfType).length === 1) {
      // A non-owning reference to the only object of its type this path put in a collection.
      const only = collectedOfType(t.btfType)[0] as number;
      target = objNode(only).id;
      kind = 'non-owning';
      field = t.attrs.off ? btf.structField(t.btfType, t.attrs.off)?.name : undefined;
    } else if (nonOwning && t.btfType) {
      // A non-owning reference without a reference id: a node inside a collection.
      const id = `nonown:${t.btfType}${t.attrs.id !== undefined ? `:${t.attrs.id}` : ''}`;
      if (!nodes.has(id)) {
        nodes.set(id, { id, kind: 'local-object', label: `${t.btfType} (non-owning)`, detail: 'reached through a non-owning reference (valid until bpf_spin_unlock)', status: 'non-owning', fields: btf.fieldsOf(t.btfType) });
      }
      target = id;
      kind = 'non-owning';
    } else if (t.base === 'map_value' && t.attrs.map) {
      const p = pointee(btf, t);
      target = p?.node ?? btf.mapNodeId(t.attrs.map);
      if (!nodes.has(target)) nodes.set(target, { id: target, kind: 'global', label: t.attrs.map, detail: 'map value' });
      field = p?.field;
      kind = 'borrows';
    } else if (t.base === 'ptr' && t.btfType) {
      const id = `kobj:${t.btfType}`;
      if (!nodes.has(id)) {
        const how = t.flags.filter((f) => f === 'trusted' || f === 'rcu' || f === 'untrusted').join(' ') || 'borrowed';
        nodes.set(id, { id, kind: 'kernel-object', label: `${t.btfType} (${how})`, detail: 'a pointer without a reference: nobody owns it here', status: t.maybeNull ? 'maybe-null' : 'live' });
      }
      target = id;
      kind = 'borrows';
    } else continue;
    const hid = holderId(h);
    nodes.set(hid, {
      id: hid,
      kind: hid.startsWith('slot:') ? 'stack-slot' : 'register',
      label: h.name,
      detail: h.text,
      status: nonOwning ? 'non-owning' : t.maybeNull ? 'maybe-null' : 'live',
    });
    edges.push({ id: `e:${hid}>${target}`, from: hid, to: target, kind, ...(field ? { toField: field } : {}) });
  }

  // Objects placed in a kptr field or a collection, and objects that ended at this very step.
  for (const o of w.objects.values()) {
    if (o.ended && o.ended.line === at.line) {
      const n = objNode(o.refId);
      n.status = 'released';
      continue;
    }
    if (o.ended) continue;
    if (o.placedIn) {
      const n = objNode(o.refId);
      refsAlive.add(o.refId);
      if (!nodes.has(o.placedIn.node)) {
        // The parent: another object (stash into a local kptr) or a root we have no BTF for.
        if (o.placedIn.node.startsWith('obj:')) objNode(Number(o.placedIn.node.slice(4)));
        else nodes.set(o.placedIn.node, { id: o.placedIn.node, kind: 'list-head', label: btf.nodeLabel(o.placedIn.node) });
      }
      edges.push({
        id: `e:${o.placedIn.node}${o.placedIn.field ? `.${o.placedIn.field}` : ''}>${n.id}`,
        from: o.placedIn.node,
        to: n.id,
        kind: o.placedIn.kind,
        ...(o.placedIn.field ? { fromField: o.placedIn.field } : {}),
      });
    } else if (o.leaked) {
      objNode(o.refId);
    }
  }
  return { step: at.step, line: at.line, insn: at.insn, source: 'kernel', nodes: [...nodes.values()], edges, notes: [...w.notes] };
}
