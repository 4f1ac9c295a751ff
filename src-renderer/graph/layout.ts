/**
 * Layout of the ownership graph: d3/ELK compute, Svelte renders (graph/Graph.svelte).
 *
 * Contract: `GraphLayout.place(snapshot)` returns boxes for every node at once: the previous
 * positions when the node set did not change (stepping stays cheap: no layout at all), else the
 * previous positions for known nodes and a provisional spot next to a neighbour for new ones.
 * `relayout(snapshot)` then runs ELK's layered algorithm in a web worker, seeded with the current
 * positions (interactive crossing minimisation + model order keep nodes where they were), and
 * resolves with the new boxes — or null when a newer snapshot superseded it.
 */
import ELK from 'elkjs/lib/elk-api.js';
import type { ElkNode } from 'elkjs/lib/elk-api.js';
import elkWorkerUrl from 'elkjs/lib/elk-worker.min.js?url';
import { linkHorizontal } from 'd3';
import type { GraphNode, GraphSnapshot } from '../../src-main/contract/contract.ts';

export interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface Placed {
  boxes: Map<string, Box>;
  width: number;
  height: number;
}

export const HEADER = 22;
export const FIELD = 17;
const CHAR = 7.1;

const KIND_RANK: Record<GraphNode['kind'], number> = {
  register: 0,
  'stack-slot': 1,
  map: 2,
  global: 3,
  'map-value': 4,
  'list-head': 5,
  'rb-root': 6,
  'local-object': 7,
  'kernel-object': 8,
};

export function nodeSize(n: GraphNode): { w: number; h: number } {
  if (n.kind === 'register' || n.kind === 'stack-slot') return { w: Math.max(44, n.label.length * CHAR + 18), h: 24 };
  const fields = n.fields ?? [];
  const body = bodyLine(n);
  const longest = Math.max(n.label.length, body.length, ...fields.map((f) => f.name.length + f.kind.length + 3));
  return { w: Math.min(340, Math.max(110, longest * CHAR + 22)), h: HEADER + (body ? FIELD : 0) + fields.length * FIELD + (fields.length || body ? 4 : 0) };
}

/** The one line of text shown under a root's name: what it holds and its lock (from BTF). */
export function bodyLine(n: GraphNode): string {
  if ((n.kind !== 'list-head' && n.kind !== 'rb-root') || !n.detail) return '';
  return n.detail.length > 46 ? `${n.detail.slice(0, 45)}…` : n.detail;
}

