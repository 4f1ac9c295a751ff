-- 0070: the name a run was given its BTF file under (the same bytes are one btf_files row, named
-- by whoever stored them first: a run's object must be named as that run's ingest named it).

ALTER TABLE run_btf ADD COLUMN source TEXT;
