-- 0030 (PostgreSQL): what Linux 7.x logs say, as 0030-kernel-7x.sql.

ALTER TABLE programs ADD COLUMN stack_depth_max integer;
ALTER TABLE programs ADD COLUMN subprogs text;
ALTER TABLE programs ADD COLUMN insns_totals text;
ALTER TABLE programs ADD COLUMN kernel_diagnostics text NOT NULL DEFAULT '[]';
ALTER TABLE programs ADD COLUMN btf_refused integer NOT NULL DEFAULT 0;
ALTER TABLE programs ADD COLUMN section text;
ALTER TABLE programs ADD COLUMN struct_ops text;
