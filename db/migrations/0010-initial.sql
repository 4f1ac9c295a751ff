-- 0010: runs, programs, log text in compressed blocks, notable records, BTF files.
-- Never edit a shipped migration: add a new numbered file instead.

CREATE TABLE runs (
  id            INTEGER PRIMARY KEY,
  source        TEXT NOT NULL,          -- absolute path of the ingested file
  source_name   TEXT NOT NULL,          -- its base name
  sha256        TEXT NOT NULL UNIQUE,   -- content hash: the same file is one run
  size_bytes    INTEGER NOT NULL,
  formats       TEXT NOT NULL,          -- JSON array: raw, libbpf, veristat, cilium
  kernel        TEXT,                   -- release given with --kernel (or by capture)
  kernel_hints  TEXT NOT NULL DEFAULT '[]', -- JSON array of hints read from the log's spellings
  line_count    INTEGER NOT NULL,
  unknown_lines INTEGER NOT NULL,
  crlf_lines    INTEGER NOT NULL DEFAULT 0,
  block_count   INTEGER NOT NULL,
  created_at    TEXT NOT NULL           -- ISO 8601, UTC
);

CREATE TABLE programs (
  id                 INTEGER PRIMARY KEY,
  run_id             INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  idx                INTEGER NOT NULL,  -- order within the run
  name               TEXT NOT NULL,
  wrapper            TEXT NOT NULL,
  verdict            TEXT NOT NULL CHECK (verdict IN ('accepted','rejected','truncated','unknown')),
  truncation         TEXT,
  error              TEXT,
  error_classes      TEXT NOT NULL DEFAULT '[]',
  fail_insn          INTEGER,
  fail_line          INTEGER,
  insns_processed    INTEGER,
  insn_limit         INTEGER,
  max_states_per_insn INTEGER,
  total_states       INTEGER,
  peak_states        INTEGER,
  mark_read          INTEGER,
  verification_usec  INTEGER,
  stack_depth        TEXT,              -- JSON array, one number per subprogram
  first_line         INTEGER NOT NULL,
  last_line          INTEGER NOT NULL,
  line_count         INTEGER NOT NULL,
  unknown_lines      INTEGER NOT NULL,
  loader_error       TEXT,
  errno              INTEGER,
  log_level          INTEGER,
  kernel_hints       TEXT NOT NULL DEFAULT '[]',
  UNIQUE (run_id, idx)
);
CREATE INDEX programs_run ON programs(run_id);

-- The log itself: consecutive lines in blocks. raw_z is the exact bytes of the block's lines
-- (deflate-raw); kinds/insns/flags are packed per-line columns (uint8 / int32 LE / uint8).
CREATE TABLE log_blocks (
  run_id      INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  block_no    INTEGER NOT NULL,
  first_line  INTEGER NOT NULL,
  line_count  INTEGER NOT NULL,
  raw_bytes   INTEGER NOT NULL,
  raw_z       BLOB NOT NULL,
  kinds       BLOB NOT NULL,
  insns       BLOB NOT NULL,
  flags       BLOB NOT NULL,
  PRIMARY KEY (run_id, block_no)
) WITHOUT ROWID;

-- Lines worth finding without decompressing: errors, statistics, loader and wrapper lines, info,
-- and the first unknown lines of each run.
CREATE TABLE notable_records (
  run_id     INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  line       INTEGER NOT NULL,
  program    INTEGER NOT NULL,          -- program idx within the run, -1 for run-level lines
  kind       TEXT NOT NULL,
  insn       INTEGER,
  text       TEXT NOT NULL,
  PRIMARY KEY (run_id, line)
) WITHOUT ROWID;

CREATE TABLE btf_files (
  id           INTEGER PRIMARY KEY,
  sha256       TEXT NOT NULL UNIQUE,
  source       TEXT NOT NULL,
  format       TEXT NOT NULL,           -- bpftool-text, bpftool-json, btf-raw, elf
  size_bytes   INTEGER NOT NULL,
  type_count   INTEGER NOT NULL,
  summary_json TEXT NOT NULL,           -- special fields, globals, maps, kfuncs
  raw_z        BLOB NOT NULL,           -- the file's exact bytes (deflate-raw)
  created_at   TEXT NOT NULL
);

CREATE TABLE run_btf (
  run_id  INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  btf_id  INTEGER NOT NULL REFERENCES btf_files(id),
  PRIMARY KEY (run_id, btf_id)
) WITHOUT ROWID;
