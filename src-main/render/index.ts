/**
 * Diagram and report exports: one entry point per kind of thing exported, returning bytes, and the
 * one function that writes an export to disk.
 *
 * Contract:
 * - `renderGraph(format, snapshot, title)` → bytes of the ownership graph as svg | png | dot |
 *   mermaid | json (see the per-format modules for their guarantees);
 * - `renderLifetime(format, input)` → an object's lifetime as svg | mermaid (sequence diagram);
 * - `renderComparison(format, comparison)` → md | csv;
 * - `writeExportFile(path, bytes)` writes exactly that one file: it refuses an empty path, a
 *   directory (existing, or a path ending in a separator) and a path whose directory does not
 *   exist (it creates no directories and no temporary files) with an `ExportFileError`;
 * - `extensionOf(format)` is the usual file extension of a format (for save dialogs).
 * Every renderer is deterministic: the same input gives the same bytes.
 */
import { statSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { GraphSnapshot } from '../contract/contract.ts';
import type { Comparison } from '../domain/views/comparison.ts';
import { comparisonToCsv, comparisonToMarkdown } from './compare-report.ts';
import { graphToDot } from './dot.ts';
import { graphToJson } from './json.ts';
import type { ExportTitle } from './legend.ts';
import { lifetimeToMermaid, lifetimeToSvg, type LifetimeInput } from './lifetime.ts';
import { graphToMermaid } from './mermaid.ts';
import { svgToPng } from './png.ts';
import { graphToSvg } from './svg.ts';

export { graphToDot } from './dot.ts';
export { graphToJson, stableStringify } from './json.ts';
export { graphToMermaid, mermaidText } from './mermaid.ts';
export { graphToSvg, svgSize, xmlText, A4_WIDTH_PX } from './svg.ts';
export { svgToPng, pngSize, PNG_SCALE } from './png.ts';
export { layoutGraph } from './layout.ts';
export { lifetimeToMermaid, lifetimeToSvg, buildSequence, type LifetimeInput } from './lifetime.ts';
export { comparisonToCsv, comparisonToMarkdown, METRIC_LABELS } from './compare-report.ts';
export { EDGE_STYLES, NODE_STYLES, STATUS_STYLES, titleLines, type ExportTitle } from './legend.ts';

export const GRAPH_FORMATS = ['svg', 'png', 'dot', 'mermaid', 'json'] as const;
export type GraphFormat = (typeof GRAPH_FORMATS)[number];
export const LIFETIME_FORMATS = ['svg', 'mermaid'] as const;
export type LifetimeFormat = (typeof LIFETIME_FORMATS)[number];
export const COMPARE_FORMATS = ['md', 'csv'] as const;
export type CompareFormat = (typeof COMPARE_FORMATS)[number];

export class ExportFileError extends Error {
  override name = 'ExportFileError';
}

const utf8 = (s: string) => Buffer.from(s, 'utf8');

export async function renderGraph(format: GraphFormat, snapshot: GraphSnapshot, title: ExportTitle): Promise<Buffer> {
  switch (format) {
    case 'svg':
      return utf8(await graphToSvg(snapshot, title));
    case 'png':
      return svgToPng(await graphToSvg(snapshot, title)).png;
    case 'dot':
      return utf8(graphToDot(snapshot, title));
    case 'mermaid':
      return utf8(graphToMermaid(snapshot, title));
    case 'json':
      return utf8(graphToJson(snapshot, title));
    default:
      throw new ExportFileError(`unknown graph format "${String(format)}" (one of: ${GRAPH_FORMATS.join(', ')})`);
  }
}

export function renderLifetime(format: LifetimeFormat, input: LifetimeInput): Buffer {
  switch (format) {
    case 'svg':
      return utf8(lifetimeToSvg(input));
    case 'mermaid':
      return utf8(lifetimeToMermaid(input));
    default:
      throw new ExportFileError(`a lifetime exports as ${LIFETIME_FORMATS.join(' or ')}, not "${String(format)}"`);
  }
}

export function renderComparison(format: CompareFormat, c: Comparison): Buffer {
  switch (format) {
    case 'md':
      return utf8(comparisonToMarkdown(c));
    case 'csv':
      return utf8(comparisonToCsv(c));
    default:
      throw new ExportFileError(`a comparison exports as ${COMPARE_FORMATS.join(' or ')}, not "${String(format)}"`);
  }
}

export function extensionOf(format: GraphFormat | CompareFormat): string {
  return format === 'mermaid' ? 'mmd' : format;
}

/** Why `path` can't take an export, or null when it can (checked before any work is done). */
export function checkExportPath(path: string): string | null {
  if (path.trim() === '') return 'the output path is empty';
  if (/[\\/]$/.test(path)) return `${path} is a directory: give a file name (-o ${path.replace(/[\\/]+$/, '')}/diagram.svg)`;
  const st = statSync(path, { throwIfNoEntry: false });
  if (st?.isDirectory()) return `${path} is a directory: give a file name (-o ${path}/diagram.svg)`;
  const dir = dirname(resolve(path));
  const ds = statSync(dir, { throwIfNoEntry: false });
  if (!ds) return `the directory ${dirname(path)} does not exist (exports create no directories)`;
  if (!ds.isDirectory()) return `${dirname(path)} is not a directory`;
  return null;
}

export function writeExportFile(path: string, data: Uint8Array): void {
  const why = checkExportPath(path);
  if (why) throw new ExportFileError(why);
  try {
    writeFileSync(path, data);
  } catch (e) {
    throw new ExportFileError(`cannot write ${path}: ${(e as Error).message}`);
  }
}
