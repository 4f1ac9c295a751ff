/**
 * Graphviz DOT export of an ownership graph.
 *
 * Contract: `graphToDot(snapshot, title)` returns DOT text accepted by `dot -Tsvg` (Graphviz ≥ 2.43):
 * - `rankdir=LR`; node ids are generated (`n0`, `n1`, … in id order), so no user text ever lands in
 *   an identifier; every user string (BTF names, log text) goes through HTML-label escaping;
 * - a node with children is a cluster (`cluster_nK`) labelled with the parent; edges to or from the
 *   parent attach to an anchor inside it (`compound=true`, lhead/ltail clip them at the border);
 * - nodes with fields are HTML tables, one row (and port) per field; edges leave from / point into
 *   those rows; shape and colours per node kind, released nodes grey, leaked/error nodes red;
 * - edge style per kind: owns solid, stashed bold, in-collection dashed, non-owning dotted,
 *   refcount double (two parallel lines), borrows grey;
 * - the graph label holds the title (program, kernel, instruction, verdict) and a legend of every
 *   node kind, edge kind and status.
 * Deterministic: same input → same bytes (sorted, no timestamps).
 */
import type { GraphEdge, GraphNode, GraphNodeKind, GraphSnapshot } from '../contract/contract.ts';
import {
  EDGE_STYLES,
  NODE_STYLES,
  STATUS_STYLES,
  cleanText,
  edgeLabel,
  edgeStyle,
  fieldText,
  nodeColors,
  prepareGraph,
  titleLines,
  type EdgeStyle,
  type ExportTitle,
} from './legend.ts';

/** Escape text for a Graphviz HTML-like label. */
export function dotHtml(s: string): string {
  return cleanText(s)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;')
    .replace(/\n/g, '<BR/>');
}

