/**
 * The app's compare and export handlers on real 6.18 captures (leak_obj broken vs fixed): the
 * comparison with both findings and the divergence lines, stepping both runs by the alignment
 * (`alignRuns` reuses the first-divergence walk), and exports rendered by the host (SVG, PNG,
 * Mermaid lifetime, Markdown / CSV comparison) as base64 bytes.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Store } from '../../src-main/store/types.ts';
import { testStore } from '../helpers/store.ts';
import { ingestLog } from '../../src-main/app/ingest.ts';
import { createStoreService } from '../../src-main/app/handlers.ts';
import { alignRuns, compareRuns } from '../../src-main/app/compare.ts';
import { dispatch } from '../../src-main/contract/dispatch.ts';
import type { Handlers, StoreMethod } from '../../src-main/contract/contract.ts';

const FIX = join(__dirname, '..', 'fixtures', 'logs', '6.18');
let db: Store;
let h: Handlers<StoreMethod>;
let broken: number;
let fixed: number;

beforeAll(async () => {
  db = testStore(join(mkdtempSync(join(tmpdir(), 'kptrscope-cmp-')), 'a.db'));
  broken = (await ingestLog(db, join(FIX, 'leak_obj.bpftool.log'), { btf: [join(FIX, 'leak_obj.btf.txt')] })).runId;
  fixed = (await ingestLog(db, join(FIX, 'leak_obj_fixed.bpftool.log'), { btf: [join(FIX, 'leak_obj_fixed.btf.txt')] })).runId;
  h = createStoreService(db).handlers;
});

describe('alignRuns', () => {
  it('pairs every step of both walks in order, and its divergence is compareRuns’ first divergence', async () => {
    const [al] = await alignRuns(db, broken, fixed);
    const [p] = (await compareRuns(db, broken, fixed)).programs;
    expect(al && p).toBeTruthy();
    if (!al || !p?.firstDivergence) throw new Error('no divergence');
    expect(al.lines[al.divergence]).toEqual([p.firstDivergence.a.line, p.firstDivergence.b.line]);
    for (let i = 1; i < al.lines.length; i++) {
      const [a0, b0] = al.lines[i - 1] as [number, number];
      const [a1, b1] = al.lines[i] as [number, number];
      expect(a1 >= a0 && b1 >= b0 && (a1 > a0 || b1 > b0)).toBe(true);
    }
    // Both walks are covered to their ends.
    expect(new Set(al.lines.map((l) => l[0])).size).toBe(p.a.insnsProcessed);
    expect(new Set(al.lines.map((l) => l[1])).size).toBe(p.b.insnsProcessed);
  });
});

describe('compare handlers', () => {
  it('answers the table, both findings and the divergence lines', async () => {
    const c = await h.compare({ a: broken, b: fixed });
    const p = c.comparison.programs[0];
    expect(p?.a.insnsProcessed).toBe(15);
    expect(p?.b.insnsProcessed).toBe(22);
    expect(p?.delta.insnsProcessed).toEqual({ abs: 7, pct: 46.67 });
    const pair = c.pairs[0];
    expect(pair?.findings.a.severity).toBe('error');
    expect(pair?.findings.b.severity).toBe('ok');
    expect(pair?.divergence).toMatchObject({ a: p?.firstDivergence?.a.line, b: p?.firstDivergence?.b.line });
  });

  it('steps both sides by the alignment, from either side', async () => {
    const c = await h.compare({ a: broken, b: fixed });
    const pair = c.pairs[0];
    if (!pair?.divergence) throw new Error('no divergence');
    const first = await h.alignedStep({ a: broken, b: fixed, pair: 0, side: 'a', line: 1 });
    expect(first?.index).toBe(0);
    const next = await h.alignedStep({ a: broken, b: fixed, pair: 0, side: 'a', line: first?.a ?? 0, at: 0, direction: 'next' });
    expect(next?.index).toBe(1);
    expect(next && first && next.a > first.a && next.b > first.b).toBe(true);
    const back = await h.alignedStep({ a: broken, b: fixed, pair: 0, side: 'b', line: next?.b ?? 0, at: 1, direction: 'prev' });
    expect(back).toMatchObject({ index: 0, a: first?.a, b: first?.b });
    const atDiv = await h.alignedStep({ a: broken, b: fixed, pair: 0, side: 'b', line: pair.divergence.b });
    expect(atDiv).toMatchObject({ a: pair.divergence.a, b: pair.divergence.b });
    expect(await h.alignedStep({ a: broken, b: fixed, pair: 0, side: 'a', line: 1, at: 0, direction: 'prev' })).toBeNull();
  });

  it('validates its inputs', async () => {
    await expect(dispatch(h, 'alignedStep', { a: broken, b: fixed, pair: 0, side: 'c', line: 1 })).rejects.toThrow(/side/);
    await expect(dispatch(h, 'compare', { a: broken, b: 999 })).rejects.toThrow(/no run 999/);
  });
});

describe('exports rendered by the host', () => {
  it('the graph at a line as SVG (with the type names) and PNG, deterministic', async () => {
    const fs = await h.firstScreen({ runId: broken, program: null, line: null, fold: false, windowRows: 64, visibleRows: 40 });
    const what = { kind: 'graph' as const, runId: broken, program: fs.program, line: fs.line, format: 'svg' as const };
    const svg = await h.renderExport({ what });
    expect(svg.mime).toBe('image/svg+xml');
    expect(svg.fileName).toMatch(/\.svg$/);
    const text = Buffer.from(svg.base64, 'base64').toString('utf8');
    expect(text).toMatch(/^<\?xml|^<svg/);
    const types = fs.graph.nodes.filter((n) => n.kind === 'local-object').map((n) => n.label);
    expect(types.length).toBeGreaterThan(0);
    for (const t of types) expect(text).toContain(t.split(' ')[0] ?? t);
    expect((await h.renderExport({ what })).base64).toBe(svg.base64);
    const png = Buffer.from((await h.renderExport({ what: { ...what, format: 'png' } })).base64, 'base64');
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
  });

  it('a model object’s lifetime as Mermaid, and the comparison as Markdown and CSV', async () => {
    const fs = await h.firstScreen({ runId: broken, program: null, line: null, fold: false, windowRows: 64, visibleRows: 40 });
    const obj = fs.graph.nodes.find((n) => n.id.startsWith('obj:'));
    if (!obj) throw new Error('no model object in the graph');
    const mmd = await h.renderExport({ what: { kind: 'lifetime', runId: broken, program: fs.program, objectId: obj.id, format: 'mermaid' } });
    expect(Buffer.from(mmd.base64, 'base64').toString('utf8')).toMatch(/sequenceDiagram/);
    const md = Buffer.from((await h.renderExport({ what: { kind: 'comparison', a: broken, b: fixed, format: 'md' } })).base64, 'base64').toString('utf8');
    expect(md).toMatch(/\| *15 *\| *22 *\|/);
    const csv = await h.renderExport({ what: { kind: 'comparison', a: broken, b: fixed, format: 'csv' } });
    expect(csv.fileName).toBe(`compare-run${broken}-run${fixed}.csv`);
  });
});
