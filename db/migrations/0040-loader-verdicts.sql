-- 0040: programs the kernel never saw get verdicts of their own — 'not-loaded' (the loader stopped
-- at another program of the object: blocked_by names it) and 'unsupported' (the loader could not
-- attempt it on this kernel; loader_error says why). SQLite cannot change a CHECK in place: the
-- table is rebuilt with the same columns, in the same order, plus blocked_by. Nothing references
-- programs(id); its index is recreated.

CREATE TABLE programs_0040 (
  id                 INTEGER PRIMARY KEY,
  run_id             INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  idx                INTEGER NOT NULL,
  name               TEXT NOT NULL,
  wrapper            TEXT NOT NULL,
  verdict            TEXT NOT NULL CHECK (verdict IN ('accepted','rejected','truncated','unknown','not-loaded','unsupported')),
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
  stack_depth        TEXT,
  first_line         INTEGER NOT NULL,
  last_line          INTEGER NOT NULL,
  line_count         INTEGER NOT NULL,
  unknown_lines      INTEGER NOT NULL,
  loader_error       TEXT,
  errno              INTEGER,
  log_level          INTEGER,
  kernel_hints       TEXT NOT NULL DEFAULT '[]',
  stack_depth_max    INTEGER,
  subprogs           TEXT,
  insns_totals       TEXT,
  kernel_diagnostics TEXT NOT NULL DEFAULT '[]',
  btf_refused        INTEGER NOT NULL DEFAULT 0,
  section            TEXT,
  struct_ops         TEXT,
  blocked_by         TEXT,              -- for 'not-loaded': the program whose rejection stopped the loader
  UNIQUE (run_id, idx)
);
INSERT INTO programs_0040 (id, run_id, idx, name, wrapper, verdict, truncation, error, error_classes, fail_insn, fail_line,
  insns_processed, insn_limit, max_states_per_insn, total_states, peak_states, mark_read, verification_usec, stack_depth,
  first_line, last_line, line_count, unknown_lines, loader_error, errno, log_level, kernel_hints, stack_depth_max, subprogs,
  insns_totals, kernel_diagnostics, btf_refused, section, struct_ops)
SELECT id, run_id, idx, name, wrapper, verdict, truncation, error, error_classes, fail_insn, fail_line,
  insns_processed, insn_limit, max_states_per_insn, total_states, peak_states, mark_read, verification_usec, stack_depth,
  first_line, last_line, line_count, unknown_lines, loader_error, errno, log_level, kernel_hints, stack_depth_max, subprogs,
  insns_totals, kernel_diagnostics, btf_refused, section, struct_ops
FROM programs;
DROP TABLE programs;
ALTER TABLE programs_0040 RENAME TO programs;
CREATE INDEX programs_run ON programs(run_id);
