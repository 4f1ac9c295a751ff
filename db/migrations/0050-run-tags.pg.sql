-- 0050 (PostgreSQL): tags on runs, as 0050-run-tags.sql.

CREATE TABLE run_tags (
  run_id  bigint NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  tag     text NOT NULL,
  PRIMARY KEY (run_id, tag)
);
CREATE INDEX run_tags_tag ON run_tags(tag);
