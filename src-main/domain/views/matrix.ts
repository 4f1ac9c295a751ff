/**
 * The matrix of one program across kernels, as data: the CLI's `matrix --json` document and what the
 * app's matrix view draws (built by app/matrix.ts; written as Markdown/CSV by render/matrix-report.ts).
 * Add fields, never rename them.
 */
import type { Verdict } from '../log/program-state.ts';

export interface MatrixCell {
  release: string | null;
  verdict: Verdict;
  insnsProcessed: number | null;
  finding: { kind: string; insn: number; explanation: string } | null;
  runId: number;
  /** For `not-loaded`: the program the loader stopped at; for `unsupported`: the loader's reason. */
  blockedBy?: string;
  reason?: string;
}

export interface MatrixDifference {
  from: string;
  to: string;
  insn: number | null;
  rule: string | null;
  since: string | null;
  /** The rule in words (or why none explains the change). */
  explanation: string;
}

export interface MatrixProgram {
  object: string;
  sha256: string | null;
  name: string;
  cells: Record<string, MatrixCell>;
  differences: MatrixDifference[];
}

export interface Matrix {
  kernels: string[];
  programs: MatrixProgram[];
}
