/**
 * SVG export of an ownership graph: ELK layout (layout.ts) and our own SVG writer (no DOM).
 *
 * Contract: `graphToSvg(snapshot, title)` resolves with a standalone SVG 1.1 document (UTF-8 text):
 * - a title block (program, kernel, instruction, verdict; step/line/source; the step's notes), the
 *   diagram, and a legend of every node kind, edge kind and status;
 * - every piece of user text (BTF names, log text) is XML-escaped (`xmlText`), so a struct named
 *   `<img src=x onerror=alert(1)>` is text, never markup; no scripts, no external references;
 * - page fit: 1 user unit = 1 CSS px (96 dpi); fonts 13 px node labels, 11.5 px fields, 10.5 px
 *   details, 18 px title. The document's `width`/`height` are the content size scaled down (never
 *   up) to at most A4_WIDTH_PX = 1123 px (297 mm, A4 landscape width), with `viewBox` the unscaled
 *   content: a printout at 100 % fits the page's width. When the left-to-right layout is wider than
 *   the page, a top-to-bottom layout is tried and the one that needs less shrinking wins (ties:
 *   left-to-right). `svgSize(svg)` reads the width/height back (the PNG export uses it).
 * Deterministic: same input → same bytes (sorted input, fixed seed, coordinates rounded to 0.1).
 */
import type { GraphNode, GraphSnapshot } from '../contract/contract.ts';
import { EDGE_STYLES, NODE_STYLES, STATUS_STYLES, cleanText, edgeStyle, nodeColors, nodeStyle, num, textWidth, titleLines, type EdgeStyle, type ExportTitle } from './legend.ts';
import { FONT_FAMILY, SIZES, layoutGraph, truncate, type GraphLayout, type LaidEdge, type LaidNode } from './layout.ts';

/** A4 landscape width (297 mm) in CSS px at 96 dpi. */
export const A4_WIDTH_PX = 1123;
export const MARGIN = 24;

