-- 0060 (PostgreSQL): the CI fleet's objects, submitted jobs and job → run records, as 0060-ci-jobs.sql.

CREATE TABLE ci_objects (
  sha256      text PRIMARY KEY,
  name        text NOT NULL,
  size_bytes  bigint NOT NULL,
  bytes       bytea NOT NULL,
  created_at  text NOT NULL
);

CREATE TABLE ci_jobs (
  job_id       text PRIMARY KEY,
  tag          text NOT NULL,
  object_sha   text NOT NULL REFERENCES ci_objects(sha256),
  object_name  text NOT NULL,
  kernel       text NOT NULL,
  submitted_at text NOT NULL
);
CREATE INDEX ci_jobs_tag ON ci_jobs(tag);

CREATE TABLE job_runs (
  job_id     text PRIMARY KEY,
  run_id     bigint NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  created_at text NOT NULL
);
