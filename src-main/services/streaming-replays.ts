/**
 * Replays programs while their log streams in (`ingest --replay`, `kptrscope replay <log>`): one
 * model Replayer per program, fed each record as the parser emits it, finished when the next program
 * starts. Results are kept compactly until the run id exists, then saved with `saveAll` inside the
 * ingest's transaction — so a log is read and parsed once for both ingest and replay.
 */
import type { Db } from '../store/db.ts';
import { saveReplay } from '../store/replay-store.ts';
import { Replayer } from '../model/index.ts';
import type { LogRecord } from '../ingest/verifier-log/records.ts';
import type { BtfSummary } from '../ingest/btf/index.ts';
import type { StoredBtf } from './btf-service.ts';
import { normaliseProfile, profileForRun } from './profiles.ts';

export class StreamingReplays {
  private current: { idx: number; rp: Replayer } | null = null;
  private readonly btf: { id: number; summary: BtfSummary } | null;
  private readonly profile: string;
  private readonly logKernel: string | undefined;
  private runId = -1;

  constructor(
    private readonly db: Db,
    stored: StoredBtf[],
    kernel: string | null,
    kernelProfile: string | undefined,
  ) {
    this.profile = profileForRun(kernel, kernelProfile);
    this.logKernel = kernel && /^\d+\.\d+/.test(kernel) ? normaliseProfile(kernel) : undefined;
    let chosen: { id: number; summary: BtfSummary } | null = null;
    for (const b of stored) {
      const row = db.prepare('SELECT summary_json FROM btf_files WHERE id = ?').get(b.id) as { summary_json: string };
      const summary = JSON.parse(row.summary_json) as BtfSummary;
      if (summary.source !== 'kernel') {
        chosen = { id: b.id, summary };
        break;
      }
      chosen ??= { id: b.id, summary };
    }
    this.btf = chosen;
  }

  /** The run the replays belong to (its row exists before the first record arrives). */
  begin(runId: number): void {
    this.runId = runId;
  }

  /** A replay under the newest profile is the default for logs without a known kernel. */
  get kernelProfile(): string {
    return this.profile;
  }

  record(rec: LogRecord): void {
    if (rec.program < 0) return;
    if (this.current?.idx !== rec.program) {
      this.closeCurrent();
      const rp = new Replayer({
        name: `prog${rec.program}`,
        kernelProfile: this.profile,
        ...(this.btf ? { btf: this.btf.summary } : {}),
        ...(this.logKernel ? { logKernel: this.logKernel } : {}),
      });
      this.current = { idx: rec.program, rp };
    }
    this.current.rp.push(rec);
  }

  /** Finish and save the program being replayed (each program is saved as soon as it ends). */
  private closeCurrent(): void {
    if (!this.current) return;
    const { idx, rp } = this.current;
    this.current = null;
    saveReplay(this.db, { runId: this.runId, programIdx: idx, kernelProfile: this.profile }, rp.finish(), this.btf?.id ?? null);
  }

  finish(): void {
    this.closeCurrent();
  }
}
