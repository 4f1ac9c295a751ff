/**
 * Mermaid export of an ownership graph (`flowchart LR`).
 *
 * Contract: `graphToMermaid(snapshot, title)` returns Mermaid text that mermaid 11's parser accepts:
 * - a YAML front matter `title:` (program, kernel, instruction, verdict), `yamlString`-quoted;
 * - node ids are generated (`n0`, `n1`, … in id order); every label is a quoted string in which
 *   every ASCII character outside [A-Za-z0-9 _.,:/+=@!?*'-] is written as Mermaid's `#<code>;`
 *   entity (quotes, brackets, `<`, `>`, `#`, `|`, `&`, `;`, …), so BTF names and log text can't
 *   close a label, start markup or inject directives; line breaks between label lines are `<br/>`;
 * - a node with children is a `subgraph` (edges to or from it attach to the subgraph); classDefs per
 *   node kind and per status (released grey, leaked/error red); edges per kind: owns `-->`,
 *   stashed `==>`, in-collection `-.->` dashed, non-owning `-.->` dotted, refcount `==>` (Mermaid
 *   has no double line: its label says refcount), borrows `-->` grey; every edge is labelled with
 *   its kind (and the field it leaves from / points into);
 * - a `Legend` subgraph with one node per node kind and one edge per edge kind.
 * Deterministic: same input → same bytes.
 */
import type { GraphEdgeKind, GraphNode, GraphNodeKind, GraphSnapshot } from '../contract/contract.ts';
import { EDGE_STYLES, NODE_STYLES, STATUS_STYLES, cleanText, edgeStyle, fieldText, prepareGraph, titleLines, type ExportTitle } from './legend.ts';

