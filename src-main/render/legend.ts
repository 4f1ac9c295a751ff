/**
 * Shared vocabulary of every diagram export: the title, the legend (node kinds, edge kinds,
 * statuses) with one style table that DOT, Mermaid and SVG all draw from, and the helpers that make
 * exports deterministic (stable ordering, fixed number formatting, text width estimation).
 *
 * Contract:
 * - `ExportTitle` is what a renderer needs to title a diagram (the export service's `DiagramTitle`
 *   is assignable to it); `titleLines(title, snapshot)` gives the same lines to every renderer.
 * - `NODE_STYLES`, `EDGE_STYLES`, `STATUS_STYLES` (contract/legend.ts, the one table the app's graph
 *   pane draws with too) are fixed, ordered tables: legends list every kind in this order whether or
 *   not the diagram uses it (the legend reads the same on every diagram).
 * - `prepareGraph(snapshot)` sorts nodes and edges by id (numeric-aware, code-unit order otherwise,
 *   never the locale), resolves parents (unknown parents and parent cycles are dropped) and splits
 *   the edges into drawn ones and those shown by containment (between a node and its ancestor).
 * - Pure functions; no I/O, no clock, no randomness.
 */
import type { GraphEdge, GraphNode, GraphSnapshot } from '../contract/contract.ts';

export interface ExportTitle {
  program: string;
  kernel: string | null;
  insn: number;
  verdict: string;
  /** Optional extra: the kernel profile the model judged with. */
  kernelProfile?: string;
  step?: number;
  /** The kernel's own diagnostic in one line (7.3+: `Resource Lifetime Safety: Unreleased resource at insn 15`). */
  kernelDiagnostic?: string;
  /** The kernel refused the object's BTF (the program was judged without it). */
  btfRefused?: boolean;
  /** A one-line title chosen by the caller; the renderers build their own from the fields above. */
  text?: string;
}

export { NODE_STYLES, EDGE_STYLES, STATUS_STYLES, nodeStyle, edgeStyle, statusStyle, nodeColors, type NodeStyle, type EdgeStyle, type StatusStyle } from '../contract/legend.ts';

// ---------------------------------------------------------------------------------------------
// Title

/** Line 1: program, kernel, instruction, verdict; line 2: where the state comes from. */
export function titleLines(t: ExportTitle, s?: Pick<GraphSnapshot, 'line' | 'step' | 'source'>): string[] {
  const main = `${t.program} — kernel ${t.kernel ?? 'unknown'} — insn ${t.insn} — ${t.verdict}`;
  const sub: string[] = [];
  if (s) sub.push(`step ${s.step}, log line ${s.line}`, `${s.source === 'model' ? 'ownership model' : 'kernel state'}`);
  if (t.kernelProfile) sub.push(`rules of kernel ${t.kernelProfile}`);
  if (t.kernelDiagnostic) sub.push(`kernel's diagnostic: ${t.kernelDiagnostic}`);
  if (t.btfRefused) sub.push('judged without its BTF (the kernel refused it)');
  return sub.length > 0 ? [main, sub.join(' · ')] : [main];
}

// ---------------------------------------------------------------------------------------------
// Determinism helpers

/** Numeric-aware, locale-free comparison: `obj:2` < `obj:10`; otherwise UTF-16 code-unit order. */
export function naturalCompare(a: string, b: string): number {
  const ra = /(\d+)|(\D+)/g;
  const rb = /(\d+)|(\D+)/g;
  for (;;) {
    const x = ra.exec(a);
    const y = rb.exec(b);
    if (!x || !y) return x ? 1 : y ? -1 : a < b ? -1 : a > b ? 1 : 0;
    if (x[1] !== undefined && y[1] !== undefined) {
      const d = Number(x[1]) - Number(y[1]);
      if (d !== 0) return d < 0 ? -1 : 1;
      if (x[1].length !== y[1].length) return x[1].length < y[1].length ? -1 : 1;
      continue;
    }
    if (x[0] !== y[0]) return x[0] < y[0] ? -1 : 1;
  }
}

/** A coordinate with at most one decimal, never `-0`, never exponent notation. */
export function num(n: number): string {
  if (!Number.isFinite(n)) return '0';
  const r = Math.round(n * 10) / 10;
  return (r === 0 ? 0 : r).toFixed(1).replace(/\.0$/, '');
}

