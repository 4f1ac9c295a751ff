// Renderers on hand-built snapshots: the layout edge cases real captures rarely produce (every node
// kind and status at once, nested parents, parent cycles, unknown parents, edges to missing nodes
// or between a parent and its child, field ports, hostile text everywhere, an empty graph, a graph
// too wide for the page) — each output validated by its consumer, and independent of input order.
import { describe, it, expect } from 'vitest';
import type { GraphEdge, GraphNode, GraphSnapshot } from '../../src-main/contract/contract.ts';
import {
  A4_WIDTH_PX,
  PNG_SCALE,
  graphToDot,
  graphToJson,
  graphToMermaid,
  graphToSvg,
  lifetimeToMermaid,
  lifetimeToSvg,
  pngSize,
  svgSize,
  svgToPng,
  xmlText,
  mermaidText,
  type ExportTitle,
} from '../../src-main/render/index.ts';
import { naturalCompare, prepareGraph } from '../../src-main/render/legend.ts';
import type { ModelObject, OwnershipEvent } from '../../src-main/domain/model/types.ts';
import { assertWellFormedXml, parseMermaid, runDot } from './helpers.ts';

const HOSTILE = '<img src=x onerror=alert(1)>';
const NASTY = `${HOSTILE} "q" 'a' [b] {c} (d) |e| #f; &g; %%h -->i ;j \`k\` \\l \u0007bell \ud800lone`;
const title: ExportTitle = { program: `prog_${HOSTILE}`, kernel: '6.18.4', insn: 42, verdict: 'rejected (leak)', kernelProfile: '6.18' };

function kitchenSink(): GraphSnapshot {
  const nodes: GraphNode[] = [
    { id: 'map:tmap', kind: 'map', label: 'tmap', detail: 'hash, 16 entries' },
    { id: 'mv:tmap', kind: 'map-value', label: 'tmap[value]', parent: 'map:tmap', fields: [{ name: 'task', kind: 'kptr' }, { name: NASTY, kind: 'kptr' }] },
    { id: 'glob:.data.A', kind: 'global', label: '.data.A', detail: 'global data section' },
    { id: 'root:.data.A:fifo', kind: 'list-head', label: 'fifo', parent: 'glob:.data.A', detail: 'lock held' },
    { id: 'root:.data.A:tree', kind: 'rb-root', label: 'tree', parent: 'glob:.data.A' },
    { id: 'obj:1', kind: 'local-object', label: `${HOSTILE} #2`, detail: NASTY, status: 'leaked', fields: [{ name: 'task', kind: 'kptr' }, { name: 'node', kind: 'list_node' }] },
    { id: 'obj:2', kind: 'kernel-object', label: 'task_struct #4', status: 'maybe-null' },
    { id: 'obj:3', kind: 'kernel-object', label: 'cgroup #6', status: 'released' },
    { id: 'obj:4', kind: 'local-object', label: 'node_data #8', status: 'error' },
    { id: 'obj:5', kind: 'local-object', label: 'node_data (non-owning)', status: 'non-owning' },
    { id: 'reg:0:R6', kind: 'register', label: 'R6', detail: 'ptr_node_data(ref_obj_id=8)' },
    { id: 'reg:1:R1', kind: 'register', label: 'frame1 R1' },
    { id: 'slot:0:fp-16', kind: 'stack-slot', label: 'fp-16' },
    // Parent problems: a cycle, an unknown parent, itself as parent.
    { id: 'cyc:a', kind: 'global', label: 'cycle a', parent: 'cyc:b' },
    { id: 'cyc:b', kind: 'global', label: 'cycle b', parent: 'cyc:a' },
    { id: 'orphan', kind: 'global', label: 'orphan', parent: 'does-not-exist' },
    { id: 'self', kind: 'global', label: 'self', parent: 'self' },
    // A duplicate id (the first wins).
    { id: 'obj:3', kind: 'kernel-object', label: 'duplicate' },
  ];
  const edges: GraphEdge[] = [
    { id: 'e:map>mv', from: 'map:tmap', to: 'mv:tmap', kind: 'in-collection' },
    { id: 'e:mv.task>obj:2', from: 'mv:tmap', to: 'obj:2', fromField: 'task', kind: 'stashed' },
    { id: 'e:mv.nasty>obj:3', from: 'mv:tmap', to: 'obj:3', fromField: NASTY, kind: 'stashed' },
    { id: 'e:obj1.task>obj2', from: 'obj:1', to: 'obj:2', fromField: 'task', kind: 'refcount' },
    { id: 'e:fifo>obj1', from: 'root:.data.A:fifo', to: 'obj:1', toField: 'node', kind: 'in-collection' },
    { id: 'e:R6>obj4', from: 'reg:0:R6', to: 'obj:4', kind: 'owns' },
    { id: 'e:R1>obj5', from: 'reg:1:R1', to: 'obj:5', toField: 'missing_field', kind: 'non-owning' },
    { id: 'e:fp>map', from: 'slot:0:fp-16', to: 'mv:tmap', toField: 'task', kind: 'borrows' },
    { id: 'e:fp>glob', from: 'slot:0:fp-16', to: 'glob:.data.A', kind: 'borrows' },
    { id: 'e:glob>tree', from: 'glob:.data.A', to: 'root:.data.A:tree', kind: 'in-collection' },
    { id: 'e:dangling', from: 'reg:0:R6', to: 'nowhere', kind: 'owns' },
    { id: 'e:R6>obj4', from: 'reg:0:R6', to: 'obj:4', kind: 'owns' },
  ];
  return { step: 7, line: 99, insn: 42, source: 'model', nodes, edges, notes: [`R6's reference moved into ${HOSTILE}.task`, NASTY] };
}

