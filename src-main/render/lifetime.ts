/**
 * An object's lifetime as a sequence diagram: participants are the holders it passed through
 * (the helper that created it, registers, stack slots, kptr fields, list/rbtree roots, `NULL`,
 * `freed`, …) in order of first appearance; messages are its ownership events in the model's order,
 * each labelled with its instruction number and kind.
 *
 * Contract:
 * - `lifetimeToMermaid(input)` → Mermaid `sequenceDiagram` text (front-matter title; participant
 *   ids generated `p0`, `p1`, …; user text escaped as in mermaid.ts so it cannot break a line or
 *   start markup);
 * - `lifetimeToSvg(input)` → standalone SVG (same conventions as svg.ts: XML-escaped text, A4
 *   landscape width fit, title block, legend of event colours), no layout engine needed.
 * An event moving the object from holders `a,b` to `c,d` is an arrow from `a` to `c` whose label
 * names all of them; an event without a destination (invalidate, leak) or whose source and
 * destination are the same holder is a note on that holder's lifeline; an event without a source
 * (acquire) starts at the creating helper; a later one (a leak at exit) is a note on the holder
 * the object was last seen in. Deterministic: same input → same bytes.
 */
import type { EventKind, ModelObject, OwnershipEvent } from '../domain/model/types.ts';
import { cleanText, nodeStyle, num, textWidth, type ExportTitle } from './legend.ts';
import { mermaidText, yamlString } from './mermaid.ts';
import { SIZES, truncate } from './layout.ts';
import { A4_WIDTH_PX, MARGIN, svgDocument, text } from './svg.ts';

export interface LifetimeInput {
  title: Pick<ExportTitle, 'program' | 'kernel' | 'verdict'> & { kernelProfile?: string };
  object: ModelObject;
  events: readonly OwnershipEvent[];
}

type Category = 'create' | 'move' | 'take' | 'end' | 'problem';

const CATEGORY: Record<EventKind, Category> = {
  acquire: 'create',
  convert: 'move',
  stash: 'move',
  push: 'move',
  add: 'move',
  unstash: 'take',
  pop: 'take',
  remove: 'take',
  drop: 'end',
  release: 'end',
  invalidate: 'problem',
  leak: 'problem',
};

const CATEGORY_STYLE: Record<Category, { color: string; label: string }> = {
  create: { color: '#2f7a4d', label: 'created (acquire)' },
  move: { color: '#2b5fa8', label: 'handed over (stash, push, add, convert)' },
  take: { color: '#23877a', label: 'taken back (unstash, pop, remove)' },
  end: { color: '#4a5568', label: 'ended (drop, release)' },
  problem: { color: '#c53030', label: 'invalidated or leaked' },
};

export interface SequenceMessage {
  insn: number;
  kind: EventKind;
  from: number;
  /** Same as `from` for a note. */
  to: number;
  note: boolean;
  text: string;
}

export interface Sequence {
  participants: string[];
  messages: SequenceMessage[];
  titleLines: string[];
}

function holders(h: string | null): string[] {
  if (h === null) return [];
  return h
    .split(',')
    .map((x) => cleanText(x).trim())
    .filter((x) => x !== '' && x !== '—');
}

function objectName(o: ModelObject): string {
  return `${o.type}${o.refId !== undefined ? ` #${o.refId}` : ''}`;
}

/** Participants and messages of the lifetime (shared by the Mermaid and SVG writers). */
export function buildSequence(input: LifetimeInput): Sequence {
  const { object: o, title: t } = input;
  const participants: string[] = [];
  const index = (name: string): number => {
    let i = participants.indexOf(name);
    if (i < 0) {
      participants.push(name);
      i = participants.length - 1;
    }
    return i;
  };
  const origin = `${cleanText(o.origin)}()`;
  const messages: SequenceMessage[] = [];
  let last: string | null = null;
  for (const e of input.events) {
    const from = holders(e.from);
    const to = holders(e.to);
    // No source: the creating helper for an acquire, else the holder the object was last seen in.
    const src: string = from[0] ?? (e.kind === 'acquire' || last === null ? origin : last);
    const dst = to[0] ?? null;
    last = dst ?? src;
    const a = index(src);
    const b = dst === null ? a : index(dst);
    const moved = `${from.length > 0 ? from.join(',') : e.from === null && e.kind === 'acquire' ? origin : '—'} → ${to.length > 0 ? to.join(',') : '—'}`;
    messages.push({ insn: e.insn, kind: e.kind, from: a, to: b, note: dst === null || a === b, text: `insn ${e.insn}: ${e.kind} (${moved})` });
  }
  if (participants.length === 0) index(origin);
  const ended = o.endKind !== undefined ? `ends: ${o.endKind}${o.endInsn !== undefined ? ` at insn ${o.endInsn}` : ''}` : 'no end on the first path';
  const lines = [
    `${objectName(o)} — lifetime in ${t.program}`,
    [
      `kernel ${t.kernel ?? 'unknown'}`,
      t.verdict,
      `${o.local ? 'local' : 'kernel'} object from ${o.origin} at insn ${o.allocInsn}`,
      ended,
      ...(o.sameAs !== undefined ? [`same object as model object ${o.sameAs}`] : []),
      ...(t.kernelProfile ? [`rules of kernel ${t.kernelProfile}`] : []),
    ].join(' · '),
  ];
  return { participants, messages, titleLines: lines };
}