/** Remove control characters (a log line can carry them), tabs → spaces, lone surrogates → U+FFFD. */
export function cleanText(s: string): string {
  return s
    .replace(/\t/g, ' ')
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '')
    .replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]|[\uFFFE\uFFFF]/g, '\uFFFD');
}

/** Width of `text` in DejaVu Sans Mono (advance 0.602 em; wide East Asian characters count twice). */
export function textWidth(text: string, fontSize: number): number {
  let cells = 0;
  for (const ch of text) {
    const c = ch.codePointAt(0) ?? 0;
    cells += c >= 0x1100 && (c <= 0x115f || (c >= 0x2e80 && c <= 0xa4cf) || (c >= 0xac00 && c <= 0xd7a3) || (c >= 0xf900 && c <= 0xfaff) || (c >= 0xff00 && c <= 0xff60) || c >= 0x1f300) ? 2 : 1;
  }
  return cells * 0.602 * fontSize;
}

// ---------------------------------------------------------------------------------------------
// Graph preparation shared by the renderers

export interface PreparedGraph {
  nodes: GraphNode[];
  byId: Map<string, GraphNode>;
  /** Resolved parent of each node (only existing, acyclic parents). */
  parentOf: Map<string, string>;
  /** Children of each parent, sorted. */
  childrenOf: Map<string, GraphNode[]>;
  /** Top-level nodes, sorted. */
  roots: GraphNode[];
  /** Edges drawn as lines (both ends exist, not between a node and its ancestor), sorted by id. */
  edges: GraphEdge[];
  /** Edges shown by containment (a map and its value slot) or dangling: kept out of the drawing. */
  hidden: GraphEdge[];
}

export function prepareGraph(s: GraphSnapshot): PreparedGraph {
  const nodes = [...s.nodes].sort((a, b) => naturalCompare(a.id, b.id));
  const byId = new Map<string, GraphNode>();
  for (const n of nodes) if (!byId.has(n.id)) byId.set(n.id, n);
  const uniq = [...byId.values()];
  const parentOf = new Map<string, string>();
  for (const n of uniq) {
    if (n.parent === undefined || n.parent === n.id || !byId.has(n.parent)) continue;
    // Drop the link if following parents from here comes back to this node (a cycle).
    const visited = new Set<string>();
    let cyclic = false;
    for (let p: string | undefined = n.parent; p !== undefined && byId.has(p) && !visited.has(p); p = byId.get(p)?.parent) {
      if (p === n.id) {
        cyclic = true;
        break;
      }
      visited.add(p);
    }
    if (!cyclic) parentOf.set(n.id, n.parent);
  }
  const childrenOf = new Map<string, GraphNode[]>();
  const roots: GraphNode[] = [];
  for (const n of uniq) {
    const p = parentOf.get(n.id);
    if (p === undefined) roots.push(n);
    else childrenOf.set(p, [...(childrenOf.get(p) ?? []), n]);
  }
  const isAncestor = (a: string, of: string): boolean => {
    for (let p = parentOf.get(of), guard = 0; p !== undefined && guard <= uniq.length; p = parentOf.get(p), guard++) if (p === a) return true;
    return false;
  };
  const edges: GraphEdge[] = [];
  const hidden: GraphEdge[] = [];
  const seen = new Set<string>();
  for (const e of [...s.edges].sort((a, b) => naturalCompare(a.id, b.id))) {
    if (seen.has(e.id)) continue;
    seen.add(e.id);
    if (!byId.has(e.from) || !byId.has(e.to) || isAncestor(e.from, e.to) || isAncestor(e.to, e.from)) hidden.push(e);
    else edges.push(e);
  }
  return { nodes: uniq, byId, parentOf, childrenOf, roots, edges, hidden };
}

/** The field rows drawn for a node (`name: kind`). */
export function fieldText(f: { name: string; kind: string }): string {
  return f.kind ? `${f.name}: ${f.kind}` : f.name;
}

/** Label text of an edge: the fields it leaves from / points into when those are not drawn as rows. */
export function edgeLabel(e: GraphEdge, from: GraphNode | undefined, to: GraphNode | undefined): string {
  const parts: string[] = [];
  if (e.fromField && !(from?.fields ?? []).some((f) => f.name === e.fromField)) parts.push(`.${e.fromField}`);
  if (e.toField && !(to?.fields ?? []).some((f) => f.name === e.toField)) parts.push(`→ .${e.toField}`);
  return parts.join(' ');
}
