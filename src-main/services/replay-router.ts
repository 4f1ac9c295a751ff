/**
 * Routes a stream of parsed records to one model Replayer per program and hands each program's
 * result out as soon as the next program starts (pure: no database, no threads).
 *
 * Contract: `record(rec)` in log order, `finish()` once; `onResult(programIdx, result)` is called
 * once per program that had records, in order. Results are plain data (no `stateAt` function), ready
 * to be posted between threads and saved with saveReplay.
 */
import { Replayer, type ReplayResult } from '../model/index.ts';
import type { LogRecord } from '../ingest/verifier-log/records.ts';
import type { BtfSummary } from '../ingest/btf/index.ts';

export type PlainReplayResult = Omit<ReplayResult, 'stateAt'>;

export interface RouterOptions {
  btf: BtfSummary | null;
  kernelProfile: string;
  logKernel?: string;
}

export class ReplayRouter {
  private current: { idx: number; rp: Replayer } | null = null;

  constructor(
    private readonly opts: RouterOptions,
    private readonly onResult: (programIdx: number, result: PlainReplayResult) => void,
  ) {}

  record(rec: LogRecord): void {
    if (rec.program < 0) return;
    if (this.current?.idx !== rec.program) {
      this.close();
      const rp = new Replayer({
        name: `prog${rec.program}`,
        kernelProfile: this.opts.kernelProfile,
        ...(this.opts.btf ? { btf: this.opts.btf } : {}),
        ...(this.opts.logKernel ? { logKernel: this.opts.logKernel } : {}),
      });
      this.current = { idx: rec.program, rp };
    }
    this.current.rp.push(rec);
  }

  private close(): void {
    if (!this.current) return;
    const { idx, rp } = this.current;
    this.current = null;
    const { stateAt: _unused, ...plain } = rp.finish();
    void _unused;
    this.onResult(idx, plain);
  }

  finish(): void {
    this.close();
  }
}
