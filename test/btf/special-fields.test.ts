import { describe, it, expect } from 'vitest';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import {
  parseBtfElf,
  parseBtfText,
  summarizeBtf,
  type BtfSummary,
  type SpecialField,
} from '../../src-main/domain/btf/index.ts';
import { btfText } from './helpers/btf-writer.ts';
import { FIXTURES_618, capturedPrograms, fixturePath, readFixtureBytes, readFixtureText } from './fixtures.ts';

function summaryOf(name: string): BtfSummary {
  return summarizeBtf(parseBtfText(readFixtureText(`${name}.btf.txt`)));
}

function brief(fields: SpecialField[]): string[] {
  return fields.map((f) => `${f.name}:${f.kind}@${f.offset}${f.pointee ? `->${f.pointee.kind} ${f.pointee.name}` : ''}`);
}

describe('summarizeBtf — task_fifo (a task kptr in a listed local object)', () => {
  const s = summaryOf('task_fifo');

  it('finds waiter: kptr who @0 → task_struct, list_node q @8', () => {
    const w = s.structs.find((x) => x.name === 'waiter');
    expect(w).toEqual({
      id: 6,
      name: 'waiter',
      size: 32,
      fields: [
        { name: 'who', offset: 0, size: 8, kind: 'kptr', typeId: 7, tag: 'kptr', pointee: { id: 17, name: 'task_struct', kind: 'struct', isForward: false } },
        { name: 'q', offset: 8, size: 24, kind: 'list_node', typeId: 8 },
      ],
    });
    // The kptr pointee is listed even though it has no special fields.
    expect(s.structs.find((x) => x.name === 'task_struct')).toEqual({ id: 17, name: 'task_struct', size: 3264, fields: [] });
    expect(s.structs.map((x) => x.name)).toEqual(['waiter', 'task_struct']);
  });

  it('finds .data.fifo: fifo_guard spin_lock @0, fifo_head list_head @8 containing waiter:q', () => {
    const data = s.globals.find((g) => g.name === '.data.fifo');
    expect(data).toMatchObject({ size: 0, layoutSize: 24, layoutSource: 'packed' });
    const [lock, head] = data?.vars ?? [];
    expect(lock).toMatchObject({ name: 'fifo_guard', offset: 0, size: 4, layoutOffset: 0, typeName: 'struct bpf_spin_lock' });
    expect(lock?.specialFields).toEqual([{ name: 'fifo_guard', offset: 0, size: 4, kind: 'spin_lock', typeId: 348, valueOffset: 0 }]);
    const contains = { type: 'waiter', field: 'q', typeId: 6, fieldOffset: 8, fieldKind: 'list_node' };
    expect(head).toMatchObject({ name: 'fifo_head', offset: 0, size: 16, layoutOffset: 8, typeName: 'struct bpf_list_head', contains });
    expect(head?.specialFields).toEqual([{ name: 'fifo_head', offset: 0, size: 16, kind: 'list_head', typeId: 342, contains, valueOffset: 8 }]);
    // the log: "R1=map_value(map=.data.fifo,ks=4,vs=24,off=8)" for &fifo_head
    expect(readFixtureText('task_fifo.bpftool.log')).toContain('map_value(map=.data.fifo,ks=4,vs=24,off=8)');
  });

  it('lists the extern kfuncs of .ksyms and no warnings; the summary is plain JSON', () => {
    expect(s.source).toBe('program');
    expect(s.kfuncs.map((k) => k.name)).toEqual(['bpf_obj_new_impl', 'bpf_task_acquire', 'bpf_obj_drop_impl', 'bpf_task_release', 'bpf_list_push_back_impl']);
    expect(s.kfuncs[1]).toEqual({
      id: 335,
      name: 'bpf_task_acquire',
      linkage: 'extern',
      tagged: false,
      tags: [],
      params: [{ name: '', typeId: 16, typeName: 'struct task_struct *' }],
      returns: 'struct task_struct *',
      returnTypeId: 16,
    });
    expect(s.warnings).toEqual([]);
    expect(JSON.parse(JSON.stringify(s))).toEqual(s);
  });
});

