/**
 * Where the window is: the library, a run (program, selected line), two runs compared (optionally at
 * one program's instruction), or a matrix of runs across kernels. Kept in the URL hash (`#/run/3/0/125`,
 * `#/compare/3/4`, `#/compare/3/4/tailq_enqueue/48`, `#/matrix/1,2,3`) so reloads and back/forward
 * work; `go()` changes it.
 */
/** program null: the run's first program with lines. */
export type Route =
  | { view: 'library' }
  | { view: 'run'; runId: number; program: number | null; line: number | null }
  | { view: 'compare'; a: number; b: number; program?: string; insn?: number }
  | { view: 'matrix'; runs: number[] };

function parse(hash: string): Route {
  const x = /^#\/matrix\/(\d+(?:,\d+)*)/.exec(hash);
  if (x) return { view: 'matrix', runs: (x[1] as string).split(',').map(Number) };
  const c = /^#\/compare\/(\d+)\/(\d+)(?:\/([^/]+)\/(\d+))?/.exec(hash);
  if (c) {
    const r: Route = { view: 'compare', a: Number(c[1]), b: Number(c[2]) };
    return c[3] !== undefined ? { ...r, program: decodeURIComponent(c[3]), insn: Number(c[4]) } : r;
  }
  const m = /^#\/run\/(\d+)(?:\/(-?\d+))?(?:\/(\d+))?/.exec(hash);
  if (!m) return { view: 'library' };
  return { view: 'run', runId: Number(m[1]), program: m[2] !== undefined ? Number(m[2]) : null, line: m[3] !== undefined ? Number(m[3]) : null };
}

function format(r: Route): string {
  if (r.view === 'library') return '#/';
  if (r.view === 'matrix') return `#/matrix/${r.runs.join(',')}`;
  if (r.view === 'compare') return `#/compare/${r.a}/${r.b}${r.program !== undefined && r.insn !== undefined ? `/${encodeURIComponent(r.program)}/${r.insn}` : ''}`;
  if (r.program === null) return `#/run/${r.runId}`;
  return `#/run/${r.runId}/${r.program}${r.line !== null ? `/${r.line}` : ''}`;
}

class Router {
  current = $state<Route>(parse(location.hash));

  constructor() {
    window.addEventListener('hashchange', () => {
      const next = parse(location.hash);
      if (format(next) !== format(this.current)) this.current = next;
    });
  }

  go(r: Route, replace = false): void {
    const h = format(r);
    if (h !== format(this.current)) this.current = r;
    if (location.hash !== h) {
      if (replace) history.replaceState(null, '', h);
      else history.pushState(null, '', h);
    }
  }

  /** Update the selected line without adding history entries. */
  setLine(line: number): void {
    const r = this.current;
    if (r.view !== 'run' || r.line === line) return;
    this.go({ ...r, line }, true);
  }
}

export const router = new Router();
