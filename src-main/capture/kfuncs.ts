/**
 * The kfunc table of a kernel: names and BTF ids from its /sys/kernel/btf/vmlinux (kfunc ids differ
 * from kernel to kernel, and the verifier log names calls `bpf_obj_new_impl#65203`).
 *
 * Contract: `kfuncTable(bytes, release)` parses the raw BTF with the project's BTF reader and returns
 * the table. When the BTF has `bpf_kfunc` decl tags (pahole ≥ 1.26 marks every registered kfunc; the
 * 6.12 and newer Debian kernels have them) the table is exactly the tagged FUNCs (`exact: true`).
 * Older BTF (6.1) has no way to tell a kfunc from any other kernel function, so the table lists every
 * FUNC named `bpf_*` (`exact: false`: a superset of the bpf_* kfuncs that misses kfuncs named
 * otherwise); a kfunc absent from it is absent from that kernel. Entries are sorted by id.
 */
import { createHash } from 'node:crypto';
import { parseBtfBytes, summarizeBtf } from '../domain/btf/index.ts';

export interface KfuncEntry {
  id: number;
  name: string;
}

export interface KfuncTable {
  version: 1;
  release: string;
  source: string;
  btfSha256: string;
  btfTypes: number;
  selection: 'decl_tag bpf_kfunc' | 'FUNC named bpf_*';
  exact: boolean;
  count: number;
  kfuncs: KfuncEntry[];
}

export function kfuncTable(bytes: Uint8Array, release: string, source = '/sys/kernel/btf/vmlinux'): KfuncTable {
  const loaded = parseBtfBytes(bytes, source);
  const btf = loaded.btf;
  const summary = summarizeBtf(btf, { source: 'kernel' });
  let kfuncs: KfuncEntry[];
  let exact: boolean;
  if (summary.kfuncs.length > 0) {
    kfuncs = summary.kfuncs.map((k) => ({ id: k.id, name: k.name }));
    exact = true;
  } else {
    kfuncs = [];
    for (const t of btf.types) if (t && t.kind === 'FUNC' && t.name.startsWith('bpf_')) kfuncs.push({ id: t.id, name: t.name });
    exact = false;
  }
  kfuncs.sort((a, b) => a.id - b.id);
  return {
    version: 1,
    release,
    source,
    btfSha256: createHash('sha256').update(bytes).digest('hex'),
    btfTypes: btf.types.length,
    selection: exact ? 'decl_tag bpf_kfunc' : 'FUNC named bpf_*',
    exact,
    count: kfuncs.length,
    kfuncs,
  };
}

/** One entry per line: small diffs between kernels, still one JSON document. */
export function formatKfuncTable(t: KfuncTable): string {
  const { kfuncs, ...head } = t;
  const headJson = JSON.stringify(head, null, 2).replace(/\n}$/, '');
  return `${headJson},\n  "kfuncs": [\n${kfuncs.map((k) => `    ${JSON.stringify(k)}`).join(',\n')}\n  ]\n}\n`;
}
