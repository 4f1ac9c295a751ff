// `kptrscope export` on real captures (kernel 6.18): every format, validated by what consumes it —
// the SVG parses as XML and names the objects' types, Graphviz accepts the DOT, the PNG has the
// SVG's size ×2, mermaid's parser accepts the Mermaid text — and exporting twice gives the same bytes.
// A capture whose struct is renamed `<img src=x onerror=alert(1)>` (in its BTF and its log) must come
// out as escaped text in SVG, DOT and Mermaid.
import { describe, it, expect, beforeAll } from 'vitest';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LOGS_618 } from '../helpers/fixtures.ts';
import { tempDir } from '../helpers/tmp.ts';
import { assertWellFormedXml, exportCli, parseMermaid, runDot } from './helpers.ts';
import { pngSize, svgSize, A4_WIDTH_PX, PNG_SCALE } from '../../src-main/render/index.ts';

const dir = tempDir('kptrscope-export-');
const db = join(dir, 'export.db');
const F = (n: string) => join(LOGS_618, n);

const CASES = [
  { name: 'local_kptr_stash', types: ['spawn_rec', 'cgroup'], verdict: 'accepted' },
  { name: 'use_after_unlock', types: ['timer_rec'], verdict: 'rejected' },
  { name: 'leak_obj', types: ['pkt_sample'], verdict: 'rejected' },
] as const;
const FORMATS = ['svg', 'png', 'dot', 'mermaid', 'json'] as const;
const EXT: Record<(typeof FORMATS)[number], string> = { svg: 'svg', png: 'png', dot: 'dot', mermaid: 'mmd', json: 'json' };

async function exportTo(args: string[], out: string): Promise<Buffer> {
  const r = await exportCli([...args, '-o', out, '--db', db]);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  expect(r.stdout).toMatch(/^wrote /);
  return readFileSync(out);
}

describe.each(CASES)('export $name', ({ name, types, verdict }) => {
  const args = [F(`${name}.bpftool.log`), '--btf', F(`${name}.btf.txt`)];
  const out = join(dir, name);
  const files = new Map<string, Buffer>();

  beforeAll(async () => {
    mkdirSync(out, { recursive: true });
    for (const f of FORMATS) files.set(f, await exportTo([...args, '--format', f], join(out, `graph.${EXT[f]}`)));
  });

  it('writes only the files asked for', () => {
    expect(readdirSync(out).sort()).toEqual(FORMATS.map((f) => `graph.${EXT[f]}`).sort());
  });

  it('SVG: well-formed XML, titled, with the objects\' type names, fitted to the A4 landscape width', () => {
    const svg = (files.get('svg') as Buffer).toString('utf8');
    expect(assertWellFormedXml(svg).root).toBe('svg');
    for (const t of types) expect(svg).toContain(t);
    expect(svg).toContain(verdict);
    expect(svg).toMatch(/<title>[^<]* — kernel [^<]* — insn \d+ — /);
    expect(svg).toContain('Legend');
    const { width } = svgSize(svg);
    expect(width).toBeLessThanOrEqual(A4_WIDTH_PX);
  });

  it('DOT: accepted by Graphviz, and its SVG names the types', () => {
    const dot = (files.get('dot') as Buffer).toString('utf8');
    const svg = runDot(dot);
    for (const t of types) expect(svg).toContain(t);
  });

  it('PNG: the SVG\'s size times the PNG scale (IHDR)', () => {
    const s = svgSize((files.get('svg') as Buffer).toString('utf8'));
    expect(pngSize(files.get('png') as Buffer)).toEqual({ width: s.width * PNG_SCALE, height: s.height * PNG_SCALE });
  });

  it('Mermaid: parsed by mermaid as a flowchart', async () => {
    const mmd = (files.get('mermaid') as Buffer).toString('utf8');
    expect(mmd).toMatch(/^---\ntitle: .*\n---\nflowchart LR\n/);
    expect(await parseMermaid(mmd)).toBe('flowchart-v2');
    for (const t of types) expect(mmd).toContain(t);
  });

  it('JSON: the snapshot with title and legend', () => {
    const doc = JSON.parse((files.get('json') as Buffer).toString('utf8'));
    expect(doc.format).toBe('kptrscope-ownership-graph');
    expect(Object.keys(doc)).toEqual(['format', 'legend', 'snapshot', 'title', 'version']);
    expect(doc.legend.edgeKinds.map((e: { kind: string }) => e.kind)).toEqual(['owns', 'stashed', 'in-collection', 'non-owning', 'refcount', 'borrows']);
    expect(doc.snapshot.source).toBe('model');
    const ids = doc.snapshot.nodes.map((n: { id: string }) => n.id);
    expect(ids.length).toBeGreaterThan(0);
    for (const t of types) expect(JSON.stringify(doc.snapshot.nodes)).toContain(t);
  });

  it('is deterministic: exporting again (from the stored run) gives the same bytes', async () => {
    const runs = JSON.parse(readFileSync(join(out, 'graph.json'), 'utf8'));
    expect(runs.title.program).toBeTruthy();
    for (const f of FORMATS) {
      const again = await exportTo([...args, '--format', f], join(dir, `again-${name}.${EXT[f]}`));
      expect(again.equals(files.get(f) as Buffer), `${f} differs`).toBe(true);
    }
  });
});

