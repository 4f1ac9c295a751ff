-- 0070 (PostgreSQL): as 0070-run-btf-source.sql.

ALTER TABLE run_btf ADD COLUMN source text;