function shuffled<T>(xs: T[], seed: number): T[] {
  const out = [...xs];
  let s = seed;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) % 2147483648;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

describe('prepareGraph', () => {
  it('sorts numerically, drops bad parents and dangling edges, hides parent↔child edges', () => {
    const g = prepareGraph(kitchenSink());
    expect(g.nodes.map((n) => n.id).filter((id) => id.startsWith('obj:'))).toEqual(['obj:1', 'obj:2', 'obj:3', 'obj:4', 'obj:5']);
    expect(g.byId.get('obj:3')?.label).toBe('cgroup #6');
    expect(g.parentOf.get('mv:tmap')).toBe('map:tmap');
    expect(g.parentOf.has('cyc:a')).toBe(false);
    expect(g.parentOf.has('cyc:b')).toBe(false);
    expect(g.parentOf.has('orphan')).toBe(false);
    expect(g.parentOf.has('self')).toBe(false);
    expect(g.hidden.map((e) => e.id).sort()).toEqual(['e:dangling', 'e:glob>tree', 'e:map>mv']);
    expect(g.edges.filter((e) => e.id === 'e:R6>obj4')).toHaveLength(1);
  });

  it('naturalCompare is numeric-aware and locale-free', () => {
    expect(['obj:10', 'obj:2', 'obj:1', 'a', 'B', 'obj:02'].sort(naturalCompare)).toEqual(['B', 'a', 'obj:1', 'obj:2', 'obj:02', 'obj:10']);
  });
});

