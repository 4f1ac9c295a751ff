/**
 * Layout of an ownership graph for the static exports (SVG, PNG), with elkjs's layered algorithm,
 * in-process (elk.bundled.js, no worker, no DOM).
 *
 * Contract: `layoutGraph(snapshot, { direction })` resolves with absolute boxes for every node
 * (parents enclose their children: ELK compound nodes, `INCLUDE_CHILDREN`), one polyline per drawn
 * edge (orthogonal routing; edges leave from / enter a field row through fixed ports on the row's
 * east / west side), and edge-label boxes. Sizes come from `nodeMetrics` (monospace text metrics,
 * see legend.ts `textWidth`), so the SVG writer draws exactly what was measured.
 * Deterministic: inputs are sorted by id, ELK runs with a fixed seed and model order, and every
 * coordinate is rounded to 0.1 px.
 */
import ELK from 'elkjs/lib/elk.bundled.js';
import type { ElkExtendedEdge, ElkNode, ElkPort } from 'elkjs/lib/elk-api.js';
import type { GraphEdge, GraphNode, GraphSnapshot } from '../contract/contract.ts';
import { cleanText, edgeLabel, fieldText, prepareGraph, textWidth, type PreparedGraph } from './legend.ts';

export const FONT_FAMILY = "'DejaVu Sans Mono', 'Menlo', 'Consolas', monospace";
export const SIZES = {
  label: 13,
  detail: 10.5,
  field: 11.5,
  edgeLabel: 10,
  title: 18,
  subtitle: 12,
  note: 11,
  legend: 11,
  legendHead: 12,
} as const;

const PAD_X = 9;
const PAD_TOP = 6;
const LABEL_H = 18;
const DETAIL_H = 14;
const FIELD_H = 17;
const PAD_BOTTOM = 6;
const MIN_W = 56;
const MAX_DETAIL = 56;
const MAX_LABEL = 80;

export interface NodeMetrics {
  width: number;
  height: number;
  /** y (from the top of the box) of the baseline of the label, detail and each field row. */
  labelY: number;
  detailY: number | null;
  /** Separator line between header and fields (null: no fields). */
  separatorY: number | null;
  fieldYs: number[];
  /** Vertical centre of each field row (where its ports sit). */
  fieldMid: number[];
  /** The label as drawn (long labels are cut with an ellipsis). */
  label: string;
  detail: string | null;
  fields: string[];
}

export function truncate(s: string, max: number): string {
  const t = cleanText(s).replace(/\s+/g, ' ');
  return t.length > max ? `${t.slice(0, max - 1)}…` : t;
}

/** A LEAKED / ERROR / RELEASED badge in the top right corner (0: none). */
export function badgeWidth(n: GraphNode): number {
  return n.status === 'leaked' || n.status === 'error' || n.status === 'released' ? Math.ceil(textWidth(n.status.toUpperCase(), 9) + 8 + 8) : 0;
}

/** Size and text positions of a (leaf) node, or of the header band of a parent. */
export function nodeMetrics(n: GraphNode): NodeMetrics {
  const label = truncate(n.label, MAX_LABEL);
  const detail = n.detail ? truncate(n.detail, MAX_DETAIL) : null;
  const fields = (n.fields ?? []).map((f) => truncate(fieldText(f), MAX_DETAIL));
  let y = PAD_TOP;
  const labelY = y + 13;
  y += LABEL_H;
  let detailY: number | null = null;
  if (detail !== null) {
    detailY = y + 10;
    y += DETAIL_H;
  }
  let separatorY: number | null = null;
  const fieldYs: number[] = [];
  const fieldMid: number[] = [];
  if (fields.length > 0) {
    y += 3;
    separatorY = y;
    y += 2;
    for (let i = 0; i < fields.length; i++) {
      fieldMid.push(y + FIELD_H / 2);
      fieldYs.push(y + 12);
      y += FIELD_H;
    }
  }
  y += PAD_BOTTOM;
  const w = Math.max(
    MIN_W,
    textWidth(label, SIZES.label) + 2 * PAD_X + badgeWidth(n),
    detail !== null ? textWidth(detail, SIZES.detail) + 2 * PAD_X : 0,
    ...fields.map((f) => textWidth(f, SIZES.field) + 2 * PAD_X),
  );
  // Shapes with slanted or round sides need room at the ends.
  const extra = n.kind === 'rb-root' || n.kind === 'stack-slot' ? 16 : n.kind === 'register' || n.kind === 'list-head' ? 12 : 0;
  return { width: Math.ceil(w + extra), height: y, labelY, detailY, separatorY, fieldYs, fieldMid, label, detail, fields };
}