/** Escape text for a double-quoted DOT string. */
export function dotString(s: string): string {
  return `"${cleanText(s).replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

const SHAPES: Record<GraphNodeKind, string> = {
  map: 'box3d',
  'map-value': 'box',
  global: 'tab',
  'local-object': 'box',
  'kernel-object': 'box',
  'list-head': 'cds',
  'rb-root': 'hexagon',
  register: 'ellipse',
  'stack-slot': 'box',
};

const MAX_DETAIL = 56;

function short(s: string, max = MAX_DETAIL): string {
  const t = cleanText(s);
  return t.length > max ? `${t.slice(0, max - 1)}…` : t;
}

function edgeAttrs(st: EdgeStyle): string[] {
  switch (st.line) {
    case 'bold':
      return ['style=bold', 'penwidth=2.6', `color="${st.color}"`];
    case 'dashed':
      return ['style=dashed', `color="${st.color}"`];
    case 'dotted':
      return ['style=dotted', 'penwidth=1.8', `color="${st.color}"`];
    case 'double':
      return [`color="${st.color}:invis:${st.color}"`];
    case 'grey':
      return [`color="${st.color}"`, `fontcolor="${st.color}"`];
    default:
      return [`color="${st.color}"`];
  }
}

/** A line sample drawn with box-drawing characters, for the legend. */
function lineSample(st: EdgeStyle): string {
  switch (st.line) {
    case 'bold':
      return '━━━━▶';
    case 'dashed':
      return '╌╌╌╌▶';
    case 'dotted':
      return '┈┈┈┈▶';
    case 'double':
      return '════▶';
    default:
      return '────▶';
  }
}

function tableStyle(n: GraphNode): string {
  const c = nodeColors(n);
  const styles: string[] = [];
  if (n.kind === 'local-object' || n.kind === 'map-value' || n.kind === 'list-head') styles.push('rounded');
  if (c.dash !== 'none') styles.push(c.dash);
  return styles.length > 0 ? ` STYLE="${styles.join(',')}"` : '';
}

function headerRows(n: GraphNode): string {
  const rows = [`<TR><TD ALIGN="LEFT"><B>${dotHtml(short(n.label, 80))}</B></TD></TR>`];
  if (n.detail) rows.push(`<TR><TD ALIGN="LEFT"><FONT POINT-SIZE="9">${dotHtml(short(n.detail))}</FONT></TD></TR>`);
  return rows.join('');
}

function legendLabel(): string {
  const nodeRows = NODE_STYLES.map(
    (s) => `<TR><TD BGCOLOR="${s.fill}" COLOR="${s.stroke}" BORDER="1" WIDTH="18"> </TD><TD ALIGN="LEFT">${dotHtml(s.label)}</TD></TR>`,
  ).join('');
  const edgeRows = EDGE_STYLES.map(
    (s) => `<TR><TD ALIGN="LEFT"><FONT COLOR="${s.color}">${lineSample(s)}</FONT></TD><TD ALIGN="LEFT">${dotHtml(`${s.label} (${s.line})`)}</TD></TR>`,
  ).join('');
  const statusRows = STATUS_STYLES.map((s) => {
    const fill = s.fill ?? '#ffffff';
    const stroke = s.stroke ?? '#4a5568';
    return `<TR><TD BGCOLOR="${fill}" COLOR="${stroke}" BORDER="1" WIDTH="18"> </TD><TD ALIGN="LEFT">${dotHtml(`${s.label}${s.dash !== 'none' ? ` (${s.dash} border)` : ''}`)}</TD></TR>`;
  }).join('');
  const sub = (head: string, rows: string) =>
    `<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="2" CELLPADDING="1"><TR><TD COLSPAN="2" ALIGN="LEFT"><B>${head}</B></TD></TR>${rows}</TABLE>`;
  return `<TR><TD ALIGN="LEFT">${sub('Nodes', nodeRows)}</TD><TD ALIGN="LEFT">${sub('Edges', edgeRows)}</TD><TD ALIGN="LEFT">${sub('Status', statusRows)}</TD></TR>`;
}

export function graphToDot(s: GraphSnapshot, title: ExportTitle): string {
  const g = prepareGraph(s);
  const dotId = new Map<string, string>();
  g.nodes.forEach((n, i) => dotId.set(n.id, `n${i}`));
  const isCluster = (id: string) => (g.childrenOf.get(id)?.length ?? 0) > 0;
  const portOf = (n: GraphNode, field: string | undefined): number => (field === undefined ? -1 : (n.fields ?? []).findIndex((f) => f.name === field));

  const out: string[] = [];
  const [main, sub] = titleLines(title, s);
  const titleHtml =
    `<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="4"><TR><TD COLSPAN="3" ALIGN="LEFT"><FONT POINT-SIZE="16"><B>${dotHtml(main ?? '')}</B></FONT></TD></TR>` +
    (sub ? `<TR><TD COLSPAN="3" ALIGN="LEFT"><FONT POINT-SIZE="11">${dotHtml(sub)}</FONT></TD></TR>` : '') +
    s.notes.map((t) => `<TR><TD COLSPAN="3" ALIGN="LEFT"><FONT POINT-SIZE="10">${dotHtml(short(t, 110))}</FONT></TD></TR>`).join('') +
    legendLabel() +
    '</TABLE>';
  out.push('digraph kptrscope {');
  out.push(`  graph [rankdir=LR, compound=true, newrank=true, nodesep=0.35, ranksep=0.7, pad=0.3, fontname="DejaVu Sans Mono", fontsize=11, labelloc=t, labeljust=l, label=<${titleHtml}>];`);
  out.push('  node [fontname="DejaVu Sans Mono", fontsize=11, penwidth=1.3, margin="0.12,0.06"];');
  out.push('  edge [fontname="DejaVu Sans Mono", fontsize=9, penwidth=1.4, arrowsize=0.8];');

  const nodeLine = (n: GraphNode, indent: string): string => {
    const id = dotId.get(n.id) as string;
    const c = nodeColors(n);
    const pen = c.alarm ? 2.4 : 1.3;
    if (isCluster(n.id)) {
      // The anchor of a cluster: its field rows, or an invisible point edges can attach to.
      if ((n.fields ?? []).length === 0) return `${indent}${id} [shape=point, style=invis, width=0.01, height=0.01, label=""];`;
      const rows = (n.fields ?? []).map((f, i) => `<TR><TD PORT="f${i}" ALIGN="LEFT">${dotHtml(short(fieldText(f)))}</TD></TR>`).join('');
      return `${indent}${id} [shape=plain, label=<<TABLE BORDER="1" CELLBORDER="0" CELLSPACING="0" CELLPADDING="3" BGCOLOR="${c.fill}" COLOR="${c.stroke}">${rows}</TABLE>>];`;
    }
    if ((n.fields ?? []).length > 0) {
      const rows = (n.fields ?? []).map((f, i) => `<TR><TD PORT="f${i}" ALIGN="LEFT">${dotHtml(short(fieldText(f)))}</TD></TR>`).join('');
      return (
        `${indent}${id} [shape=plain, penwidth=${pen}, label=<<TABLE BORDER="${c.alarm ? 2 : 1}" CELLBORDER="0" CELLSPACING="0" CELLPADDING="3" BGCOLOR="${c.fill}" COLOR="${c.stroke}"${tableStyle(n)}>` +
        `${headerRows(n)}<HR/>${rows}</TABLE>>];`
      );
    }
    const style = ['filled'];
    if (n.kind === 'local-object' || n.kind === 'map-value') style.push('rounded');
    if (n.kind === 'stack-slot') style.push('diagonals');
    if (c.dash !== 'none') style.push(c.dash);
    const label = `<B>${dotHtml(short(n.label, 80))}</B>${n.detail ? `<BR/><FONT POINT-SIZE="9">${dotHtml(short(n.detail))}</FONT>` : ''}`;
    return `${indent}${id} [shape=${SHAPES[n.kind] ?? 'box'}, style="${style.join(',')}", fillcolor="${c.fill}", color="${c.stroke}", penwidth=${pen}, label=<${label}>];`;
  };

  const emit = (n: GraphNode, depth: number) => {
    const indent = '  '.repeat(depth + 1);
    const kids = g.childrenOf.get(n.id) ?? [];
    if (kids.length === 0) {
      out.push(nodeLine(n, indent));
      return;
    }
    const c = nodeColors(n);
    const style = ['filled', 'rounded'];
    if (c.dash !== 'none') style.push(c.dash);
    out.push(`${indent}subgraph cluster_${dotId.get(n.id)} {`);
    out.push(
      `${indent}  graph [style="${style.join(',')}", fillcolor="${c.fill}", color="${c.stroke}", penwidth=${c.alarm ? 2.4 : 1.3}, labeljust=l, label=<<B>${dotHtml(short(n.label, 80))}</B>${n.detail ? `<BR/><FONT POINT-SIZE="9">${dotHtml(short(n.detail))}</FONT>` : ''}>];`,
    );
    out.push(nodeLine(n, `${indent}  `));
    for (const k of kids) emit(k, depth + 1);
    out.push(`${indent}}`);
  };
  for (const n of g.roots) emit(n, 0);

  for (const e of g.edges) out.push(edgeLine(e));
  out.push('}');
  return out.join('\n') + '\n';

  function edgeLine(e: GraphEdge): string {
    const from = g.byId.get(e.from) as GraphNode;
    const to = g.byId.get(e.to) as GraphNode;
    const fp = portOf(from, e.fromField);
    const tp = portOf(to, e.toField);
    const tail = `${dotId.get(e.from)}${fp >= 0 ? `:f${fp}:e` : ''}`;
    const head = `${dotId.get(e.to)}${tp >= 0 ? `:f${tp}:w` : ''}`;
    const attrs = edgeAttrs(edgeStyle(e.kind));
    if (isCluster(e.from)) attrs.push(`ltail=cluster_${dotId.get(e.from)}`);
    if (isCluster(e.to)) attrs.push(`lhead=cluster_${dotId.get(e.to)}`);
    const lbl = edgeLabel(e, from, to);
    if (lbl) attrs.push(`label=<${dotHtml(lbl)}>`);
    attrs.push(`tooltip=${dotString(e.kind)}`);
    return `  ${tail} -> ${head} [${attrs.join(', ')}];`;
  }
}
