/**
 * The app's exports: the bytes of an ownership graph at a line, an object's lifetime, or a
 * comparison, rendered by the host (PNG with resvg) for the page to save — the same renderers the
 * CLI's `export` uses.
 *
 * Contract: `exportHandlers(store, runs, compares)` answers `renderExport`; the file name is built
 * from program, type and instruction (no separators a save dialog would choke on); errors are
 * `AppError`.
 */
import type { Store } from '../store/types.ts';
import type { ExportFile, ExportRequest, Handlers } from '../contract/contract.ts';
import { AppError } from '../contract/errors.ts';
import { extensionOf, renderComparison, renderGraph, renderLifetime } from '../render/index.ts';
import { ExportError, objectLifetime } from './export.ts';
import type { CompareViews } from './compare-view.ts';
import type { RunViews } from './run-view.ts';

const MIME: Record<string, string> = {
  svg: 'image/svg+xml',
  png: 'image/png',
  dot: 'text/vnd.graphviz',
  mermaid: 'text/plain',
  json: 'application/json',
  md: 'text/markdown',
  csv: 'text/csv',
};

/** A file name from program / type names (no separators, nothing a save dialog would choke on). */
function fileStem(...parts: string[]): string {
  return parts.map((p) => p.replace(/[^\w.-]+/g, '_')).join('-').slice(0, 150);
}

function file(stem: string, format: string, bytes: Buffer): ExportFile {
  return {
    fileName: `${stem}.${extensionOf(format === 'mermaid' ? 'mermaid' : (format as 'svg'))}`,
    mime: MIME[format] ?? 'application/octet-stream',
    base64: bytes.toString('base64'),
  };
}

export function exportHandlers(store: Store, runs: RunViews, compares: CompareViews, graphAt: Handlers<'graphAt'>['graphAt']): Handlers<'renderExport'> {
  const programName = async (runId: number, program: number): Promise<string> =>
    program < 0 ? 'whole-log' : ((await runs.index(runId)).programs.find((p) => p.index === program)?.name ?? `program${program}`);

  const render = async (what: ExportRequest): Promise<ExportFile> => {
    if (what.kind === 'graph') {
      const snapshot = await graphAt({ runId: what.runId, program: what.program, line: what.line });
      const run = await store.getRun(what.runId);
      const name = await programName(what.runId, what.program);
      const m = await runs.modelOf(what.runId, what.program);
      const p = (await runs.index(what.runId)).programs.find((x) => x.index === what.program);
      const finding = m?.replay.replay.finding;
      const verdict = m ? (finding && finding.insn === snapshot.insn ? `rejected (${finding.kind})` : m.replay.replay.modelVerdict) : (p?.verdict ?? 'unknown');
      const title = { program: name, kernel: run?.kernel ?? null, insn: snapshot.insn, verdict, step: snapshot.step };
      return file(fileStem(name, `insn${snapshot.insn}`), what.format, await renderGraph(what.format, snapshot, title));
    }
    if (what.kind === 'lifetime') {
      const m = /^obj:(\d+)$/.exec(what.objectId);
      if (!m || !(await runs.modelOf(what.runId, what.program))) throw new AppError('unsupported', 'only objects of the ownership model have a lifetime to export');
      const name = await programName(what.runId, what.program);
      const lt = await objectLifetime(store, { runId: what.runId, program: name, object: Number(m[1]) });
      return file(fileStem(name, lt.object.type, `obj${lt.object.id}`, 'lifetime'), what.format, renderLifetime(what.format, lt));
    }
    const c = (await compares.comparisonOf(what.a, what.b)).comparison;
    return file(fileStem('compare', `run${what.a}`, `run${what.b}`), what.format, renderComparison(what.format, c));
  };

  return {
    renderExport: async ({ what }) => {
      try {
        return await render(what);
      } catch (e) {
        if (e instanceof ExportError) throw new AppError('bad-request', e.message);
        throw e;
      }
    },
  };
}
