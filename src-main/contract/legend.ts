/**
 * THE legend of the ownership graph: the kinds of nodes and edges and the statuses, with their
 * words and colours — one table for the app's graph pane (src-renderer/graph) and every export
 * (src-main/render). Pure data and lookups; the renderer may import values from this file only.
 *
 * Contract: the tables are fixed and ordered (legends list every entry in this order); lookups
 * never fail (an unknown kind gets a neutral style).
 */
import type { GraphEdgeKind, GraphNode, GraphNodeKind, GraphNodeStatus } from '../domain/views/graph-types.ts';

export interface NodeStyle {
  kind: GraphNodeKind;
  label: string;
  description: string;
  fill: string;
  stroke: string;
}

export interface EdgeStyle {
  kind: GraphEdgeKind;
  label: string;
  description: string;
  color: string;
  /** How the line is drawn (the same words the legend uses). */
  line: 'solid' | 'bold' | 'dashed' | 'dotted' | 'double' | 'grey';
}

export interface StatusStyle {
  status: GraphNodeStatus;
  label: string;
  description: string;
  /** Overrides of the kind's colours (null: keep them). */
  fill: string | null;
  stroke: string | null;
  dash: 'none' | 'dashed' | 'dotted';
}

export const NODE_STYLES: readonly NodeStyle[] = [
  { kind: 'map', label: 'map', description: 'a BPF map', fill: '#e3ecf8', stroke: '#3b5f8f' },
  { kind: 'map-value', label: 'map value', description: 'a value slot of a map', fill: '#f0f5fc', stroke: '#3b5f8f' },
  { kind: 'global', label: 'global', description: 'a global data section', fill: '#eef0f3', stroke: '#4a5568' },
  { kind: 'local-object', label: 'local object', description: 'bpf_obj_new object', fill: '#fff4d6', stroke: '#a86b12' },
  { kind: 'kernel-object', label: 'kernel object', description: 'referenced kernel object', fill: '#e3f4e8', stroke: '#2f7a4d' },
  { kind: 'list-head', label: 'list head', description: 'bpf_list_head root', fill: '#e6fffa', stroke: '#23877a' },
  { kind: 'rb-root', label: 'rbtree root', description: 'bpf_rb_root root', fill: '#e6fffa', stroke: '#23877a' },
  { kind: 'register', label: 'register', description: 'a register holding a pointer', fill: '#f3eefc', stroke: '#6b46c1' },
  { kind: 'stack-slot', label: 'stack slot', description: 'a spilled pointer on the stack', fill: '#f7f1fd', stroke: '#6b46c1' },
];

export const EDGE_STYLES: readonly EdgeStyle[] = [
  { kind: 'owns', label: 'owns', description: 'holds the owning reference', color: '#1a202c', line: 'solid' },
  { kind: 'stashed', label: 'stashed', description: 'kptr field holds it', color: '#2b5fa8', line: 'bold' },
  { kind: 'in-collection', label: 'in collection', description: 'in a list/rbtree/map', color: '#23877a', line: 'dashed' },
  { kind: 'non-owning', label: 'non-owning', description: 'valid until unlock', color: '#6b46c1', line: 'dotted' },
  { kind: 'refcount', label: 'refcount', description: 'an extra counted reference', color: '#a86b12', line: 'double' },
  { kind: 'borrows', label: 'borrows', description: 'a pointer without a reference', color: '#8a94a6', line: 'grey' },
];

export const STATUS_STYLES: readonly StatusStyle[] = [
  { status: 'live', label: 'live', description: 'held', fill: null, stroke: null, dash: 'none' },
  { status: 'maybe-null', label: 'maybe NULL', description: 'not NULL-checked yet', fill: null, stroke: null, dash: 'dashed' },
  { status: 'non-owning', label: 'non-owning', description: 'no reference held', fill: null, stroke: null, dash: 'dotted' },
  { status: 'released', label: 'released', description: 'released or dropped here', fill: '#edf0f4', stroke: '#8a94a6', dash: 'dashed' },
  { status: 'leaked', label: 'leaked', description: 'never released', fill: '#fde8e8', stroke: '#c53030', dash: 'none' },
  { status: 'error', label: 'error', description: 'the verifier error is about it', fill: '#fde8e8', stroke: '#c53030', dash: 'none' },
];

const NODE_BY_KIND = new Map(NODE_STYLES.map((s) => [s.kind, s]));
const EDGE_BY_KIND = new Map(EDGE_STYLES.map((s) => [s.kind, s]));
const STATUS_BY_NAME = new Map(STATUS_STYLES.map((s) => [s.status, s]));
const FALLBACK_NODE: NodeStyle = { kind: 'global', label: 'node', description: '', fill: '#ffffff', stroke: '#4a5568' };
const FALLBACK_EDGE: EdgeStyle = { kind: 'owns', label: 'edge', description: '', color: '#1a202c', line: 'solid' };

export function nodeStyle(kind: GraphNodeKind): NodeStyle {
  return NODE_BY_KIND.get(kind) ?? FALLBACK_NODE;
}

export function edgeStyle(kind: GraphEdgeKind): EdgeStyle {
  return EDGE_BY_KIND.get(kind) ?? FALLBACK_EDGE;
}

export function statusStyle(status: GraphNodeStatus | undefined): StatusStyle {
  return STATUS_BY_NAME.get(status ?? 'live') ?? (STATUS_STYLES[0] as StatusStyle);
}

/** Fill and stroke of a node: the kind's colours, overridden by a released/leaked/error status. */
export function nodeColors(n: Pick<GraphNode, 'kind' | 'status'>): { fill: string; stroke: string; dash: StatusStyle['dash']; alarm: boolean } {
  const k = nodeStyle(n.kind);
  const s = statusStyle(n.status);
  return { fill: s.fill ?? k.fill, stroke: s.stroke ?? k.stroke, dash: s.dash, alarm: n.status === 'leaked' || n.status === 'error' };
}
