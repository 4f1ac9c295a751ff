-- 0030: what Linux 7.x logs say that older ones did not — per-subprogram statistics, the stack
-- depth of the deepest call chain, the kernel's own diagnostic blocks (7.3) — and whether the
-- kernel refused the object's BTF (the program was then judged without it).

ALTER TABLE programs ADD COLUMN stack_depth_max INTEGER;
ALTER TABLE programs ADD COLUMN subprogs TEXT;                -- JSON [{index,name,kind,insnsSelf,insnsTotal,stack}] (7.3+)
ALTER TABLE programs ADD COLUMN insns_totals TEXT;            -- JSON [main, each global subprog] (7.x before 7.3)
ALTER TABLE programs ADD COLUMN kernel_diagnostics TEXT NOT NULL DEFAULT '[]'; -- JSON, see domain/log/kernel-diagnostic.ts
ALTER TABLE programs ADD COLUMN btf_refused INTEGER NOT NULL DEFAULT 0;
ALTER TABLE programs ADD COLUMN section TEXT;                 -- the program's ELF section, when the loader named it
ALTER TABLE programs ADD COLUMN struct_ops TEXT;              -- JSON {type, member}: the struct_ops callback it implements
