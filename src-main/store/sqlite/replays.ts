/**
 * Stores and loads ownership replays (the model's results) per (run, program, kernel profile) in
 * SQLite.
 *
 * Contract: `saveReplay` replaces any earlier replay of the same key, inside the caller's
 * transaction; per-step states are cut into chunks of `interval × 8` steps, each holding the state
 * at its first step (a model checkpoint) and the deltas after it, so any step is rebuilt from one
 * row (`loadStateChunk`; the model's step-store applies the deltas). Everything read back is plain
 * JSON data (the model's own types).
 */
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { corruptDatabase, type Db } from './connection.ts';
import type { Divergence, Finding, ModelObject, OwnershipEvent, StateDelta, Step } from '../../domain/model/types.ts';
import type { ReplayKey, ReplayRow, ReplayToSave, StateChunk } from '../types.ts';

const CHUNK_CHECKPOINTS = 8;

/** Decode stored JSON / compressed data; data that does not decode means a damaged file. */
function decoded<T>(db: Db, what: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw corruptDatabase(db, `${what} cannot be read: ${(e as Error).message}`);
  }
}

export function saveReplay(db: Db, key: ReplayKey, r: ReplayToSave, btfId: number | null): number {
  db.prepare('DELETE FROM replays WHERE run_id = ? AND program_idx = ? AND kernel_profile = ?').run(key.runId, key.programIdx, key.kernelProfile);
  const store = r.stateStore;
  const chunk = store.interval * CHUNK_CHECKPOINTS;
  const info = db
    .prepare(
      `INSERT INTO replays (run_id, program_idx, kernel_profile, model_verdict, fail_insn, finding_json, findings_json,
         divergence_count, event_count, object_count, step_count, chunk_steps, btf_id, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .run(
      key.runId,
      key.programIdx,
      key.kernelProfile,
      r.verdict,
      r.failInsn,
      r.finding ? JSON.stringify(r.finding) : null,
      JSON.stringify(r.findings),
      r.divergences.length,
      r.events.length,
      r.objects.length,
      r.steps.length,
      chunk,
      btfId,
      new Date().toISOString(),
    );
  const id = Number(info.lastInsertRowid);
  const ev = db.prepare('INSERT INTO replay_events (replay_id, seq, step, insn, line, kind, object, from_holder, to_holder) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)');
  r.events.forEach((e, i) => ev.run(id, i, e.step, e.insn, e.line, e.kind, e.object, e.from, e.to));
  const ob = db.prepare(
    'INSERT INTO replay_objects (replay_id, object_id, ref_id, type, origin, local, alloc_insn, end_insn, end_kind, json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
  );
  for (const o of r.objects) ob.run(id, o.id, o.refId ?? null, o.type, o.origin, o.local ? 1 : 0, o.allocInsn, o.endInsn ?? null, o.endKind ?? null, JSON.stringify(o));
  const dv = db.prepare('INSERT INTO replay_divergences (replay_id, seq, insn, line, what, model, kernel) VALUES (?, ?, ?, ?, ?, ?, ?)');
  r.divergences.forEach((d, i) => dv.run(id, i, d.insn, d.line, d.what, d.model, d.kernel));
  const st = db.prepare('INSERT INTO replay_steps (replay_id, chunk_no, first_step, step_count, steps, states_z) VALUES (?, ?, ?, ?, ?, ?)');
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
    st.run(id, no, first, n, Buffer.from(packed.buffer), deflateRawSync(JSON.stringify({ cp, deltas }), { level: 1 }));
  }
  return id;
}

interface RawReplay {
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

function toRow(r: RawReplay): ReplayRow {
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

export function findReplay(db: Db, key: ReplayKey): ReplayRow | undefined {
  const r = db
    .prepare('SELECT * FROM replays WHERE run_id = ? AND program_idx = ? AND kernel_profile = ?')
    .get(key.runId, key.programIdx, key.kernelProfile) as RawReplay | undefined;
  return r ? decoded(db, `replay ${r.id}`, () => toRow(r)) : undefined;
}

export function listReplays(db: Db, runId: number): ReplayRow[] {
  return (db.prepare('SELECT * FROM replays WHERE run_id = ? ORDER BY program_idx, kernel_profile').all(runId) as RawReplay[]).map((r) => decoded(db, `replay ${r.id}`, () => toRow(r)));
}

export function loadEvents(db: Db, replayId: number): OwnershipEvent[] {
  return (
    db.prepare('SELECT step, insn, line, kind, object, from_holder, to_holder FROM replay_events WHERE replay_id = ? ORDER BY seq').all(replayId) as {
      step: number;
      insn: number;
      line: number;
      kind: OwnershipEvent['kind'];
      object: number;
      from_holder: string | null;
      to_holder: string | null;
    }[]
  ).map((e) => ({ step: e.step, insn: e.insn, line: e.line, kind: e.kind, object: e.object, from: e.from_holder, to: e.to_holder }));
}

export function loadObjects(db: Db, replayId: number): ModelObject[] {
  return (db.prepare('SELECT json FROM replay_objects WHERE replay_id = ? ORDER BY object_id').all(replayId) as { json: string }[]).map(
    (r) => decoded(db, `an object of replay ${replayId}`, () => JSON.parse(r.json) as ModelObject),
  );
}

export function loadDivergences(db: Db, replayId: number): Divergence[] {
  return db.prepare('SELECT insn, line, what, model, kernel FROM replay_divergences WHERE replay_id = ? ORDER BY seq').all(replayId) as Divergence[];
}

interface StepChunk {
  first_step: number;
  step_count: number;
  steps: Buffer;
  states_z: Buffer;
}

function chunkOf(db: Db, replayId: number, step: number): StepChunk | undefined {
  return db
    .prepare('SELECT first_step, step_count, steps, states_z FROM replay_steps WHERE replay_id = ? AND first_step <= ? ORDER BY first_step DESC LIMIT 1')
    .get(replayId, step) as StepChunk | undefined;
}

/** The steps (insn, line, path index) of a replay, in order. */
export function loadSteps(db: Db, replayId: number, from = 0, count = Number.MAX_SAFE_INTEGER): Step[] {
  const rows = db
    .prepare('SELECT first_step, step_count, steps FROM replay_steps WHERE replay_id = ? AND first_step + step_count > ? AND first_step < ? ORDER BY first_step')
    .all(replayId, from, from + count) as StepChunk[];
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

/** The stored chunk of per-step states holding `step` (undefined: the replay has no such step). */
export function loadStateChunk(db: Db, replayId: number, step: number): StateChunk | undefined {
  const c = chunkOf(db, replayId, step);
  if (!c || step >= c.first_step + c.step_count) return undefined;
  const { cp, deltas } = decoded(db, `the states of replay ${replayId}`, () => JSON.parse(inflateRawSync(c.states_z).toString('utf8')) as { cp: [string, string][]; deltas: StateDelta[] });
  return { firstStep: c.first_step, stepCount: c.step_count, checkpoint: cp, deltas };
}