describe('summarizeBtf — captured fixtures', () => {
  it('local_kptr_stash: two kptrs and a list node in a local object', () => {
    const s = summaryOf('local_kptr_stash');
    expect(brief(s.structs.find((x) => x.name === 'spawn_rec')?.fields ?? [])).toEqual([
      'task:kptr@8->struct task_struct',
      'cgrp:kptr@16->struct cgroup',
      'link:list_node@24',
    ]);
    const g = s.globals.find((x) => x.name === '.data.spawn');
    expect(g?.vars.map((v) => [v.name, v.layoutOffset])).toEqual([
      ['spawn_lock', 0],
      ['spawn_list', 8],
    ]);
    expect(g?.vars[1]?.contains).toMatchObject({ type: 'spawn_rec', field: 'link', fieldOffset: 24, fieldKind: 'list_node' });
  });

  it('map_kptr_stash: BTF-defined hash map whose value holds a referenced kptr', () => {
    const s = summaryOf('map_kptr_stash');
    expect(s.mapValueTypes).toEqual([
      {
        name: 'last_task',
        varId: 16,
        mapType: 1,
        mapTypeName: 'hash',
        keyType: { id: 8, name: '__u32' },
        valueType: { id: 11, name: 'struct task_slot' },
        keySize: 4,
        valueSize: 16,
        maxEntries: 64,
        valueSpecialFields: [
          { name: 'task', offset: 8, size: 8, kind: 'kptr', typeId: 14, tag: 'kptr', pointee: { id: 22, name: 'task_struct', kind: 'struct', isForward: false } },
        ],
      },
    ]);
  });

  it('xchg_not_kptr: kptr_untrusted; refcount_acquire: bpf_refcount; rbtree: rb_root/rb_node', () => {
    expect(brief(summaryOf('xchg_not_kptr').mapValueTypes[0]?.valueSpecialFields ?? [])).toEqual(['peer:kptr_untrusted@8->struct task_struct']);
    expect(brief(summaryOf('refcount_acquire').structs.find((x) => x.name === 'shared_rec')?.fields ?? [])).toEqual(['ref:refcount@8', 'link:list_node@16']);
    const rb = summaryOf('rbtree_add_remove');
    expect(brief(rb.structs.find((x) => x.name === 'flow_rec')?.fields ?? [])).toEqual(['rb:rb_node@16']);
    const root = rb.globals.find((g) => g.name === '.data.t')?.vars.find((v) => v.name === 't_root');
    expect(root?.specialFields[0]).toMatchObject({ kind: 'rb_root', valueOffset: 8, contains: { type: 'flow_rec', field: 'rb', fieldOffset: 16, fieldKind: 'rb_node' } });
  });

  it('local_in_map: a map-value kptr to a program-BTF (local) type; exit_while_locked: lock in a map value', () => {
    expect(brief(summaryOf('local_in_map').mapValueTypes[0]?.valueSpecialFields ?? [])).toEqual(['stats:kptr@0->struct conn_stats']);
    expect(summaryOf('local_in_map').structs.map((x) => x.name)).toContain('conn_stats');
    expect(brief(summaryOf('exit_while_locked').mapValueTypes[0]?.valueSpecialFields ?? [])).toEqual(['lock:spin_lock@0']);
  });

  it('push_without_lock: the list head comes first in its section (lock at 16, as the log says)', () => {
    const s = summaryOf('push_without_lock');
    const g = s.globals.find((x) => x.name === '.data.p');
    expect(g?.vars.map((v) => [v.name, v.layoutOffset])).toEqual([
      ['p_head', 0],
      ['p_lock', 16],
    ]);
    expect(g?.layoutSize).toBe(20);
    expect(readFixtureText('push_without_lock.btf.txt').length).toBeGreaterThan(0);
  });

  for (const name of capturedPrograms()) {
    it(`${name}: no warnings; packed layout == ELF symbol layout; sizes == the log's map_value(ks,vs)`, () => {
      const s = summaryOf(name);
      expect(s.warnings).toEqual([]);
      const elf = parseBtfElf(readFixtureBytes(`${name}.bpf.o`));
      const fromElf = summarizeBtf(elf.btf, { dataLayout: elf.dataLayout });
      for (const g of s.globals) {
        const e = fromElf.globals.find((x) => x.name === g.name);
        expect(e?.layoutSource).toBe('elf');
        expect(g.vars.map((v) => [v.name, v.layoutOffset])).toEqual(e?.vars.map((v) => [v.name, v.layoutOffset]));
        expect(g.layoutSize).toBe(e?.layoutSize);
      }
      // Every map_value(map=X,ks=K,vs=V) printed by the verifier for this program agrees.
      const logs = readdirSync(FIXTURES_618).filter((f) => f.startsWith(`${name}.`) && f.endsWith('.log'));
      for (const log of logs) {
        for (const m of readFileSync(fixturePath(log), 'utf8').matchAll(/map=([^,()]+),ks=(\d+),vs=(\d+)/g)) {
          const [, map, ks, vs] = m;
          const g = s.globals.find((x) => x.name === map);
          const bm = s.mapValueTypes.find((x) => x.name === map);
          expect(g !== undefined || bm !== undefined, `${log}: map ${map} is known`).toBe(true);
          if (g !== undefined) expect(g.layoutSize, `${log}: ${map} vs`).toBe(Number(vs));
          if (bm !== undefined) {
            expect(bm.valueSize, `${log}: ${map} vs`).toBe(Number(vs));
            expect(bm.keySize, `${log}: ${map} ks`).toBe(Number(ks));
          }
        }
      }
    });
  }
});

