-- 0040 (PostgreSQL): the verdicts 'not-loaded' and 'unsupported', and blocked_by, as
-- 0040-loader-verdicts.sql (PostgreSQL changes the CHECK in place).

ALTER TABLE programs DROP CONSTRAINT programs_verdict_check;
ALTER TABLE programs ADD CONSTRAINT programs_verdict_check
  CHECK (verdict IN ('accepted','rejected','truncated','unknown','not-loaded','unsupported'));
ALTER TABLE programs ADD COLUMN blocked_by text;