describe('renderers on every kind, status and edge case', () => {
  const s = kitchenSink();
  const reordered: GraphSnapshot = { ...s, nodes: shuffled(s.nodes, 7), edges: shuffled(s.edges, 11) };

  it('SVG: well-formed, escaped, independent of input order, PNG of the expected size', async () => {
    const svg = await graphToSvg(s, title);
    assertWellFormedXml(svg);
    expect(svg).not.toContain('<img');
    expect(svg).toContain('&lt;img src=x onerror=alert(1)&gt; #2');
    expect(svg.includes('\u0007') || svg.includes('\ud800')).toBe(false);
    for (const l of ['map value', 'rbtree root', 'stack slot', 'refcount (double)', 'LEAKED', 'RELEASED', 'ERROR']) expect(svg).toContain(l);
    expect(await graphToSvg(reordered, title)).toBe(svg);
    const png = svgToPng(svg);
    const { width, height } = svgSize(svg);
    expect(pngSize(png.png)).toEqual({ width: width * PNG_SCALE, height: height * PNG_SCALE });
    expect(svgToPng(svg).png.equals(png.png)).toBe(true);
  });

  it('DOT: Graphviz accepts it without warnings; clusters for parents; order-independent', () => {
    const dot = graphToDot(s, title);
    expect(dot).not.toContain('<img');
    expect(dot).toMatch(/subgraph cluster_n\d+ \{/);
    expect(dot).toMatch(/lhead=cluster_n\d+/);
    expect(dot).toContain('color="#a86b12:invis:#a86b12"');
    runDot(dot);
    expect(graphToDot(reordered, title)).toBe(dot);
  });

  it('Mermaid: parses; labels cannot break out; order-independent', async () => {
    const mmd = graphToMermaid(s, title);
    expect(await parseMermaid(mmd)).toBe('flowchart-v2');
    expect(mmd).not.toContain('<img');
    expect(mmd).not.toContain('%%h');
    expect(mmd).toMatch(/subgraph n\d+\[/);
    expect(graphToMermaid(reordered, title)).toBe(mmd);
  });

  it('the Mermaid validator has teeth: an unescaped label is rejected', async () => {
    await expect(parseMermaid('flowchart LR\n  n0["a "quoted" [b]"] --> n1\n')).rejects.toThrow();
  });

  it('JSON: stable key order and order-independent', () => {
    const j = graphToJson(s, title);
    expect(graphToJson(reordered, title)).toBe(j);
    const doc = JSON.parse(j);
    expect(Object.keys(doc.snapshot.nodes[0])).toEqual([...Object.keys(doc.snapshot.nodes[0])].sort());
    expect(doc.title.lines[0]).toBe(`prog_${HOSTILE} — kernel 6.18.4 — insn 42 — rejected (leak)`);
  });

  it('an empty graph still renders everywhere', async () => {
    const empty: GraphSnapshot = { step: -1, line: 0, insn: 0, source: 'model', nodes: [], edges: [], notes: [] };
    const svg = await graphToSvg(empty, title);
    assertWellFormedXml(svg);
    expect(svg).toContain('no ownership at this step');
    runDot(graphToDot(empty, title));
    expect(await parseMermaid(graphToMermaid(empty, title))).toBe('flowchart-v2');
  });

  it('a graph wider than A4 is scaled to the A4 landscape width (viewBox keeps the full size)', async () => {
    const nodes: GraphNode[] = Array.from({ length: 14 }, (_, i) => ({ id: `obj:${i}`, kind: 'local-object', label: `a_rather_long_struct_name_${i} #${i}` }));
    const edges: GraphEdge[] = nodes.slice(1).map((n, i) => ({ id: `e${i}`, from: `obj:${i}`, to: n.id, kind: 'stashed' }));
    const svg = await graphToSvg({ step: 0, line: 1, insn: 0, source: 'model', nodes, edges, notes: [] }, title);
    assertWellFormedXml(svg);
    const { width, height } = svgSize(svg);
    expect(width).toBeLessThanOrEqual(A4_WIDTH_PX);
    const vb = /viewBox="0 0 (\d+) (\d+)"/.exec(svg);
    expect(vb).not.toBeNull();
    const [vw, vh] = [Number(vb?.[1]), Number(vb?.[2])];
    expect(Math.abs(width / height - vw / vh)).toBeLessThan(0.02);
    expect(svgToPng(svg).width).toBe(width * PNG_SCALE);
  });
});

describe('escaping helpers', () => {
  it('xmlText and mermaidText leave no markup characters', () => {
    expect(xmlText(`a<b>&"'\u0001`)).toBe('a&lt;b&gt;&amp;&quot;&#39;');
    expect(mermaidText('a"b<c>[d]#e;|f')).toBe('a#34;b#60;c#62;#91;d#93;#35;e#59;#124;f');
  });
});

describe('lifetime sequence diagrams', () => {
  const object: ModelObject = { id: 1, refId: 2, type: HOSTILE, origin: 'bpf_obj_new', local: true, allocInsn: 5, ends: [] };
  const ev = (insn: number, kind: OwnershipEvent['kind'], from: string | null, to: string | null): OwnershipEvent => ({ step: insn, insn, line: insn + 100, kind, object: 1, from, to });
  const events = [
    ev(5, 'acquire', null, 'R0'),
    ev(9, 'stash', 'R0,R6', `${HOSTILE}#3.task`),
    ev(12, 'unstash', `${HOSTILE}#3.task`, 'R0'),
    ev(13, 'invalidate', 'R6', null),
    ev(14, 'convert', 'R0', 'R0'),
    ev(20, 'leak', null, null),
  ];
  const input = { title: { program: 'p', kernel: null, verdict: 'rejected' }, object, events };

  it('SVG: well-formed, escaped, deterministic, rasterises', () => {
    const svg = lifetimeToSvg(input);
    assertWellFormedXml(svg);
    expect(svg).not.toContain('<img');
    expect(svg).toContain('insn 9: stash (R0,R6 → &lt;img src=x onerror=alert(1)&gt;#3.task)');
    expect(lifetimeToSvg(input)).toBe(svg);
    const { width } = svgSize(svg);
    expect(width).toBeLessThanOrEqual(A4_WIDTH_PX);
    expect(svgToPng(svg).width).toBe(width * PNG_SCALE);
  });

  it('Mermaid: parses as a sequence diagram; notes for events without a destination', async () => {
    const mmd = lifetimeToMermaid(input);
    expect(await parseMermaid(mmd)).toBe('sequence');
    expect(mmd).not.toContain('<img');
    expect(mmd).toContain('Note over p3: insn 13: invalidate');
    expect(mmd).toContain('Note over p1: insn 20: leak');
  });

  it('an object without events', async () => {
    const empty = { ...input, events: [] };
    assertWellFormedXml(lifetimeToSvg(empty));
    expect(await parseMermaid(lifetimeToMermaid(empty))).toBe('sequence');
  });
});