describe('export: step choice and lifetimes', () => {
  const args = [F('local_kptr_stash.bpftool.log'), '--btf', F('local_kptr_stash.btf.txt')];

  it('--at draws the state after that instruction', async () => {
    const doc = JSON.parse((await exportTo([...args, '--at', '21', '--format', 'json'], join(dir, 'at21.json'))).toString('utf8'));
    expect(doc.snapshot.insn).toBe(21);
    expect(doc.title.insn).toBe(21);
  });

  it('--error on a rejected program draws the failing instruction', async () => {
    const doc = JSON.parse((await exportTo([F('leak_obj.bpftool.log'), '--btf', F('leak_obj.btf.txt'), '--error', '--format', 'json'], join(dir, 'err.json'))).toString('utf8'));
    expect(doc.snapshot.insn).toBe(15);
    expect(doc.title.verdict).toMatch(/rejected/);
  });

  it('--object: the lifetime as an SVG and a Mermaid sequence diagram', async () => {
    const svg = (await exportTo([...args, '--object', '1', '--format', 'svg'], join(dir, 'life.svg'))).toString('utf8');
    assertWellFormedXml(svg);
    expect(svg).toContain('spawn_rec #2 — lifetime in record_spawn');
    expect(svg).toContain('insn 5: acquire');
    expect(svg).toContain('.data.spawn:spawn_list');
    const mmd = (await exportTo([...args, '--object', '1', '--format', 'mermaid'], join(dir, 'life.mmd'))).toString('utf8');
    expect(await parseMermaid(mmd)).toBe('sequence');
    expect(mmd).toContain('participant p0 as bpf_obj_new#40;#41;');
    const again = await exportTo([...args, '--object', '1', '--format', 'svg'], join(dir, 'life2.svg'));
    expect(again.toString('utf8')).toBe(svg);
  });

  it('refuses a directory, a missing directory and bad flag combinations, creating nothing', async () => {
    const before = readdirSync(dir).sort();
    let r = await exportCli([...args, '--format', 'svg', '-o', dir, '--db', db]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/is a directory/);
    r = await exportCli([...args, '--format', 'svg', '-o', `${dir}/`, '--db', db]);
    expect(r.stderr).toMatch(/is a directory/);
    r = await exportCli([...args, '--format', 'svg', '-o', join(dir, 'nope', 'x.svg'), '--db', db]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/does not exist/);
    r = await exportCli([...args, '--format', 'gif', '-o', join(dir, 'x.gif'), '--db', db]);
    expect(r.status).toBe(2);
    r = await exportCli([...args, '--object', '1', '--format', 'png', '-o', join(dir, 'x.png'), '--db', db]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/svg or mermaid/);
    r = await exportCli([...args, '--final', '--error', '--format', 'svg', '-o', join(dir, 'x.svg'), '--db', db]);
    expect(r.status).toBe(2);
    r = await exportCli([...args, '--format', 'svg', '--db', db]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/-o <file> is required/);
    r = await exportCli([...args, '--at', '9999', '--format', 'svg', '-o', join(dir, 'x.svg'), '--db', db]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/was not executed/);
    expect(readdirSync(dir).sort()).toEqual(before);
    expect(existsSync(join(dir, 'x.svg'))).toBe(false);
  });
});

describe('export: a hostile BTF name', () => {
  const HOSTILE = '<img src=x onerror=alert(1)>';
  const hdir = join(dir, 'hostile');
  const hdb = join(hdir, 'h.db');
  const log = join(hdir, 'hostile.log');
  const btf = join(hdir, 'hostile.btf.txt');

  beforeAll(() => {
    mkdirSync(hdir, { recursive: true });
    // The struct renamed in the BTF and everywhere the log prints it (ptr_<name>, struct <name>).
    writeFileSync(btf, readFileSync(F('local_kptr_stash.btf.txt'), 'utf8').replaceAll('spawn_rec', HOSTILE));
    writeFileSync(log, readFileSync(F('local_kptr_stash.bpftool.log'), 'utf8').replaceAll('spawn_rec', HOSTILE));
  });

  it('is text in SVG, DOT and Mermaid, never markup', async () => {
    const ex = async (format: string, ext: string) => {
      const p = join(hdir, `g.${ext}`);
      const r = await exportCli([log, '--btf', btf, '--final', '--format', format, '-o', p, '--db', hdb]);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      return readFileSync(p, 'utf8');
    };
    const svg = await ex('svg', 'svg');
    assertWellFormedXml(svg);
    expect(svg).not.toContain('<img');
    expect(svg).toContain('&lt;img src=x onerror=alert(1)&gt;');

    const dot = await ex('dot', 'dot');
    expect(dot).not.toContain('<img');
    expect(dot).toContain('&lt;img src=x onerror=alert(1)&gt;');
    const dotSvg = runDot(dot);
    expect(dotSvg).not.toContain('<img');
    expect(dotSvg).toContain('&lt;img src=x onerror=alert(1)&gt;');

    const mmd = await ex('mermaid', 'mmd');
    expect(mmd).not.toContain('<img');
    expect(mmd).toContain('#60;img src=x onerror=alert#40;1#41;#62;');
    expect(await parseMermaid(mmd)).toBe('flowchart-v2');

    const json = JSON.parse(await ex('json', 'json'));
    expect(JSON.stringify(json.snapshot.nodes)).toContain(HOSTILE);

    const life = join(hdir, 'life.mmd');
    expect((await exportCli([log, '--btf', btf, '--object', '1', '--format', 'mermaid', '-o', life, '--db', hdb])).status).toBe(0);
    const lm = readFileSync(life, 'utf8');
    expect(lm).not.toContain('<img');
    expect(await parseMermaid(lm)).toBe('sequence');
  });
});
