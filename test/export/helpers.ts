/**
 * Test helpers for the export tests: an XML well-formedness checker (small, self-contained),
 * Graphviz `dot` as a validator, and mermaid's own parser running in Node.
 *
 * mermaid's parser runs without a browser, except that its flowchart/sequence databases call
 * DOMPurify (for sanitising labels when rendering), which needs a `window`. Validation only needs the
 * grammar, so `parseMermaid` gives the DOMPurify singleton mermaid imports identity functions before
 * loading mermaid (the same module instance: both resolve `dompurify` from node_modules).
 */
import { spawnSync } from 'node:child_process';
import { Command } from 'commander';
import { registerExportCommand } from '../../src-main/hosts/cli/export-command.ts';
import type { CliIo } from '../../src-main/hosts/cli/main.ts';

const ENTITY = /^&(?:amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);/;
const NAME = /^[A-Za-z_:][-A-Za-z0-9_.:]*/;

/** Throws with a position when `xml` is not well-formed XML 1.0 (no DTD support needed here). */
export function assertWellFormedXml(xml: string): { root: string; elements: number } {
  let i = 0;
  const stack: string[] = [];
  let root = '';
  let elements = 0;
  const fail = (why: string): never => {
    throw new Error(`XML not well-formed at ${i}: ${why} near ${JSON.stringify(xml.slice(Math.max(0, i - 30), i + 30))}`);
  };
  const checkText = (t: string, from: number) => {
    for (let k = 0; k < t.length; k++) {
      const c = t.charCodeAt(k);
      if (c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) {
        i = from + k;
        fail('control character');
      }
      if (t[k] === '<') {
        i = from + k;
        fail('"<" in text');
      }
      if (t[k] === '&' && !ENTITY.test(t.slice(k))) {
        i = from + k;
        fail('bad entity');
      }
    }
  };
  if (xml.startsWith('<?xml')) {
    const e = xml.indexOf('?>');
    if (e < 0) fail('unterminated XML declaration');
    i = e + 2;
  }
  while (i < xml.length) {
    const lt = xml.indexOf('<', i);
    const textEnd = lt < 0 ? xml.length : lt;
    const t = xml.slice(i, textEnd);
    if (stack.length === 0 && t.trim() !== '') fail('text outside the root element');
    checkText(t, i);
    if (lt < 0) break;
    i = lt;
    if (xml.startsWith('<!--', i)) {
      const e = xml.indexOf('-->', i);
      if (e < 0) fail('unterminated comment');
      i = e + 3;
      continue;
    }
    if (xml.startsWith('<![CDATA[', i)) {
      const e = xml.indexOf(']]>', i);
      if (e < 0) fail('unterminated CDATA');
      i = e + 3;
      continue;
    }
    if (xml.startsWith('</', i)) {
      const m = NAME.exec(xml.slice(i + 2));
      if (!m) fail('bad end tag');
      const name = (m as RegExpExecArray)[0];
      const close = xml.indexOf('>', i);
      if (close < 0 || xml.slice(i + 2 + name.length, close).trim() !== '') fail('bad end tag');
      if (stack.pop() !== name) fail(`end tag </${name}> does not match`);
      i = close + 1;
      continue;
    }
    // Start tag.
    i++;
    const m = NAME.exec(xml.slice(i));
    if (!m) fail('bad start tag');
    const name = (m as RegExpExecArray)[0];
    i += name.length;
    const seen = new Set<string>();
    for (;;) {
      const ws = /^\s*/.exec(xml.slice(i)) as RegExpExecArray;
      i += ws[0].length;
      if (xml.startsWith('/>', i)) {
        i += 2;
        elements++;
        if (stack.length === 0) {
          if (root) fail('second root element');
          root = name;
        }
        break;
      }
      if (xml[i] === '>') {
        i++;
        elements++;
        if (stack.length === 0) {
          if (root) fail('second root element');
          root = name;
        }
        stack.push(name);
        break;
      }
      if (ws[0].length === 0) fail('attributes must be separated by white space');
      const an = NAME.exec(xml.slice(i));
      if (!an) fail('bad attribute name');
      const attr = (an as RegExpExecArray)[0];
      if (seen.has(attr)) fail(`duplicate attribute ${attr}`);
      seen.add(attr);
      i += attr.length;
      const eq = /^\s*=\s*/.exec(xml.slice(i));
      if (!eq) fail('attribute without value');
      i += (eq as RegExpExecArray)[0].length;
      const q = xml[i];
      if (q !== '"' && q !== "'") fail('unquoted attribute value');
      const end = xml.indexOf(q as string, i + 1);
      if (end < 0) fail('unterminated attribute value');
      checkText(xml.slice(i + 1, end), i + 1);
      i = end + 1;
    }
  }
  if (stack.length > 0) fail(`unclosed <${stack[stack.length - 1]}>`);
  if (!root) fail('no root element');
  return { root, elements };
}

/** Runs Graphviz `dot -Tsvg` on `src`; throws with Graphviz's message when it refuses the input. */
export function runDot(src: string): string {
  const r = spawnSync('dot', ['-Tsvg'], { input: src, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.error && (r.error as NodeJS.ErrnoException).code === 'ENOENT') {
    throw new Error("Graphviz 'dot' is not installed: install Debian's graphviz package (apt-get install graphviz); the README's test command does");
  }
  if (r.status !== 0) throw new Error(`dot -Tsvg failed (status ${r.status}): ${r.stderr}`);
  // Graphviz warns on stderr for things it silently fixes up (bad HTML labels, unknown attributes).
  if (/Warning|Error/i.test(r.stderr)) throw new Error(`dot -Tsvg complained: ${r.stderr}`);
  return r.stdout;
}

type MermaidApi = { parse: (text: string) => Promise<unknown> };
let mermaidPromise: Promise<MermaidApi> | null = null;

async function loadMermaid(): Promise<MermaidApi> {
  const purify = (await import('dompurify')).default as unknown as Record<string, unknown>;
  const identity = (s: unknown) => String(s);
  const noop = () => undefined;
  if (typeof purify.sanitize !== 'function') Object.assign(purify, { sanitize: identity, addHook: noop, removeHook: noop, removeHooks: noop, removeAllHooks: noop });
  const m = (await import('mermaid')).default as unknown as MermaidApi;
  return m;
}

/** mermaid's parser on `text`: resolves with the diagram type, rejects with the parse error. */
export async function parseMermaid(text: string): Promise<string> {
  mermaidPromise ??= loadMermaid();
  const m = await mermaidPromise;
  const r = (await m.parse(text)) as { diagramType?: string } | false;
  if (!r) throw new Error('mermaid.parse returned false');
  return r.diagramType ?? '';
}

/** Runs `kptrscope export …` in this process (the command module itself, registered on a fresh program). */
export async function exportCli(args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  let status = 0;
  const io: CliIo = { out: (s) => (stdout += s), err: (s) => (stderr += s), stderrIsTty: false };
  const program = new Command('kptrscope').exitOverride().configureOutput({ writeOut: (s) => (stdout += s), writeErr: (s) => (stderr += s) });
  registerExportCommand(program, io, (c) => (status = c));
  try {
    await program.parseAsync(['export', ...args], { from: 'user' });
  } catch (e) {
    return { status: 2, stdout, stderr: stderr + String((e as Error).message) };
  }
  return { status, stdout, stderr };
}
