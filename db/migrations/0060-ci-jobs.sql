-- 0060: what the CI fleet keeps beside the queue (the queue itself is pg-boss's, on PostgreSQL):
-- the objects submitted for capture (their exact bytes, by content), the jobs submitted under each
-- tag (object × kernel; their state is the queue's), and which run each job stored — so that a job
-- that runs twice (its worker died, the queue gave it to another) stores its run once.

CREATE TABLE ci_objects (
  sha256      TEXT PRIMARY KEY,
  name        TEXT NOT NULL,          -- the object's file name when submitted (qdisc_fifo.bpf.o)
  size_bytes  INTEGER NOT NULL,
  bytes       BLOB NOT NULL,
  created_at  TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE ci_jobs (
  job_id       TEXT PRIMARY KEY,      -- the queue's job id (derived from tag, object and kernel)
  tag          TEXT NOT NULL,
  object_sha   TEXT NOT NULL REFERENCES ci_objects(sha256),
  object_name  TEXT NOT NULL,
  kernel       TEXT NOT NULL,         -- the kernel spec, as given to --kernel
  submitted_at TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX ci_jobs_tag ON ci_jobs(tag);

CREATE TABLE job_runs (
  job_id     TEXT PRIMARY KEY,
  run_id     INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  created_at TEXT NOT NULL
) WITHOUT ROWID;