/** Stable order: holders first, then static BTF nodes, then objects; by id within a kind. */
export function stableOrder(nodes: GraphNode[]): GraphNode[] {
  return [...nodes].sort((a, b) => KIND_RANK[a.kind] - KIND_RANK[b.kind] || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

function keyOf(s: GraphSnapshot): string {
  return stableOrder(s.nodes)
    .map((n) => n.id)
    .join('|');
}

export class GraphLayout {
  private elk: InstanceType<typeof ELK> | null = null;
  private boxes = new Map<string, Box>();
  private laidKey = '';
  private placedKey = '';
  private seq = 0;
  private inflight: { key: string; done: Promise<Placed | null> } | null = null;

  private engine(): InstanceType<typeof ELK> {
    if (!this.elk) this.elk = new ELK({ workerFactory: () => new Worker(elkWorkerUrl) });
    return this.elk;
  }

  /** Positions now (see the module comment); `stale` says a relayout is due. */
  place(s: GraphSnapshot): Placed & { stale: boolean } {
    const key = keyOf(s);
    // Same nodes as last time, already laid out: the very same boxes (nothing to redraw).
    if (key === this.placedKey && s.nodes.every((n) => sameSize(this.boxes.get(n.id), nodeSize(n)))) {
      return { boxes: this.boxes, ...extent(this.boxes), stale: key !== this.laidKey };
    }
    this.placedKey = key;
    const out = new Map<string, Box>();
    const neighbours = new Map<string, string[]>();
    for (const e of s.edges) {
      neighbours.set(e.to, [...(neighbours.get(e.to) ?? []), e.from]);
      neighbours.set(e.from, [...(neighbours.get(e.from) ?? []), e.to]);
    }
    let maxY = 0;
    for (const b of this.boxes.values()) maxY = Math.max(maxY, b.y + b.h);
    for (const n of stableOrder(s.nodes)) {
      const size = nodeSize(n);
      const old = this.boxes.get(n.id);
      if (old) {
        out.set(n.id, { ...old, w: size.w, h: size.h });
        continue;
      }
      const near = (neighbours.get(n.id) ?? []).map((id) => out.get(id) ?? this.boxes.get(id)).find((b) => b !== undefined);
      const x = near ? near.x + near.w + 60 : 20 + KIND_RANK[n.kind] * 40;
      const y = near ? near.y + near.h + 14 : maxY + 14;
      maxY = Math.max(maxY, y + size.h);
      out.set(n.id, { x, y, ...size });
    }
    this.boxes = out;
    return { boxes: out, ...extent(out), stale: key !== this.laidKey };
  }

  async relayout(s: GraphSnapshot): Promise<Placed | null> {
    const key = keyOf(s);
    // One layout per node set: steps that keep the same nodes wait for the one in flight.
    if (this.inflight && this.inflight.key === key) return this.inflight.done;
    const my = ++this.seq;
    const done = this.runLayout(s, key, my);
    this.inflight = { key, done };
    void done.finally(() => {
      if (this.inflight?.done === done) this.inflight = null;
    });
    return done;
  }

  private async runLayout(s: GraphSnapshot, key: string, my: number): Promise<Placed | null> {
    const ids = new Set(s.nodes.map((n) => n.id));
    const graph: ElkNode = {
      id: 'root',
      layoutOptions: {
        'elk.algorithm': 'layered',
        'elk.direction': 'RIGHT',
        'elk.spacing.nodeNode': '16',
        'elk.layered.spacing.nodeNodeBetweenLayers': '56',
        'elk.layered.considerModelOrder.strategy': 'NODES_AND_EDGES',
        'elk.layered.crossingMinimization.semiInteractive': 'true',
        'elk.separateConnectedComponents': 'false',
        'elk.padding': '[top=14,left=14,bottom=14,right=14]',
      },
      children: stableOrder(s.nodes).map((n) => {
        const b = this.boxes.get(n.id);
        const size = nodeSize(n);
        return { id: n.id, width: size.w, height: size.h, ...(b ? { x: b.x, y: b.y } : {}) };
      }),
      edges: s.edges.filter((e) => ids.has(e.from) && ids.has(e.to) && e.from !== e.to).map((e) => ({ id: e.id, sources: [e.from], targets: [e.to] })),
    };
    let res: ElkNode;
    try {
      res = await this.engine().layout(graph);
    } catch {
      return null;
    }
    if (my !== this.seq) return null;
    const out = new Map<string, Box>();
    for (const c of res.children ?? []) out.set(c.id, { x: c.x ?? 0, y: c.y ?? 0, w: c.width ?? 100, h: c.height ?? 24 });
    this.boxes = out;
    this.laidKey = key;
    this.placedKey = key;
    return { boxes: out, ...extent(out) };
  }
}

function sameSize(b: Box | undefined, size: { w: number; h: number }): boolean {
  return b !== undefined && b.w === size.w && b.h === size.h;
}

function extent(boxes: Map<string, Box>): { width: number; height: number } {
  let w = 0;
  let h = 0;
  for (const b of boxes.values()) {
    w = Math.max(w, b.x + b.w);
    h = Math.max(h, b.y + b.h);
  }
  return { width: w + 20, height: h + 20 };
}

const link = linkHorizontal<{ source: [number, number]; target: [number, number] }, [number, number]>();

/** y of a field row inside a node box (the box's middle when the node has no such field). */
export function fieldY(n: GraphNode | undefined, b: Box, field: string | undefined): number {
  if (!n || !field || !n.fields) return b.y + Math.min(b.h, 24) / 2;
  const i = n.fields.findIndex((f) => f.name === field);
  return i < 0 ? b.y + HEADER / 2 : b.y + HEADER + i * FIELD + FIELD / 2;
}

/** The edge's path: from the right side of `from` (at its field) to the left side of `to`. */
export function edgePath(from: Box, fy: number, to: Box, ty: number): string {
  const sx = from.x + from.w;
  const tx = to.x;
  if (tx >= sx + 10) return link({ source: [sx, fy], target: [tx - 2, ty] }) ?? '';
  // Backwards or overlapping: loop around below.
  const dx = Math.max(40, (sx - tx) / 3);
  return `M ${sx} ${fy} C ${sx + dx} ${fy}, ${tx - dx} ${ty}, ${tx - 2} ${ty}`;
}

/**
 * Structural sharing between snapshots: an incoming node or edge equal to the previous one with the
 * same id is replaced by the previous object, so the view redraws only what changed.
 */
export class Reuse<T extends { id: string }> {
  private prev = new Map<string, { sig: string; item: T }>();

  apply(items: T[]): T[] {
    const next = new Map<string, { sig: string; item: T }>();
    const out = items.map((it) => {
      const sig = JSON.stringify(it);
      const old = this.prev.get(it.id);
      const keep = old && old.sig === sig ? old.item : it;
      next.set(it.id, { sig, item: keep });
      return keep;
    });
    this.prev = next;
    return out;
  }
}