/** Escape text for XML character data and attribute values; drop characters XML 1.0 forbids. */
export function xmlText(s: string): string {
  return cleanText(s)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** The document's width and height attributes (px). */
export function svgSize(svg: string): { width: number; height: number } {
  const m = /<svg\b[^>]*?\bwidth="([\d.]+)"[^>]*?\bheight="([\d.]+)"/.exec(svg);
  if (!m) throw new Error('not an SVG written by kptrscope (no width/height)');
  return { width: Number(m[1]), height: Number(m[2]) };
}

/** Scale factor that fits `width` into an A4 landscape page width (never enlarges). */
export function pageScale(width: number): number {
  return width > A4_WIDTH_PX ? A4_WIDTH_PX / width : 1;
}

export interface SvgParts {
  width: number;
  height: number;
  body: string[];
  defs: string[];
}

/** Wrap content of `width`×`height` user units in an <svg> scaled to the A4 width. */
export function svgDocument(p: SvgParts, titleText: string, desc: string): string {
  const w = Math.ceil(p.width);
  const h = Math.ceil(p.height);
  const s = pageScale(w);
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n` +
    `<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="${Math.max(1, Math.round(w * s))}" height="${Math.max(1, Math.round(h * s))}" viewBox="0 0 ${w} ${h}" font-family="${xmlText(FONT_FAMILY)}">\n` +
    `<title>${xmlText(titleText)}</title>\n<desc>${xmlText(desc)}</desc>\n` +
    `<defs>\n${p.defs.join('\n')}\n</defs>\n` +
    `<rect x="0" y="0" width="${w}" height="${h}" fill="#ffffff"/>\n` +
    p.body.join('\n') +
    '\n</svg>\n'
  );
}

/** <text> element with escaped content. */
export function text(x: number, y: number, s: string, size: number, extra = ''): string {
  return `<text x="${num(x)}" y="${num(y)}" font-size="${num(size)}"${extra ? ` ${extra}` : ''}>${xmlText(s)}</text>`;
}

function dashAttr(d: 'none' | 'dashed' | 'dotted'): string {
  return d === 'dashed' ? ' stroke-dasharray="6 4"' : d === 'dotted' ? ' stroke-dasharray="2 3"' : '';
}

export function markerId(kind: string): string {
  return `arrow-${kind.replace(/[^a-z0-9-]/g, '')}`;
}

export function arrowMarkers(): string[] {
  return EDGE_STYLES.map(
    (st) =>
      `<marker id="${markerId(st.kind)}" viewBox="0 0 10 10" refX="9" refY="5" markerUnits="userSpaceOnUse" markerWidth="9" markerHeight="9" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="${st.color}"/></marker>`,
  );
}

/** The outline of a node of `kind` in the box (x, y, w, h). */
function shapePath(kind: GraphNode['kind'], x: number, y: number, w: number, h: number): { tag: string; back?: string } {
  const R = (rx: number) => `<rect x="${num(x)}" y="${num(y)}" width="${num(w)}" height="${num(h)}" rx="${num(rx)}"`;
  switch (kind) {
    case 'map':
      return { tag: R(3), back: `<rect x="${num(x + 4)}" y="${num(y - 4)}" width="${num(w)}" height="${num(h)}" rx="3"` };
    case 'map-value':
      return { tag: R(6) };
    case 'global':
      return { tag: R(2), back: `<rect x="${num(x)}" y="${num(y - 5)}" width="${num(Math.min(44, w / 3))}" height="8" rx="2"` };
    case 'local-object':
      return { tag: R(10) };
    case 'list-head':
      return { tag: R(Math.min(h / 2, 14)) };
    case 'register':
      return { tag: R(h / 2) };
    case 'rb-root': {
      const k = 8;
      return { tag: `<polygon points="${num(x + k)},${num(y)} ${num(x + w - k)},${num(y)} ${num(x + w)},${num(y + h / 2)} ${num(x + w - k)},${num(y + h)} ${num(x + k)},${num(y + h)} ${num(x)},${num(y + h / 2)}"` };
    }
    case 'stack-slot': {
      const k = 8;
      return { tag: `<polygon points="${num(x + k)},${num(y)} ${num(x + w)},${num(y)} ${num(x + w - k)},${num(y + h)} ${num(x)},${num(y + h)}"` };
    }
    default:
      return { tag: R(2) };
  }
}

function drawNode(n: LaidNode): string[] {
  const out: string[] = [];
  const c = nodeColors(n.node);
  const m = n.metrics;
  const pen = c.alarm ? 2.6 : 1.4;
  // A parent keeps the map / global outline; other parents are rounded boxes.
  const kind = n.compound && n.node.kind !== 'map' && n.node.kind !== 'global' ? 'map-value' : n.node.kind;
  const sh = shapePath(kind, n.x, n.y, n.width, n.height);
  const paint = `fill="${c.fill}" stroke="${c.stroke}" stroke-width="${pen}"${dashAttr(c.dash)}`;
  out.push(`<g class="node" data-kind="${xmlText(n.node.kind)}" data-status="${xmlText(n.node.status ?? 'live')}">`);
  out.push(`<title>${xmlText(`${n.node.label} (${nodeStyle(n.node.kind).label}${n.node.status ? `, ${n.node.status}` : ''})`)}</title>`);
  if (sh.back) out.push(`${sh.back} ${paint}/>`);
  out.push(`${sh.tag} ${paint}/>`);
  const inset = n.node.kind === 'rb-root' || n.node.kind === 'stack-slot' ? 8 : n.node.kind === 'register' || n.node.kind === 'list-head' ? 6 : 0;
  const tx = n.x + 9 + inset;
  out.push(text(tx, n.y + m.labelY, m.label, SIZES.label, `font-weight="bold" fill="${c.alarm ? '#9b1c1c' : '#1a202c'}"`));
  if (m.detail !== null && m.detailY !== null) out.push(text(tx, n.y + m.detailY, m.detail, SIZES.detail, 'fill="#4a5568"'));
  if (m.separatorY !== null) {
    const sy = n.y + m.separatorY;
    out.push(`<line x1="${num(n.x)}" y1="${num(sy)}" x2="${num(n.x + n.width)}" y2="${num(sy)}" stroke="${c.stroke}" stroke-width="1"/>`);
    m.fields.forEach((f, i) => out.push(text(tx, n.y + (m.fieldYs[i] as number), f, SIZES.field, 'fill="#1a202c"')));
  }
  if (n.node.status === 'leaked' || n.node.status === 'error' || n.node.status === 'released') {
    const tag = n.node.status.toUpperCase();
    const tw = textWidth(tag, 9) + 8;
    out.push(`<rect x="${num(n.x + n.width - tw - 3)}" y="${num(n.y + 3)}" width="${num(tw)}" height="13" rx="3" fill="${c.stroke}"/>`);
    out.push(text(n.x + n.width - tw + 1, n.y + 13, tag, 9, 'fill="#ffffff" font-weight="bold"'));
  }
  out.push('</g>');
  return out;
}

function polyline(points: { x: number; y: number }[]): string {
  return points.map((p, i) => `${i === 0 ? 'M' : 'L'}${num(p.x)},${num(p.y)}`).join(' ');
}

/** The strokes of an edge of style `st` along `d` (a path), arrow at the end. */
export function edgeStrokes(d: string, st: EdgeStyle): string[] {
  const marker = `marker-end="url(#${markerId(st.kind)})"`;
  switch (st.line) {
    case 'bold':
      return [`<path d="${d}" fill="none" stroke="${st.color}" stroke-width="3" ${marker}/>`];
    case 'dashed':
      return [`<path d="${d}" fill="none" stroke="${st.color}" stroke-width="1.6" stroke-dasharray="7 4" ${marker}/>`];
    case 'dotted':
      return [`<path d="${d}" fill="none" stroke="${st.color}" stroke-width="1.8" stroke-dasharray="2 3" ${marker}/>`];
    case 'double':
      return [
        `<path d="${d}" fill="none" stroke="${st.color}" stroke-width="5"/>`,
        `<path d="${d}" fill="none" stroke="#ffffff" stroke-width="2" ${marker}/>`,
      ];
    default:
      return [`<path d="${d}" fill="none" stroke="${st.color}" stroke-width="1.6" ${marker}/>`];
  }
}

function drawEdge(e: LaidEdge): string[] {
  if (e.points.length < 2) return [];
  const st = edgeStyle(e.edge.kind);
  const out = [`<g class="edge" data-kind="${xmlText(e.edge.kind)}">`, `<title>${xmlText(`${st.label}: ${e.edge.from} → ${e.edge.to}`)}</title>`];
  out.push(...edgeStrokes(polyline(e.points), st));
  if (e.label) {
    out.push(`<rect x="${num(e.label.x - 1)}" y="${num(e.label.y)}" width="${num(e.label.width + 2)}" height="${num(e.label.height)}" fill="#ffffff" fill-opacity="0.9"/>`);
    out.push(text(e.label.x + 2, e.label.y + 10.5, e.label.text, SIZES.edgeLabel, `fill="${st.color === '#8a94a6' ? '#4a5568' : st.color}"`));
  }
  out.push('</g>');
  return out;
}

/** Title block lines: [text, size, bold]. */
function titleBlock(lines: string[], notes: string[]): { rows: { s: string; size: number; bold: boolean }[]; height: number; width: number } {
  const rows: { s: string; size: number; bold: boolean }[] = [];
  lines.forEach((l, i) => rows.push({ s: truncate(l, 140), size: i === 0 ? SIZES.title : SIZES.subtitle, bold: i === 0 }));
  for (const n of notes.slice(0, 6)) rows.push({ s: truncate(`• ${n}`, 140), size: SIZES.note, bold: false });
  if (notes.length > 6) rows.push({ s: `• … ${notes.length - 6} more`, size: SIZES.note, bold: false });
  const height = rows.reduce((h, r) => h + r.size * 1.45, 0);
  const width = Math.max(0, ...rows.map((r) => textWidth(r.s, r.size) * (r.bold ? 1.05 : 1)));
  return { rows, height, width };
}

interface LegendItem {
  w: number;
  draw: (x: number, y: number) => string[];
}

/** The legend laid out in rows of at most `maxWidth`: one group per line-start (nodes, edges, status). */
export function legendBlock(maxWidth: number): { height: number; width: number; draw: (x: number, y: number) => string[] } {
  const fs = SIZES.legend;
  const groups: { head: string; items: LegendItem[] }[] = [
    {
      head: 'Nodes',
      items: NODE_STYLES.map((k) => ({
        w: 38 + textWidth(k.label, fs) + 16,
        draw: (x, y) => {
          const sh = shapePath(k.kind, x, y - 11, 26, 14);
          return [`${sh.back ? `${sh.back} fill="${k.fill}" stroke="${k.stroke}" stroke-width="1.2"/>` : ''}${sh.tag} fill="${k.fill}" stroke="${k.stroke}" stroke-width="1.2"/>`, text(x + 36, y, k.label, fs, 'fill="#1a202c"')];
        },
      })),
    },
    {
      head: 'Edges',
      items: EDGE_STYLES.map((k) => {
        const label = `${k.label} (${k.line})`;
        return {
          w: 48 + textWidth(label, fs) + 16,
          draw: (x, y) => [...edgeStrokes(`M${num(x)},${num(y - 4)} L${num(x + 38)},${num(y - 4)}`, k), text(x + 46, y, label, fs, 'fill="#1a202c"')],
        };
      }),
    },
    {
      head: 'Status',
      items: STATUS_STYLES.map((t) => ({
        w: 34 + textWidth(t.label, fs) + 16,
        draw: (x, y) => [
          `<rect x="${num(x)}" y="${num(y - 11)}" width="26" height="14" rx="2" fill="${t.fill ?? '#ffffff'}" stroke="${t.stroke ?? '#4a5568'}" stroke-width="${t.status === 'leaked' || t.status === 'error' ? 2.4 : 1.2}"${dashAttr(t.dash)}/>`,
          text(x + 32, y, t.label, fs, 'fill="#1a202c"'),
        ],
      })),
    },
  ];
  const headW = textWidth('Status', SIZES.legendHead) + 14;
  const rowH = 22;
  const placed: { x: number; y: number; item: LegendItem }[] = [];
  const heads: { x: number; y: number; s: string }[] = [];
  let y = 16 + 22;
  let width = 0;
  for (const gr of groups) {
    heads.push({ x: 0, y, s: gr.head });
    let x = headW;
    for (const it of gr.items) {
      if (x + it.w > maxWidth && x > headW) {
        x = headW;
        y += rowH;
      }
      placed.push({ x, y, item: it });
      x += it.w;
      width = Math.max(width, x);
    }
    y += rowH;
  }
  const height = y - rowH + 10;
  return {
    height,
    width,
    draw: (ox, oy) => {
      const out = [`<g class="legend">`, text(ox, oy + 14, 'Legend', SIZES.legendHead, 'font-weight="bold" fill="#1a202c"')];
      for (const h of heads) out.push(text(ox, oy + h.y, h.s, SIZES.legendHead, 'font-weight="bold" fill="#4a5568"'));
      for (const p of placed) out.push(...p.item.draw(ox + p.x, oy + p.y));
      out.push('</g>');
      return out;
    },
  };
}

function compose(layout: GraphLayout, title: ExportTitle, s: GraphSnapshot): SvgParts {
  const tb = titleBlock(titleLines(title, s), s.notes.map(cleanText));
  const legendMax = Math.max(layout.width, 760, tb.width);
  const lg = legendBlock(Math.min(legendMax, A4_WIDTH_PX - 2 * MARGIN));
  const inner = Math.max(layout.width, tb.width, lg.width);
  const width = inner + 2 * MARGIN;
  const diagramY = MARGIN + tb.height + 14;
  const legendY = diagramY + layout.height + 24;
  const height = legendY + lg.height + MARGIN;
  const body: string[] = [];
  body.push('<g class="title">');
  let y = MARGIN;
  for (const r of tb.rows) {
    y += r.size * 1.2;
    body.push(text(MARGIN, y, r.s, r.size, `fill="#1a202c"${r.bold ? ' font-weight="bold"' : ''}`));
    y += r.size * 0.25;
  }
  body.push('</g>');
  body.push(`<line x1="${MARGIN}" y1="${num(diagramY - 7)}" x2="${num(width - MARGIN)}" y2="${num(diagramY - 7)}" stroke="#cbd5e0" stroke-width="1"/>`);
  body.push(`<g class="diagram" transform="translate(${MARGIN},${num(diagramY)})">`);
  // Parents first (they enclose their children), then edges, then leaf nodes on top.
  const compound = layout.nodes.filter((n) => n.compound).sort((a, b) => a.depth - b.depth);
  for (const n of compound) body.push(...drawNode(n));
  for (const e of layout.edges) body.push(...drawEdge(e));
  for (const n of layout.nodes) if (!n.compound) body.push(...drawNode(n));
  if (layout.nodes.length === 0) body.push(text(0, 16, 'no ownership at this step (nothing held)', SIZES.label, 'fill="#4a5568"'));
  body.push('</g>');
  body.push(`<line x1="${MARGIN}" y1="${num(legendY - 10)}" x2="${num(width - MARGIN)}" y2="${num(legendY - 10)}" stroke="#cbd5e0" stroke-width="1"/>`);
  body.push(...lg.draw(MARGIN, legendY));
  return { width, height, body, defs: arrowMarkers() };
}

export async function graphToSvg(s: GraphSnapshot, title: ExportTitle): Promise<string> {
  let parts = compose(await layoutGraph(s, { direction: 'RIGHT' }), title, s);
  if (parts.width > A4_WIDTH_PX) {
    const alt = compose(await layoutGraph(s, { direction: 'DOWN' }), title, s);
    if (pageScale(alt.width) > pageScale(parts.width)) parts = alt;
  }
  const lines = titleLines(title, s);
  return svgDocument(parts, lines[0] ?? 'ownership graph', `Ownership graph exported by kptrscope. ${lines.slice(1).join(' ')}`);
}
