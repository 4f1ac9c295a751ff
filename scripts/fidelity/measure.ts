/**
 * Fidelity of kptrscope's story on code nobody here wrote: every program of the selftests corpus
 * (test/corpus/<release>/manifest.json, the kernel's actual results) is ingested and replayed
 * exactly as a user's log would be, and compared with what the kernel decided.
 *
 * Contract: `measureCorpus(release, opts)` returns one row per program tried (at `opts.level`, L2 by
 * default: the level that shows every path; the other level where the asked one is missing) with:
 * the kernel's verdict (manifest), the verdict kptrscope READ from the log, the model's verdict and finding, whether the model found the
 * rejection with its own rules at the kernel's failing instruction, and the divergences. The kernel's
 * failing instruction is the manifest's (the last instruction line before the error, L1); where that
 * is null (an error found after the failing path ended, e.g. validating an exception callback) it is
 * the instruction the message names (`insn N`, `(insn N)`), else the last one the log shows.
 * Programs that never reached the verifier (load-failed) are listed but not judged. Pure reading:
 * the corpus is never written.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { SqliteStore } from '../../src-main/store/sqlite/sqlite-store.ts';
import { replayLog } from '../../src-main/app/ingest.ts';

export const CORPUS = join(import.meta.dirname, '..', '..', 'test', 'corpus');

export interface ManifestProgram {
  family: string;
  group: string;
  program: string;
  progType: string;
  actual: { verdict: string; errno: number | null; failInsn: number | null; message: string[]; insnsProcessed: number | null };
  files: { L1?: string; L2?: string; btf?: string };
  check?: { outcome: string; blockedBy?: string };
  note?: string;
}

export interface Row {
  family: string;
  group: string;
  program: string;
  level: 'L1' | 'L2';
  kernel: 'accepted' | 'rejected';
  kernelFailInsn: number | null;
  kernelMessage: string;
  read: string;
  readFailInsn: number | null;
  model: 'accepted' | 'rejected';
  modelFailInsn: number | null;
  findingKind: string | null;
  explanation: string | null;
  divergences: number;
  firstDivergence: string | null;
  /** read verdict == kernel verdict */
  verdictAgrees: boolean;
  /** kernel accepted, model rejected */
  falseAlarm: boolean;
  /** kernel rejected, model missed it (accepted) */
  missed: boolean;
  /** kernel rejected and the model's own rules (not outside-model) rejected at the kernel's instruction */
  ownRulesAtInsn: boolean;
}

export function loadManifest(release: string): { kernel: string; programs: ManifestProgram[] } {
  return JSON.parse(readFileSync(join(CORPUS, release, 'manifest.json'), 'utf8')) as { kernel: string; programs: ManifestProgram[] };
}

export interface MeasureOptions {
  families?: string[];
  /** Which log of each program to replay (default L2). */
  level?: 'L1' | 'L2';
  onRow?: (r: Row, i: number, n: number) => void;
}

