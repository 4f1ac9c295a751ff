-- 0050: tags on runs (`--tag <name>` on ingest, capture and matrix: a git commit, a CI job): a run
-- can carry several (the same log ingested again under another tag is the same run, tagged twice).

CREATE TABLE run_tags (
  run_id  INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  tag     TEXT NOT NULL,
  PRIMARY KEY (run_id, tag)
) WITHOUT ROWID;
CREATE INDEX run_tags_tag ON run_tags(tag);
