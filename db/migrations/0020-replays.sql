-- 0020: ownership replays — one per (run, program, kernel profile): the model's verdict and
-- findings, ownership events, objects, divergences from the kernel, and the per-step states
-- (a checkpoint + deltas per chunk of steps, so the state at any step loads from one row).

CREATE TABLE replays (
  id                INTEGER PRIMARY KEY,
  run_id            INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  program_idx       INTEGER NOT NULL,
  kernel_profile    TEXT NOT NULL,
  model_verdict     TEXT NOT NULL CHECK (model_verdict IN ('accepted','rejected')),
  fail_insn         INTEGER,
  finding_json      TEXT,              -- the first finding, or null when accepted
  findings_json     TEXT NOT NULL,     -- every finding
  divergence_count  INTEGER NOT NULL,
  event_count       INTEGER NOT NULL,
  object_count      INTEGER NOT NULL,
  step_count        INTEGER NOT NULL,
  chunk_steps       INTEGER NOT NULL,  -- steps per replay_steps row
  btf_id            INTEGER REFERENCES btf_files(id),
  created_at        TEXT NOT NULL,
  UNIQUE (run_id, program_idx, kernel_profile)
);

CREATE TABLE replay_events (
  replay_id  INTEGER NOT NULL REFERENCES replays(id) ON DELETE CASCADE,
  seq        INTEGER NOT NULL,
  step       INTEGER NOT NULL,
  insn       INTEGER NOT NULL,
  line       INTEGER NOT NULL,
  kind       TEXT NOT NULL,
  object     INTEGER NOT NULL,
  from_holder TEXT,
  to_holder   TEXT,
  PRIMARY KEY (replay_id, seq)
) WITHOUT ROWID;

CREATE TABLE replay_objects (
  replay_id  INTEGER NOT NULL REFERENCES replays(id) ON DELETE CASCADE,
  object_id  INTEGER NOT NULL,
  ref_id     INTEGER,
  type       TEXT NOT NULL,
  origin     TEXT NOT NULL,
  local      INTEGER NOT NULL,
  alloc_insn INTEGER NOT NULL,
  end_insn   INTEGER,
  end_kind   TEXT,
  json       TEXT NOT NULL,             -- the whole ModelObject (ends, sameAs, …)
  PRIMARY KEY (replay_id, object_id)
) WITHOUT ROWID;

CREATE TABLE replay_divergences (
  replay_id  INTEGER NOT NULL REFERENCES replays(id) ON DELETE CASCADE,
  seq        INTEGER NOT NULL,
  insn       INTEGER NOT NULL,
  line       INTEGER NOT NULL,
  what       TEXT NOT NULL,
  model      TEXT NOT NULL,
  kernel     TEXT NOT NULL,
  PRIMARY KEY (replay_id, seq)
) WITHOUT ROWID;

CREATE TABLE replay_steps (
  replay_id   INTEGER NOT NULL REFERENCES replays(id) ON DELETE CASCADE,
  chunk_no    INTEGER NOT NULL,
  first_step  INTEGER NOT NULL,
  step_count  INTEGER NOT NULL,
  steps       BLOB NOT NULL,            -- int32 LE triples: insn, line, path index
  states_z    BLOB NOT NULL,            -- deflate-raw JSON {"cp": checkpoint entries, "deltas": [...]}
  PRIMARY KEY (replay_id, chunk_no)
) WITHOUT ROWID;
CREATE INDEX replay_events_insn ON replay_events(replay_id, insn);