export function lifetimeToMermaid(input: LifetimeInput): string {
  const s = buildSequence(input);
  const out = ['---', `title: ${yamlString(s.titleLines[0] ?? '')}`, '---', 'sequenceDiagram'];
  s.participants.forEach((p, i) => out.push(`  participant p${i} as ${mermaidText(p)}`));
  if (s.titleLines[1]) out.push(`  Note over p0,p${Math.max(0, s.participants.length - 1)}: ${mermaidText(s.titleLines[1])}`);
  for (const m of s.messages) {
    if (m.note) out.push(`  Note over p${m.from}: ${mermaidText(m.text)}`);
    else out.push(`  p${m.from}${CATEGORY[m.kind] === 'problem' ? '-x' : '->>'}p${m.to}: ${mermaidText(m.text)}`);
  }
  if (s.messages.length === 0) out.push('  Note over p0: no ownership events recorded for this object');
  return out.join('\n') + '\n';
}

const BOX_H = 30;
const ROW_H = 34;
const MIN_GAP = 36;

export function lifetimeToSvg(input: LifetimeInput): string {
  const s = buildSequence(input);
  const fs = SIZES.field;
  const labels = s.participants.map((p) => truncate(p, 48));
  const boxW = labels.map((l) => Math.ceil(textWidth(l, SIZES.label) + 22));
  const msgText = s.messages.map((m) => truncate(m.text, 110));
  const msgW = msgText.map((t) => textWidth(t, fs) + 16);
  // Column centres: boxes side by side, then widened until every message label fits its span.
  const centre: number[] = [];
  boxW.forEach((w, i) => {
    const prev = i === 0 ? 0 : (centre[i - 1] as number) + (boxW[i - 1] as number) / 2 + MIN_GAP;
    centre.push(prev + w / 2);
  });
  const shiftFrom = (k: number, d: number) => {
    for (let j = k; j < centre.length; j++) centre[j] = (centre[j] as number) + d;
  };
  s.messages.forEach((m, i) => {
    const w = msgW[i] as number;
    if (m.note) {
      // A note is centred on its lifeline: room on both sides.
      const half = w / 2 + 8;
      if (m.from > 0 && (centre[m.from] as number) - (centre[m.from - 1] as number) < half + (boxW[m.from - 1] as number) / 2) {
        shiftFrom(m.from, half + (boxW[m.from - 1] as number) / 2 - ((centre[m.from] as number) - (centre[m.from - 1] as number)));
      }
      if (m.from + 1 < centre.length && (centre[m.from + 1] as number) - (centre[m.from] as number) < half + (boxW[m.from + 1] as number) / 2) {
        shiftFrom(m.from + 1, half + (boxW[m.from + 1] as number) / 2 - ((centre[m.from + 1] as number) - (centre[m.from] as number)));
      }
      return;
    }
    const a = Math.min(m.from, m.to);
    const b = Math.max(m.from, m.to);
    const gap = (centre[b] as number) - (centre[a] as number);
    if (gap < w) shiftFrom(b, w - gap);
  });
  const left = Math.max((boxW[0] ?? 0) / 2, ...s.messages.map((m, i) => (m.note && m.from === 0 ? (msgW[i] as number) / 2 + 8 : 0)));
  const xs = centre.map((c) => c - (centre[0] ?? 0) + left);
  const lastI = xs.length - 1;
  const right = Math.max((boxW[lastI] ?? 0) / 2, ...s.messages.map((m, i) => (m.note && m.from === lastI ? (msgW[i] as number) / 2 + 8 : 0)));
  const diagramW = (xs[lastI] ?? 0) + right;

  const titleRows = s.titleLines.map((l, i) => ({ s: truncate(l, 150), size: i === 0 ? SIZES.title : SIZES.subtitle, bold: i === 0 }));
  const titleW = Math.max(...titleRows.map((r) => textWidth(r.s, r.size) * (r.bold ? 1.05 : 1)));
  const cats = (Object.keys(CATEGORY_STYLE) as Category[]).map((c) => ({ c, ...CATEGORY_STYLE[c] }));
  const legendItemW = cats.map((c) => 46 + textWidth(c.label, SIZES.legend) + 16);
  const legendMax = Math.min(Math.max(diagramW, 760, titleW), A4_WIDTH_PX - 2 * MARGIN);
  const legendPos: { x: number; y: number }[] = [];
  let lx = 0;
  let ly = 38;
  let legendW = 0;
  cats.forEach((_, i) => {
    const w = legendItemW[i] as number;
    if (lx + w > legendMax && lx > 0) {
      lx = 0;
      ly += 22;
    }
    legendPos.push({ x: lx, y: ly });
    lx += w;
    legendW = Math.max(legendW, lx);
  });
  const legendH = ly + 10;

  const inner = Math.max(diagramW, titleW, legendW);
  const width = inner + 2 * MARGIN;
  const titleH = titleRows.reduce((h, r) => h + r.size * 1.45, 0);
  const top = MARGIN + titleH + 16;
  const lifeTop = top + BOX_H;
  const rows = Math.max(1, s.messages.length);
  const lifeBottom = lifeTop + 16 + rows * ROW_H;
  const legendY = lifeBottom + BOX_H + 28;
  const height = legendY + legendH + MARGIN;

  const body: string[] = ['<g class="title">'];
  let ty = MARGIN;
  for (const r of titleRows) {
    ty += r.size * 1.2;
    body.push(text(MARGIN, ty, r.s, r.size, `fill="#1a202c"${r.bold ? ' font-weight="bold"' : ''}`));
    ty += r.size * 0.25;
  }
  body.push('</g>');
  body.push(`<g class="sequence" transform="translate(${MARGIN},0)">`);
  // Participants are holders (registers, slots, fields, roots): drawn as the legend's holder nodes.
  const holder = nodeStyle('register');
  const box = (i: number, y: number) => {
    const x = (xs[i] as number) - (boxW[i] as number) / 2;
    return [
      `<rect x="${num(x)}" y="${num(y)}" width="${num(boxW[i] as number)}" height="${BOX_H}" rx="4" fill="${holder.fill}" stroke="${holder.stroke}" stroke-width="1.4"/>`,
      text(xs[i] as number, y + 20, labels[i] as string, SIZES.label, 'font-weight="bold" fill="#1a202c" text-anchor="middle"'),
    ];
  };
  s.participants.forEach((_, i) => {
    body.push(`<line x1="${num(xs[i] as number)}" y1="${num(lifeTop)}" x2="${num(xs[i] as number)}" y2="${num(lifeBottom)}" stroke="#a0aec0" stroke-width="1.2" stroke-dasharray="5 4"/>`);
    body.push(...box(i, top), ...box(i, lifeBottom));
  });
  s.messages.forEach((m, i) => {
    const y = lifeTop + 16 + i * ROW_H + 22;
    const st = CATEGORY_STYLE[CATEGORY[m.kind]] ?? CATEGORY_STYLE.move;
    const t = msgText[i] as string;
    const w = msgW[i] as number;
    if (m.note) {
      const x = (xs[m.from] as number) - w / 2;
      body.push(`<rect x="${num(x)}" y="${num(y - 20)}" width="${num(w)}" height="22" rx="3" fill="#fffbea" stroke="${st.color}" stroke-width="1.2"/>`);
      body.push(text(xs[m.from] as number, y - 5, t, fs, `fill="${st.color}" text-anchor="middle"`));
      return;
    }
    const x1 = xs[m.from] as number;
    const x2 = xs[m.to] as number;
    const dir = x2 > x1 ? 1 : -1;
    body.push(`<line x1="${num(x1)}" y1="${num(y)}" x2="${num(x2 - dir * 9)}" y2="${num(y)}" stroke="${st.color}" stroke-width="1.8"/>`);
    body.push(`<path d="M${num(x2)},${num(y)} L${num(x2 - dir * 10)},${num(y - 5)} L${num(x2 - dir * 10)},${num(y + 5)} z" fill="${st.color}"/>`);
    body.push(text((x1 + x2) / 2, y - 6, t, fs, `fill="${st.color}" text-anchor="middle"`));
  });
  if (s.messages.length === 0) body.push(text(xs[0] ?? 0, lifeTop + 30, 'no ownership events recorded for this object', fs, 'fill="#4a5568"'));
  body.push('</g>');
  body.push(`<g class="legend">`, text(MARGIN, legendY + 14, 'Legend', SIZES.legendHead, 'font-weight="bold" fill="#1a202c"'));
  cats.forEach((c, i) => {
    const p = legendPos[i] as { x: number; y: number };
    const x = MARGIN + p.x;
    const y = legendY + p.y;
    body.push(`<line x1="${num(x)}" y1="${num(y - 4)}" x2="${num(x + 30)}" y2="${num(y - 4)}" stroke="${c.color}" stroke-width="1.8"/>`);
    body.push(`<path d="M${num(x + 38)},${num(y - 4)} L${num(x + 28)},${num(y - 9)} L${num(x + 28)},${num(y + 1)} z" fill="${c.color}"/>`);
    body.push(text(x + 46, y, c.label, SIZES.legend, 'fill="#1a202c"'));
  });
  body.push('</g>');
  return svgDocument({ width, height, body, defs: [] }, s.titleLines[0] ?? 'lifetime', `Lifetime of ${objectName(input.object)} exported by kptrscope. ${s.titleLines[1] ?? ''}`);
}