// A hand-written program BTF exercising every special field kind and every warning.
const SYNTH = btfText(
  "[1] INT 'int' size=4 bits_offset=0 nr_bits=32 encoding=SIGNED",
  "[2] STRUCT 'bpf_spin_lock' size=4 vlen=1",
  "\t'val' type_id=1 bits_offset=0",
  "[3] STRUCT 'bpf_list_head' size=16 vlen=1",
  "\t'__opaque' type_id=59 bits_offset=0",
  "[4] STRUCT 'bpf_list_node' size=24 vlen=1",
  "\t'__opaque' type_id=59 bits_offset=0",
  "[5] STRUCT 'bpf_rb_root' size=16 vlen=1",
  "\t'__opaque' type_id=59 bits_offset=0",
  "[6] STRUCT 'bpf_rb_node' size=24 vlen=1",
  "\t'__opaque' type_id=59 bits_offset=0",
  "[7] STRUCT 'bpf_refcount' size=4 vlen=0",
  "[8] STRUCT 'bpf_timer' size=16 vlen=1",
  "\t'__opaque' type_id=59 bits_offset=0",
  "[9] STRUCT 'bpf_wq' size=16 vlen=1",
  "\t'__opaque' type_id=59 bits_offset=0",
  "[10] STRUCT 'bpf_res_spin_lock' size=4 vlen=0",
  "[11] STRUCT 'bpf_task_work' size=8 vlen=1",
  "\t'__opaque' type_id=59 bits_offset=0",
  "[12] FWD 'cgroup' fwd_kind=struct",
  "[13] STRUCT 'task_struct' size=8 vlen=0",
  "[14] TYPE_TAG 'kptr_ref' type_id=13",
  "[15] PTR '(anon)' type_id=14",
  "[16] TYPE_TAG 'percpu_kptr' type_id=30",
  "[17] PTR '(anon)' type_id=16",
  "[18] TYPE_TAG 'uptr' type_id=1",
  "[19] PTR '(anon)' type_id=18",
  "[20] TYPE_TAG 'kptr' type_id=12",
  "[21] PTR '(anon)' type_id=20",
  "[22] TYPE_TAG 'kptr_untrusted' type_id=23",
  "[23] TYPE_TAG 'rcu' type_id=13",
  "[24] PTR '(anon)' type_id=22",
  "[25] VOLATILE '(anon)' type_id=21",
  "[26] TYPEDEF 'cg_kptr_t' type_id=25",
  "[27] ARRAY '(anon)' type_id=21 index_type_id=1 nr_elems=2",
  "[28] STRUCT 'inner' size=40 vlen=2",
  "\t'lock' type_id=2 bits_offset=0",
  "\t'head' type_id=3 bits_offset=64",
  "[29] ARRAY '(anon)' type_id=28 index_type_id=1 nr_elems=2",
  "[30] STRUCT 'elem' size=32 vlen=3",
  "\t'node' type_id=4 bits_offset=0",
  "\t'ref' type_id=7 bits_offset=192",
  "\t'v' type_id=1 bits_offset=224",
  "[31] STRUCT 'value' size=232 vlen=14",
  "\t'a' type_id=15 bits_offset=0",
  "\t'b' type_id=17 bits_offset=64",
  "\t'c' type_id=19 bits_offset=128",
  "\t'd' type_id=26 bits_offset=192",
  "\t'e' type_id=24 bits_offset=256",
  "\t'arr' type_id=27 bits_offset=320",
  "\t'nest' type_id=29 bits_offset=448",
  "\t't' type_id=8 bits_offset=1088",
  "\t'w' type_id=9 bits_offset=1216",
  "\t'rl' type_id=10 bits_offset=1344",
  "\t'tw' type_id=11 bits_offset=1408",
  "\t'r' type_id=5 bits_offset=1472",
  "\t'r2' type_id=5 bits_offset=1600",
  "\t'l2' type_id=3 bits_offset=1728",
  "[32] DECL_TAG 'contains:elem:node' type_id=28 component_idx=1",
  "[33] DECL_TAG 'contains:nosuch:node' type_id=31 component_idx=11",
  "[34] DECL_TAG 'contains:elem:missing' type_id=31 component_idx=12",
  "[35] DECL_TAG 'contains:elem:ref' type_id=31 component_idx=13",
  // globals
  "[36] VAR 'g_lock' type_id=2, linkage=global",
  "[37] VAR 'g_root' type_id=5, linkage=global",
  "[38] DECL_TAG 'contains:elem:node' type_id=37 component_idx=-1",
  "[39] VAR 'g_int' type_id=1, linkage=static",
  "[40] DATASEC '.data.g' size=0 vlen=3",
  '\ttype_id=36 offset=0 size=4',
  '\ttype_id=37 offset=0 size=16',
  '\ttype_id=39 offset=0 size=4',
  "[41] VAR 'x1' type_id=1, linkage=global",
  "[42] VAR 'x2' type_id=1, linkage=global",
  "[43] VAR 'xl' type_id=2, linkage=global",
  "[44] VAR 'xh' type_id=3, linkage=global",
  "[45] DECL_TAG 'contains:elem:node' type_id=44 component_idx=-1",
  "[46] DATASEC '.data.x' size=0 vlen=4",
  '\ttype_id=41 offset=0 size=4',
  '\ttype_id=42 offset=0 size=4',
  '\ttype_id=43 offset=0 size=4',
  '\ttype_id=44 offset=0 size=16',
  // a BTF-defined map: __uint(type, BPF_MAP_TYPE_ARRAY); __type(key, int); __type(value, struct value); __uint(max_entries, 4)
  "[47] ARRAY '(anon)' type_id=1 index_type_id=1 nr_elems=2",
  "[48] PTR '(anon)' type_id=47",
  "[49] PTR '(anon)' type_id=1",
  "[50] PTR '(anon)' type_id=31",
  "[51] ARRAY '(anon)' type_id=1 index_type_id=1 nr_elems=4",
  "[52] PTR '(anon)' type_id=51",
  "[53] STRUCT '(anon)' size=32 vlen=4",
  "\t'type' type_id=48 bits_offset=0",
  "\t'key' type_id=49 bits_offset=64",
  "\t'value' type_id=50 bits_offset=128",
  "\t'max_entries' type_id=52 bits_offset=192",
  "[54] VAR 'vals' type_id=53, linkage=global",
  "[55] DATASEC '.maps' size=0 vlen=1",
  '\ttype_id=54 offset=0 size=32',
  // kfuncs
  "[56] FUNC_PROTO '(anon)' ret_type_id=15 vlen=2",
  "\t'p' type_id=24",
  "\t'(anon)' type_id=0",
  "[57] FUNC 'bpf_thing_acquire' type_id=56 linkage=extern",
  "[58] DATASEC '.ksyms' size=0 vlen=1",
  '\ttype_id=57 offset=0 size=0',
  "[59] INT 'long' size=8 bits_offset=0 nr_bits=64 encoding=SIGNED",
);

