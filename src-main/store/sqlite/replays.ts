/**
 * Stores and loads ownership replays (the model's results) per (run, program, kernel profile) in
 * SQLite; the stored form (rows, state chunks) is store/replay-rows.ts, shared with PostgreSQL.
 *
 * Contract: `saveReplay` replaces any earlier replay of the same key, inside the caller's
 * transaction; `loadStateChunk` gives the chunk holding a step (the model's step-store applies
 * its deltas). Everything read back is plain JSON data (the model's own types); data that does
 * not decode is the one-line "database is corrupt" error.
 */
import { corruptDatabase, type Db } from './connection.ts';
import type { Divergence, ModelObject, OwnershipEvent, Step } from '../../domain/model/types.ts';
import type { ReplayKey, ReplayRow, ReplayToSave, StateChunk } from '../types.ts';
import {
  divergenceRowValues,
  eventRowValues,
  objectRowValues,
  REPLAY_COLUMNS,
  replayRow,
  replayRowValues,
  stateChunkOf,
  stateChunks,
  stepsOfChunks,
  type RawReplay,
  type StepChunkRow,
} from '../replay-rows.ts';

/** Decode stored JSON / compressed data; data that does not decode means a damaged file. */
function decoded<T>(db: Db, what: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw corruptDatabase(db, `${what} cannot be read: ${(e as Error).message}`);
  }
}

const marks = (n: number) => Array.from({ length: n }, () => '?').join(', ');

export function saveReplay(db: Db, key: ReplayKey, r: ReplayToSave, btfId: number | null): number {
  db.prepare('DELETE FROM replays WHERE run_id = ? AND program_idx = ? AND kernel_profile = ?').run(key.runId, key.programIdx, key.kernelProfile);
  const info = db.prepare(`INSERT INTO replays (${REPLAY_COLUMNS.join(', ')}) VALUES (${marks(REPLAY_COLUMNS.length)})`).run(...replayRowValues(key, r, btfId, new Date().toISOString()));
  const id = Number(info.lastInsertRowid);
  const ev = db.prepare('INSERT INTO replay_events (replay_id, seq, step, insn, line, kind, object, from_holder, to_holder) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)');
  for (const v of eventRowValues(r)) ev.run(id, ...v);
  const ob = db.prepare('INSERT INTO replay_objects (replay_id, object_id, ref_id, type, origin, local, alloc_insn, end_insn, end_kind, json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)');
  for (const v of objectRowValues(r)) ob.run(id, ...v);
  const dv = db.prepare('INSERT INTO replay_divergences (replay_id, seq, insn, line, what, model, kernel) VALUES (?, ?, ?, ?, ?, ?, ?)');
  for (const v of divergenceRowValues(r)) dv.run(id, ...v);
  const st = db.prepare('INSERT INTO replay_steps (replay_id, chunk_no, first_step, step_count, steps, states_z) VALUES (?, ?, ?, ?, ?, ?)');
  for (const c of stateChunks(r)) st.run(id, c.chunkNo, c.firstStep, c.stepCount, c.steps, c.statesZ);
  return id;
}

export function findReplay(db: Db, key: ReplayKey): ReplayRow | undefined {
  const r = db
    .prepare('SELECT * FROM replays WHERE run_id = ? AND program_idx = ? AND kernel_profile = ?')
    .get(key.runId, key.programIdx, key.kernelProfile) as RawReplay | undefined;
  return r ? decoded(db, `replay ${r.id}`, () => replayRow(r)) : undefined;
}

export function listReplays(db: Db, runId: number): ReplayRow[] {
  return (db.prepare('SELECT * FROM replays WHERE run_id = ? ORDER BY program_idx, kernel_profile').all(runId) as RawReplay[]).map((r) => decoded(db, `replay ${r.id}`, () => replayRow(r)));
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

/** The steps (insn, line, path index) of a replay, in order. */
export function loadSteps(db: Db, replayId: number, from = 0, count = Number.MAX_SAFE_INTEGER): Step[] {
  const rows = db
    .prepare('SELECT first_step, step_count, steps FROM replay_steps WHERE replay_id = ? AND first_step + step_count > ? AND first_step < ? ORDER BY first_step')
    .all(replayId, from, from + count) as StepChunkRow[];
  return stepsOfChunks(rows, from, count);
}

/** The stored chunk of per-step states holding `step` (undefined: the replay has no such step). */
export function loadStateChunk(db: Db, replayId: number, step: number): StateChunk | undefined {
  const c = db
    .prepare('SELECT first_step, step_count, states_z FROM replay_steps WHERE replay_id = ? AND first_step <= ? ORDER BY first_step DESC LIMIT 1')
    .get(replayId, step) as { first_step: number; step_count: number; states_z: Buffer } | undefined;
  if (!c || step >= c.first_step + c.step_count) return undefined;
  return decoded(db, `the states of replay ${replayId}`, () => stateChunkOf(c));
}
