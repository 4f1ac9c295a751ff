/**
 * The stored form of an ownership replay, for every backend: the replay row ⇄ ReplayRow mapping,
 * the per-step states cut into chunks, and the way back from a chunk to steps and states.
 *
 * Contract: `stateChunks(r)` cuts a replay's steps into chunks of `interval × 8` steps, each
 * holding the steps packed (int32 LE triples: insn, line, path index) and, deflated, the state at
 * its first step (a model checkpoint) with the deltas after it — so any step is rebuilt from one
 * row. `stepsOfChunks(rows, from, count)` and `stateChunkOf(row)` read them back; `replayRow(raw)`
 * maps a stored replay row. JSON that does not parse throws (the backend reports it as damage).
 */
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { Finding, StateDelta, Step } from '../domain/model/types.ts';
import type { ReplayRow, ReplayToSave, StateChunk } from './types.ts';

const CHUNK_CHECKPOINTS = 8;

export interface PackedChunk {
  chunkNo: number;
  firstStep: number;
  stepCount: number;
  steps: Buffer;
  statesZ: Buffer;
}

export function chunkStepsOf(r: ReplayToSave): number {
  return r.stateStore.interval * CHUNK_CHECKPOINTS;
}

export function* stateChunks(r: ReplayToSave): Generator<PackedChunk> {
  const store = r.stateStore;
  const chunk = chunkStepsOf(r);
  for (let first = 0, no = 0; first < r.steps.length; first += chunk, no++) {
    const n = Math.min(chunk, r.steps.length - first);
    const packed = new Int32Array(n * 3);
    for (let j = 0; j < n; j++) {
      const s = r.steps[first + j] as Step;
      packed[j * 3] = s.insn;
      packed[j * 3 + 1] = s.line;
      packed[j * 3 + 2] = s.pathIndex;
    }
    const cp = store.checkpoints[first / store.interval] ?? [];
    const deltas = store.deltas.slice(first + 1, first + n);
    yield { chunkNo: no, firstStep: first, stepCount: n, steps: Buffer.from(packed.buffer), statesZ: deflateRawSync(JSON.stringify({ cp, deltas }), { level: 1 }) };
  }
}

export interface StepChunkRow {
  first_step: number;
  step_count: number;
  steps: Buffer;
}

/** Steps [from, from+count) from the chunk rows that hold them (in order). */
export function stepsOfChunks(rows: Iterable<StepChunkRow>, from: number, count: number): Step[] {
  const out: Step[] = [];
  for (const r of rows) {
    const a = new Int32Array(r.steps.buffer.slice(r.steps.byteOffset, r.steps.byteOffset + r.steps.length));
    for (let j = 0; j < r.step_count; j++) {
      const i = r.first_step + j;
      if (i < from || i >= from + count) continue;
      out.push({ insn: a[j * 3] as number, line: a[j * 3 + 1] as number, pathIndex: a[j * 3 + 2] as number });
    }
  }
  return out;
}

export function stateChunkOf(c: { first_step: number; step_count: number; states_z: Buffer }): StateChunk {
  const { cp, deltas } = JSON.parse(inflateRawSync(c.states_z).toString('utf8')) as { cp: [string, string][]; deltas: StateDelta[] };
  return { firstStep: c.first_step, stepCount: c.step_count, checkpoint: cp, deltas };
}

export interface RawReplay {
  id: number;
  run_id: number;
  program_idx: number;
  kernel_profile: string;
  model_verdict: 'accepted' | 'rejected';
  fail_insn: number | null;
  finding_json: string | null;
  findings_json: string;
  divergence_count: number;
  event_count: number;
  object_count: number;
  step_count: number;
  chunk_steps: number;
  created_at: string;
}

export function replayRow(r: RawReplay): ReplayRow {
  return {
    id: r.id,
    runId: r.run_id,
    programIdx: r.program_idx,
    kernelProfile: r.kernel_profile,
    modelVerdict: r.model_verdict,
    failInsn: r.fail_insn,
    finding: r.finding_json ? (JSON.parse(r.finding_json) as Finding) : null,
    findings: JSON.parse(r.findings_json) as Finding[],
    divergenceCount: r.divergence_count,
    eventCount: r.event_count,
    objectCount: r.object_count,
    stepCount: r.step_count,
    chunkSteps: r.chunk_steps,
    createdAt: r.created_at,
  };
}

/** The columns of a replay row, in the order REPLAY_COLUMNS names them. */
export const REPLAY_COLUMNS = [
  'run_id', 'program_idx', 'kernel_profile', 'model_verdict', 'fail_insn', 'finding_json', 'findings_json',
  'divergence_count', 'event_count', 'object_count', 'step_count', 'chunk_steps', 'btf_id', 'created_at',
] as const;

export function replayRowValues(key: { runId: number; programIdx: number; kernelProfile: string }, r: ReplayToSave, btfId: number | null, createdAt: string): (string | number | null)[] {
  return [
    key.runId, key.programIdx, key.kernelProfile, r.verdict, r.failInsn, r.finding ? JSON.stringify(r.finding) : null, JSON.stringify(r.findings),
    r.divergences.length, r.events.length, r.objects.length, r.steps.length, chunkStepsOf(r), btfId, createdAt,
  ];
}

/** An event row: (seq, step, insn, line, kind, object, from, to). */
export function eventRowValues(r: ReplayToSave): (string | number | null)[][] {
  return r.events.map((e, i) => [i, e.step, e.insn, e.line, e.kind, e.object, e.from, e.to]);
}

/** An object row: (object_id, ref_id, type, origin, local, alloc_insn, end_insn, end_kind, json). */
export function objectRowValues(r: ReplayToSave): (string | number | null)[][] {
  return r.objects.map((o) => [o.id, o.refId ?? null, o.type, o.origin, o.local ? 1 : 0, o.allocInsn, o.endInsn ?? null, o.endKind ?? null, JSON.stringify(o)]);
}

/** A divergence row: (seq, insn, line, what, model, kernel). */
export function divergenceRowValues(r: ReplayToSave): (string | number | null)[][] {
  return r.divergences.map((d, i) => [i, d.insn, d.line, d.what, d.model, d.kernel]);
}