export interface LaidNode {
  node: GraphNode;
  x: number;
  y: number;
  width: number;
  height: number;
  /** Drawn as a container of other nodes. */
  compound: boolean;
  depth: number;
  metrics: NodeMetrics;
}

export interface LaidEdge {
  edge: GraphEdge;
  points: { x: number; y: number }[];
  label: { text: string; x: number; y: number; width: number; height: number } | null;
}

export interface GraphLayout {
  width: number;
  height: number;
  direction: 'RIGHT' | 'DOWN';
  /** Parents before children, then by id. */
  nodes: LaidNode[];
  edges: LaidEdge[];
  prepared: PreparedGraph;
}

const r1 = (n: number | undefined): number => Math.round((n ?? 0) * 10) / 10;

export async function layoutGraph(s: GraphSnapshot, opts: { direction?: 'RIGHT' | 'DOWN' } = {}): Promise<GraphLayout> {
  const direction = opts.direction ?? 'RIGHT';
  const g = prepareGraph(s);
  const elkId = new Map<string, string>();
  g.nodes.forEach((n, i) => elkId.set(n.id, `n${i}`));
  const metrics = new Map<string, NodeMetrics>(g.nodes.map((n) => [n.id, nodeMetrics(n)]));
  const isCompound = (id: string) => (g.childrenOf.get(id)?.length ?? 0) > 0;

  const toElk = (n: GraphNode): ElkNode => {
    const id = elkId.get(n.id) as string;
    const m = metrics.get(n.id) as NodeMetrics;
    if (isCompound(n.id)) {
      // Header band (label, detail, field rows as text) on top of the children.
      return {
        id,
        layoutOptions: { 'elk.padding': `[top=${m.height + 6},left=12,bottom=12,right=12]`, 'elk.nodeSize.minimum': `(${m.width},${m.height + 24})`, 'elk.nodeSize.constraints': 'MINIMUM_SIZE' },
        children: (g.childrenOf.get(n.id) ?? []).map(toElk),
      };
    }
    const ports: ElkPort[] = [];
    m.fieldMid.forEach((y, i) => {
      ports.push({ id: `${id}.in${i}`, x: 0, y: r1(y), width: 0, height: 0, layoutOptions: { 'elk.port.side': 'WEST' } });
      ports.push({ id: `${id}.out${i}`, x: m.width, y: r1(y), width: 0, height: 0, layoutOptions: { 'elk.port.side': 'EAST' } });
    });
    return {
      id,
      width: m.width,
      height: m.height,
      ...(ports.length > 0 ? { ports, layoutOptions: { 'elk.portConstraints': 'FIXED_POS' } } : {}),
    };
  };

  const fieldIndex = (n: GraphNode, f: string | undefined) => (f === undefined || isCompound(n.id) ? -1 : (n.fields ?? []).findIndex((x) => x.name === f));
  const edges: ElkExtendedEdge[] = g.edges.map((e, i) => {
    const from = g.byId.get(e.from) as GraphNode;
    const to = g.byId.get(e.to) as GraphNode;
    const fi = fieldIndex(from, e.fromField);
    const ti = fieldIndex(to, e.toField);
    const text = edgeLabel(e, from, to);
    return {
      id: `e${i}`,
      sources: [fi >= 0 ? `${elkId.get(e.from)}.out${fi}` : (elkId.get(e.from) as string)],
      targets: [ti >= 0 ? `${elkId.get(e.to)}.in${ti}` : (elkId.get(e.to) as string)],
      ...(text ? { labels: [{ text, width: Math.ceil(textWidth(text, SIZES.edgeLabel) + 6), height: 14 }] } : {}),
    };
  });

  const graph: ElkNode = {
    id: 'root',
    layoutOptions: {
      'elk.algorithm': 'layered',
      'elk.direction': direction,
      'elk.hierarchyHandling': 'INCLUDE_CHILDREN',
      'elk.json.edgeCoords': 'ROOT',
      'elk.json.shapeCoords': 'ROOT',
      'elk.edgeRouting': 'ORTHOGONAL',
      'elk.randomSeed': '1',
      'elk.layered.considerModelOrder.strategy': 'NODES_AND_EDGES',
      'elk.layered.spacing.nodeNodeBetweenLayers': '56',
      'elk.layered.spacing.edgeNodeBetweenLayers': '20',
      'elk.spacing.nodeNode': '22',
      'elk.spacing.edgeNode': '14',
      'elk.spacing.edgeEdge': '10',
      'elk.spacing.edgeLabel': '4',
      'elk.spacing.componentComponent': '36',
      'elk.edgeLabels.placement': 'CENTER',
      'elk.padding': '[top=0,left=0,bottom=0,right=0]',
    },
    children: g.roots.map(toElk),
    edges,
  };

  const res = await new ELK().layout(graph);

  const byElk = new Map<string, ElkNode>();
  const walk = (n: ElkNode) => {
    byElk.set(n.id, n);
    for (const c of n.children ?? []) walk(c);
  };
  for (const c of res.children ?? []) walk(c);

  const nodes: LaidNode[] = [];
  const place = (n: GraphNode, depth: number) => {
    const en = byElk.get(elkId.get(n.id) as string);
    nodes.push({
      node: n,
      x: r1(en?.x),
      y: r1(en?.y),
      width: r1(en?.width),
      height: r1(en?.height),
      compound: isCompound(n.id),
      depth,
      metrics: metrics.get(n.id) as NodeMetrics,
    });
    for (const c of g.childrenOf.get(n.id) ?? []) place(c, depth + 1);
  };
  for (const n of g.roots) place(n, 0);

  const resEdges = new Map<string, ElkExtendedEdge>();
  const collect = (n: ElkNode) => {
    for (const e of n.edges ?? []) resEdges.set(e.id, e);
    for (const c of n.children ?? []) collect(c);
  };
  collect(res);

  const laidEdges: LaidEdge[] = g.edges.map((e, i) => {
    const re = resEdges.get(`e${i}`);
    const points: { x: number; y: number }[] = [];
    for (const sec of re?.sections ?? []) {
      for (const p of [sec.startPoint, ...(sec.bendPoints ?? []), sec.endPoint]) {
        const q = { x: r1(p.x), y: r1(p.y) };
        const last = points[points.length - 1];
        if (!last || last.x !== q.x || last.y !== q.y) points.push(q);
      }
    }
    const l = re?.labels?.[0];
    return {
      edge: e,
      points,
      label: l && l.text ? { text: l.text, x: r1(l.x), y: r1(l.y), width: r1(l.width), height: r1(l.height) } : null,
    };
  });

  let width = r1(res.width);
  let height = r1(res.height);
  for (const n of nodes) {
    width = Math.max(width, n.x + n.width);
    height = Math.max(height, n.y + n.height);
  }
  for (const e of laidEdges) {
    for (const p of e.points) {
      width = Math.max(width, p.x);
      height = Math.max(height, p.y);
    }
    if (e.label) {
      width = Math.max(width, e.label.x + e.label.width);
      height = Math.max(height, e.label.y + e.label.height);
    }
  }
  return { width: Math.ceil(width), height: Math.ceil(height), direction, nodes, edges: laidEdges, prepared: g };
}