describe('summarizeBtf — every field kind and warning (synthetic BTF)', () => {
  const btf = parseBtfText(SYNTH);
  const s = summarizeBtf(btf);

  it('classifies kptr tags, special structs, nested structs and arrays with correct offsets', () => {
    const v = s.structs.find((x) => x.name === 'value');
    expect(brief(v?.fields ?? [])).toEqual([
      'a:kptr@0->struct task_struct',
      'b:percpu_kptr@8->struct elem',
      'c:uptr@16->int int',
      'd:kptr@24->fwd cgroup',
      'e:kptr_untrusted@32->struct task_struct',
      'arr[0]:kptr@40->fwd cgroup',
      'arr[1]:kptr@48->fwd cgroup',
      'nest[0].lock:spin_lock@56',
      'nest[0].head:list_head@64',
      'nest[1].lock:spin_lock@96',
      'nest[1].head:list_head@104',
      't:timer@136',
      'w:wq@152',
      'rl:res_spin_lock@168',
      'tw:task_work@176',
      'r:rb_root@184',
      'r2:rb_root@200',
      'l2:list_head@216',
    ]);
    const f = (n: string) => v?.fields.find((x) => x.name === n);
    expect(f('a')?.tag).toBe('kptr_ref');
    expect(f('d')).toMatchObject({ typeId: 26, pointee: { id: 12, name: 'cgroup', kind: 'fwd', isForward: true } });
    expect(f('nest[1].head')?.contains).toEqual({ type: 'elem', field: 'node', typeId: 30, fieldOffset: 0, fieldKind: 'list_node' });
    expect(f('r')?.contains).toEqual({ type: 'nosuch', field: 'node', missing: 'type' });
    expect(f('r2')?.contains).toEqual({ type: 'elem', field: 'missing', typeId: 30, missing: 'field' });
    expect(f('l2')?.contains).toEqual({ type: 'elem', field: 'ref', typeId: 30, fieldOffset: 24, fieldKind: 'refcount' });
    // inner, elem (special fields + percpu/contains target) and task_struct (kptr pointee) are listed too
    expect(s.structs.map((x) => x.name)).toEqual(['task_struct', 'inner', 'elem', 'value']);
    expect(brief(s.structs.find((x) => x.name === 'elem')?.fields ?? [])).toEqual(['node:list_node@0', 'ref:refcount@24']);
  });

  it('warns about FWD pointees, non-struct pointees, stacked tags, dangling contains: and lock counts', () => {
    expect(s.warnings).toEqual([
      "global 'g_root' in .data.g: 'contains:elem:node': field 'elem.node' is a list_node, expected a bpf_rb_node",
      "struct value member 'c': uptr points to a int 'int'; kptrs must point to a struct",
      "struct value member 'd': kptr points to a forward declaration 'struct cgroup' (its definition is not in this BTF)",
      "struct value member 'e': two type tags stacked ('kptr_untrusted' then 'rcu'); the kernel rejects this kptr",
      "struct value member 'arr': kptr points to a forward declaration 'struct cgroup' (its definition is not in this BTF)",
      "struct value member 'r': 'contains:nosuch:node' names struct 'nosuch', which is not in the BTF",
      "struct value member 'r2': 'contains:elem:missing' names field 'missing', which struct 'elem' does not have",
      "struct value member 'l2': 'contains:elem:ref': field 'elem.ref' is a refcount, expected a bpf_list_node",
      "value of map 'vals': has 'nest[0].head', 'nest[1].head', 'r', 'r2', 'l2' but 3 bpf_spin_lock (exactly one is required)",
      "struct value: has 'nest[0].head', 'nest[1].head', 'r', 'r2', 'l2' but 3 bpf_spin_lock (exactly one is required)",
    ]);
  });

  it('summarises globals: packed layout, var contains:, specials at value offsets', () => {
    const g = s.globals.find((x) => x.name === '.data.g');
    expect(g).toMatchObject({ layoutSource: 'packed', layoutSize: 28 });
    expect(g?.vars.map((v) => [v.name, v.layoutOffset, v.linkage])).toEqual([
      ['g_lock', 0, 'global'],
      ['g_root', 8, 'global'],
      ['g_int', 24, 'static'],
    ]);
    expect(g?.vars[1]?.specialFields).toEqual([
      {
        name: 'g_root',
        offset: 0,
        size: 16,
        kind: 'rb_root',
        typeId: 5,
        contains: { type: 'elem', field: 'node', typeId: 30, fieldOffset: 0, fieldKind: 'list_node' },
        valueOffset: 8,
      },
    ]);
    expect(g?.vars[2]?.specialFields).toEqual([]);
  });

  it('uses a known map value size to detect 8-byte aligned section macros', () => {
    const natural = s.globals.find((x) => x.name === '.data.x');
    expect(natural?.vars.map((v) => v.layoutOffset)).toEqual([0, 4, 8, 16]);
    expect(natural?.layoutSize).toBe(32);
    const withVs = summarizeBtf(btf, { mapValueSizes: { '.data.x': 40 } }).globals.find((x) => x.name === '.data.x');
    expect(withVs?.layoutSource).toBe('packed-aligned8');
    expect(withVs?.vars.map((v) => v.layoutOffset)).toEqual([0, 8, 16, 24]);
    const unknown = summarizeBtf(btf, { mapValueSizes: { '.data.x': 36 } });
    expect(unknown.globals.find((x) => x.name === '.data.x')?.layoutSource).toBe('packed');
    expect(unknown.warnings).toContain(
      "DATASEC '.data.x': computed layout size 32 does not match the map value size 36; var offsets are uncertain (load the .bpf.o for exact offsets)",
    );
  });

  it('summarises BTF-defined maps and extern kfuncs', () => {
    expect(s.mapValueTypes).toHaveLength(1);
    expect(s.mapValueTypes[0]).toMatchObject({
      name: 'vals',
      mapType: 2,
      mapTypeName: 'array',
      keyType: { id: 1, name: 'int' },
      valueType: { id: 31, name: 'struct value' },
      keySize: 4,
      valueSize: 232,
      maxEntries: 4,
    });
    expect(s.mapValueTypes[0]?.valueSpecialFields).toEqual(s.structs.find((x) => x.name === 'value')?.fields);
    expect(s.kfuncs).toEqual([
      {
        id: 57,
        name: 'bpf_thing_acquire',
        linkage: 'extern',
        tagged: false,
        tags: [],
        params: [
          { name: 'p', typeId: 24, typeName: 'struct task_struct __tag(rcu) __tag(kptr_untrusted) *' },
          { name: '', typeId: 0, typeName: '...' },
        ],
        returns: 'struct task_struct __tag(kptr_ref) *',
        returnTypeId: 15,
      },
    ]);
  });

  it('treats BTF with bpf_kfunc decl tags as kernel BTF (kfuncs only) unless told otherwise', () => {
    const kernel = parseBtfText(
      btfText(
        "[1] FUNC_PROTO '(anon)' ret_type_id=0 vlen=1",
        "\t'p__k' type_id=0",
        "[2] FUNC 'bpf_x' type_id=1 linkage=static",
        "[3] DECL_TAG 'bpf_kfunc' type_id=2 component_idx=-1",
        "[4] DECL_TAG 'bpf_fastcall' type_id=2 component_idx=-1",
        "[5] FUNC 'not_a_kfunc' type_id=1 linkage=static",
      ),
    );
    const k = summarizeBtf(kernel);
    expect(k.source).toBe('kernel');
    expect(k.kfuncs).toEqual([
      { id: 2, name: 'bpf_x', linkage: 'static', tagged: true, tags: ['bpf_kfunc', 'bpf_fastcall'], params: [{ name: 'p__k', typeId: 0, typeName: '...' }], returns: 'void', returnTypeId: 0 },
    ]);
    expect(summarizeBtf(kernel, { source: 'program' }).kfuncs).toEqual([]);
  });
});

describe.runIf(existsSync('/sys/kernel/btf/vmlinux'))('summarizeBtf — vmlinux', () => {
  it('summarises the kernel BTF (its speed is the benchmarks\' job)', async () => {
    const { parseBtfRaw } = await import('../../src-main/domain/btf/index.ts');
    const btf = parseBtfRaw(readFileSync('/sys/kernel/btf/vmlinux')).btf;
    const s = summarizeBtf(btf);
    expect(s.kfuncs.find((k) => k.name === 'bpf_task_acquire')).toMatchObject({ tagged: true, returns: 'struct task_struct *' });
  });
});