const SAFE = /[A-Za-z0-9 _.,:/+=@!?*'-]/;

/** Escape text for a quoted Mermaid label: unsafe ASCII → `#<code>;`, newlines → spaces. */
export function mermaidText(s: string): string {
  let out = '';
  for (const ch of cleanText(s).replace(/[\r\n\u2028\u2029]+/g, ' ')) {
    const c = ch.codePointAt(0) ?? 0;
    out += c < 0x80 && !SAFE.test(ch) ? `#${c};` : ch;
  }
  return out;
}

/**
 * A YAML double-quoted scalar for the front matter: JSON escaping plus `\u003c`-style escapes for
 * `<`, `>`, `&` (YAML decodes them; the raw text carries no markup characters).
 */
export function yamlString(s: string): string {
  return JSON.stringify(cleanText(s).replace(/[\r\n]+/g, ' ')).replace(/[<>&]/g, (c) => `\\u${(c.codePointAt(0) ?? 0).toString(16).padStart(4, '0')}`);
}

function shape(kind: GraphNodeKind, text: string): string {
  const q = `"${text}"`;
  switch (kind) {
    case 'map':
      return `[(${q})]`;
    case 'map-value':
    case 'local-object':
      return `(${q})`;
    case 'global':
      return `[[${q}]]`;
    case 'list-head':
      return `>${q}]`;
    case 'rb-root':
      return `{{${q}}}`;
    case 'register':
      return `([${q}])`;
    case 'stack-slot':
      return `[/${q}/]`;
    default:
      return `[${q}]`;
  }
}

const ARROWS: Record<GraphEdgeKind, string> = {
  owns: '-->',
  stashed: '==>',
  'in-collection': '-.->',
  'non-owning': '-.->',
  refcount: '==>',
  borrows: '-->',
};

function linkStyle(kind: GraphEdgeKind): string {
  const st = edgeStyle(kind);
  switch (st.line) {
    case 'bold':
      return `stroke:${st.color},stroke-width:3px`;
    case 'dashed':
      return `stroke:${st.color},stroke-width:1.5px,stroke-dasharray:6 4`;
    case 'dotted':
      return `stroke:${st.color},stroke-width:1.5px,stroke-dasharray:2 3`;
    case 'double':
      return `stroke:${st.color},stroke-width:3px`;
    default:
      return `stroke:${st.color},stroke-width:1.5px`;
  }
}

const cls = (s: string) => s.replace(/[^a-z0-9]/g, '_');

function nodeText(n: GraphNode): string {
  const lines = [`<b>${mermaidText(n.label)}</b>`];
  if (n.detail) lines.push(`<small>${mermaidText(n.detail)}</small>`);
  for (const f of n.fields ?? []) lines.push(mermaidText(`· ${fieldText(f)}`));
  return lines.join('<br/>');
}

export function graphToMermaid(s: GraphSnapshot, title: ExportTitle): string {
  const g = prepareGraph(s);
  const mid = new Map<string, string>();
  g.nodes.forEach((n, i) => mid.set(n.id, `n${i}`));
  const [main, sub] = titleLines(title, s);
  const out: string[] = ['---', `title: ${yamlString(main ?? '')}`, '---', 'flowchart LR'];

  const classOf: string[] = [];
  const emit = (n: GraphNode, depth: number) => {
    const ind = '  '.repeat(depth + 1);
    const id = mid.get(n.id) as string;
    const kids = g.childrenOf.get(n.id) ?? [];
    if (kids.length > 0) {
      out.push(`${ind}subgraph ${id}["${nodeText(n)}"]`);
      for (const k of kids) emit(k, depth + 1);
      out.push(`${ind}end`);
    } else {
      out.push(`${ind}${id}${shape(n.kind, nodeText(n))}`);
    }
    classOf.push(`  class ${id} k_${cls(n.kind)}`);
    if (n.status && n.status !== 'live') classOf.push(`  class ${id} s_${cls(n.status)}`);
  };
  for (const n of g.roots) emit(n, 0);

  const links: string[] = [];
  g.edges.forEach((e, i) => {
    const parts = [edgeStyle(e.kind).label];
    if (e.fromField) parts.push(`from .${e.fromField}`);
    if (e.toField) parts.push(`into .${e.toField}`);
    out.push(`  ${mid.get(e.from)} ${ARROWS[e.kind] ?? '-->'}|"${mermaidText(parts.join(' · '))}"| ${mid.get(e.to)}`);
    links.push(`  linkStyle ${i} ${linkStyle(e.kind)}`);
  });

  // Legend: one node per node kind, one edge per edge kind (between unstyled points).
  out.push(`  subgraph legend["${mermaidText(`Legend${sub ? ` — ${sub}` : ''}`)}"]`);
  NODE_STYLES.forEach((k, i) => {
    out.push(`    lgn${i}${shape(k.kind, mermaidText(k.label))}`);
    classOf.push(`  class lgn${i} k_${cls(k.kind)}`);
  });
  STATUS_STYLES.filter((t) => t.status !== 'live').forEach((t, i) => {
    out.push(`    lgs${i}["${mermaidText(t.label)}"]`);
    classOf.push(`  class lgs${i} s_${cls(t.status)}`);
  });
  EDGE_STYLES.forEach((k, i) => {
    out.push(`    lga${i}[" "] ${ARROWS[k.kind]}|"${mermaidText(`${k.label} (${k.line})`)}"| lgb${i}[" "]`);
    links.push(`  linkStyle ${g.edges.length + i} ${linkStyle(k.kind)}`);
    classOf.push(`  class lga${i},lgb${i} point`);
  });
  out.push('  end');

  for (const k of NODE_STYLES) out.push(`  classDef k_${cls(k.kind)} fill:${k.fill},stroke:${k.stroke},stroke-width:1.5px,color:#1a202c`);
  for (const t of STATUS_STYLES) {
    if (t.status === 'live') continue;
    const parts: string[] = [];
    if (t.fill) parts.push(`fill:${t.fill}`);
    if (t.stroke) parts.push(`stroke:${t.stroke}`);
    if (t.dash === 'dashed') parts.push('stroke-dasharray:6 4');
    if (t.dash === 'dotted') parts.push('stroke-dasharray:2 3');
    if (t.status === 'leaked' || t.status === 'error') parts.push('stroke-width:3px');
    out.push(`  classDef s_${cls(t.status)} ${parts.join(',')}`);
  }
  out.push('  classDef point fill:none,stroke:none');
  out.push('  style legend fill:#ffffff,stroke:#a0aec0');
  out.push(...classOf, ...links);
  return out.join('\n') + '\n';
}
