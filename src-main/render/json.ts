/**
 * JSON export of an ownership graph: the snapshot (nodes and edges sorted by id) plus the title and
 * legend metadata, so a reader can redraw it without kptrscope.
 *
 * Contract: `graphToJson(snapshot, title)` returns a UTF-8 text ending in a newline,
 *   { "format": "kptrscope-ownership-graph", "version": 1, "title": {...}, "legend": {...},
 *     "snapshot": {...} }
 * with object keys in a stable (sorted) order at every level, arrays in a fixed order (nodes and
 * edges by id; a node's fields keep the struct's order), two-space indentation. Same input → same
 * bytes. `stableStringify` is exported for other deterministic JSON documents.
 */
import type { GraphSnapshot } from '../contract/contract.ts';
import { EDGE_STYLES, NODE_STYLES, STATUS_STYLES, naturalCompare, titleLines, type ExportTitle } from './legend.ts';

export const GRAPH_JSON_FORMAT = 'kptrscope-ownership-graph';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function canonical(v: unknown): Json {
  if (v === null || v === undefined) return null;
  if (typeof v === 'boolean' || typeof v === 'string') return v;
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (Array.isArray(v)) return v.map((x) => canonical(x));
  if (typeof v === 'object') {
    const out: { [k: string]: Json } = {};
    for (const k of Object.keys(v).sort()) {
      const x = (v as Record<string, unknown>)[k];
      if (x !== undefined && typeof x !== 'function') out[k] = canonical(x);
    }
    return out;
  }
  return null;
}

/** JSON with object keys sorted at every level (undefined members dropped), 2-space indent, final newline. */
export function stableStringify(v: unknown): string {
  return JSON.stringify(canonical(v), null, 2) + '\n';
}

export function graphToJson(s: GraphSnapshot, title: ExportTitle): string {
  const nodes = [...s.nodes].sort((a, b) => naturalCompare(a.id, b.id));
  const edges = [...s.edges].sort((a, b) => naturalCompare(a.id, b.id));
  return stableStringify({
    format: GRAPH_JSON_FORMAT,
    version: 1,
    title: {
      program: title.program,
      kernel: title.kernel,
      kernelProfile: title.kernelProfile ?? null,
      insn: title.insn,
      step: title.step ?? s.step,
      verdict: title.verdict,
      lines: titleLines(title, s),
    },
    legend: {
      nodeKinds: NODE_STYLES.map((n) => ({ kind: n.kind, label: n.label, description: n.description, fill: n.fill, stroke: n.stroke })),
      edgeKinds: EDGE_STYLES.map((e) => ({ kind: e.kind, label: e.label, description: e.description, color: e.color, line: e.line })),
      statuses: STATUS_STYLES.map((t) => ({ status: t.status, label: t.label, description: t.description })),
    },
    snapshot: { ...s, nodes, edges },
  });
}
