/**
 * Routes a stream of parsed records to one model Replayer per program (the model's
 * ReplayByProgram) and hands each program's result out as soon as the next program starts, as
 * plain data (pure: no database, no threads).
 *
 * Contract: `record(rec)` in log order, `finish()` once; `onResult(programIdx, result)` is called
 * once per program that had records, in order. Results are plain data (no `stateAt` function), ready
 * to be posted between threads and saved with saveReplay.
 */
import { ReplayByProgram, type ReplayResult } from '../domain/model/index.ts';
import type { LogRecord } from '../domain/log/records.ts';
import type { ProgramInfo } from '../domain/log/log-parser.ts';
import type { BtfSummary } from '../domain/btf/index.ts';

export type PlainReplayResult = Omit<ReplayResult, 'stateAt'>;

export interface RouterOptions {
  btf: BtfSummary | null;
  kernelProfile: string;
  /** The profile was not asked for and the log's kernel is unknown: the log's own spellings cap it. */
  profileIsDefault?: boolean;
  logKernel?: string;
}

export class ReplayRouter {
  private readonly programs: ReplayByProgram;

  /** `programInfo` tells what the loader said of each program (the parser knows it when the program starts). */
  constructor(opts: RouterOptions, onResult: (programIdx: number, result: PlainReplayResult) => void, programInfo?: (programIdx: number) => ProgramInfo) {
    this.programs = new ReplayByProgram(
      { kernelProfile: opts.kernelProfile, profileIsDefault: opts.profileIsDefault ?? false, ...(opts.btf ? { btf: opts.btf } : {}), ...(opts.logKernel ? { logKernel: opts.logKernel } : {}), ...(programInfo ? { programInfo } : {}) },
      (idx, result) => {
        const { stateAt: _unused, ...plain } = result;
        void _unused;
        onResult(idx, plain);
      },
    );
  }

  record(rec: LogRecord): void {
    this.programs.push(rec);
  }

  finish(): void {
    this.programs.finish();
  }
}