export async function measureCorpus(release: string, opts: MeasureOptions = {}): Promise<{ rows: Row[]; notJudged: ManifestProgram[] }> {
  const m = loadManifest(release);
  const dir = mkdtempSync(join(tmpdir(), 'kptrscope-fidelity-'));
  const store = SqliteStore.open(join(dir, 'fidelity.db'));
  const rows: Row[] = [];
  const notJudged: ManifestProgram[] = [];
  const progs = m.programs.filter((p) => !opts.families || opts.families.includes(p.family));
  const btfPaths = new Map<string, string>();
  const want = opts.level ?? 'L2';
  const other = want === 'L2' ? 'L1' : 'L2';
  try {
    for (const [i, p] of progs.entries()) {
      const kernel = p.actual.verdict;
      const level = p.files[want] ? want : p.files[other] ? other : null;
      if ((kernel !== 'accepted' && kernel !== 'rejected') || level === null) {
        notJudged.push(p);
        continue;
      }
      const logRel = p.files[level] as string;
      const log = join(dir, `${p.family}.${p.program}.${level}.log`);
      writeFileSync(log, gunzipSync(readFileSync(join(CORPUS, release, logRel))));
      const btf: string[] = [];
      if (p.files.btf) {
        let b = btfPaths.get(p.files.btf);
        if (b === undefined) {
          b = join(dir, `${p.family}.btf.txt`);
          writeFileSync(b, gunzipSync(readFileSync(join(CORPUS, release, p.files.btf))));
          btfPaths.set(p.files.btf, b);
        }
        btf.push(b);
      }
      const { ingest, replay } = await replayLog(store, log, { btf, kernel: m.kernel });
      const prog = ingest.programs[0];
      const pr = replay.programs[0];
      rmSync(log, { force: true });
      if (!prog || !pr) {
        notJudged.push(p);
        continue;
      }
      const f = pr.replay.finding;
      const model = pr.replay.modelVerdict;
      const kernelFailInsn = p.actual.failInsn ?? insnNamedBy(p.actual.message) ?? (kernel === 'rejected' ? prog.failInsn : null);
      const row: Row = {
        family: p.family,
        group: p.group,
        program: p.program,
        level,
        kernel,
        kernelFailInsn,
        kernelMessage: p.actual.message.join(' / '),
        read: prog.verdict,
        readFailInsn: prog.failInsn,
        model,
        modelFailInsn: pr.replay.failInsn,
        findingKind: f?.kind ?? null,
        explanation: f?.explanation ?? null,
        divergences: pr.divergences.length,
        firstDivergence: pr.divergences[0] ? `insn ${pr.divergences[0].insn} ${pr.divergences[0].what}: model ${pr.divergences[0].model}, kernel ${pr.divergences[0].kernel}` : null,
        verdictAgrees: prog.verdict === kernel,
        falseAlarm: kernel === 'accepted' && model === 'rejected',
        missed: kernel === 'rejected' && model === 'accepted',
        ownRulesAtInsn: kernel === 'rejected' && model === 'rejected' && f !== null && f.kind !== 'outside-model' && pr.replay.failInsn === kernelFailInsn,
      };
      rows.push(row);
      opts.onRow?.(row, i, progs.length);
    }
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return { rows, notJudged };
}

/** The instruction an error message names: `bpf_throw kfunc (insn 9) …`, `insn 3 cannot call …`. */
export function insnNamedBy(message: readonly string[]): number | null {
  for (const line of message) {
    const m = /\binsn (\d+)\b/.exec(line);
    if (m) return Number(m[1]);
  }
  return null;
}

export interface Figures {
  programs: number;
  accepted: number;
  rejected: number;
  verdictAgreement: number;
  falseAlarms: number;
  missed: number;
  ownRulesAtInsn: number;
  /** ownRulesAtInsn / rejected (1 when nothing was rejected) */
  ownRulesShare: number;
  divergences: number;
  programsWithDivergences: number;
}

export function figures(rows: readonly Row[]): Figures {
  const rejected = rows.filter((r) => r.kernel === 'rejected').length;
  const own = rows.filter((r) => r.ownRulesAtInsn).length;
  return {
    programs: rows.length,
    accepted: rows.length - rejected,
    rejected,
    verdictAgreement: rows.length === 0 ? 1 : rows.filter((r) => r.verdictAgrees).length / rows.length,
    falseAlarms: rows.filter((r) => r.falseAlarm).length,
    missed: rows.filter((r) => r.missed).length,
    ownRulesAtInsn: own,
    ownRulesShare: rejected === 0 ? 1 : own / rejected,
    divergences: rows.reduce((a, r) => a + r.divergences, 0),
    programsWithDivergences: rows.filter((r) => r.divergences > 0).length,
  };
}

export function corpusReleases(): string[] {
  return ['6.18', '7.3', '6.12', '7.2'].filter((r) => existsSync(join(CORPUS, r, 'manifest.json')));
}
