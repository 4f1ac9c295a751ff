// Wrapped log shapes: several raw programs concatenated, veristat -v, cilium/ebpf `%+v` and its one-line
// summary, libbpf < 0.7's DUMP LOG brackets, libbpf load failures without a log. The kernel lines inside
// are real 6.18 lines from the committed captures; the wrapper lines follow each tool's format strings.
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LOGS_618 } from '../helpers/fixtures.ts';
import { parseText } from '../helpers/parse.ts';

const rawOf = (name: string) => readFileSync(join(LOGS_618, name), 'utf8');

describe('wrapped logs', () => {
  it('several raw programs concatenated get prog0, prog1, … in order', () => {
    const text = rawOf('use_after_unlock.L2.log') + rawOf('list_push_pop.L2.log') + rawOf('leak_obj.L1.log');
    const { programs } = parseText(text);
    expect(programs.map((p) => `${p.name}:${p.verdict}`)).toEqual(['prog0:rejected', 'prog1:accepted', 'prog2:rejected']);
  });

  it('veristat -v: program names and verdicts from its headers, the table kept as wrapper lines', () => {
    const text =
      'PROCESSING use_after_unlock.bpf.o/fire_first, DURATION US: 417, VERDICT: failure, VERIFIER LOG:\n' +
      rawOf('use_after_unlock.L1.log') +
      '\n' +
      'PROCESSING list_push_pop.bpf.o/list_roundtrip, DURATION US: 120, VERDICT: success, VERIFIER LOG:\n' +
      rawOf('list_push_pop.L1.log') +
      '\n' +
      'File                  Program              Verdict  Duration (us)  Insns  States  Peak states\n' +
      '--------------------  -------------------  -------  -------------  -----  ------  -----------\n' +
      'use_after_unlock.bpf.o  fire_first  failure            417     30       3            3\n' +
      'Done. Processed 2 files, 2 programs. Skipped 0 files, 0 programs.\n';
    const { programs, totals, records } = parseText(text);
    expect(programs.map((p) => [p.name, p.verdict, p.wrapper])).toEqual([
      ['fire_first', 'rejected', 'veristat'],
      ['list_roundtrip', 'accepted', 'veristat'],
    ]);
    expect(totals.unknownLines).toBe(0);
    expect(records.filter((r) => r.kind === 'wrapper').length).toBe(6);
  });

  it('cilium/ebpf %+v: tab-indented log lines, omitted marker means lines were lost', () => {
    const lines = rawOf('use_after_unlock.L1.log').trimEnd().split('\n');
    const text =
      'field UseRbAfterUnlock: program fire_first: load program: permission denied:\n' +
      lines.map((l) => `\t${l}`).join('\n') +
      '\n';
    const { programs } = parseText(text);
    expect(programs[0]).toMatchObject({ name: 'fire_first', wrapper: 'cilium', verdict: 'rejected', errno: 13 });
    expect(programs[0]!.error).toBe("R6 invalid mem access 'scalar'");
    const cut = 'program fire_first: load program: permission denied:\n' + lines.slice(0, 5).map((l) => `\t${l}`).join('\n') + '\n\t(40 line(s) omitted)\n';
    expect(parseText(cut).programs[0]).toMatchObject({ verdict: 'truncated', truncation: 'tail' });
  });

  it("cilium/ebpf one-line summary: the kernel's last line, labelled summary-only", () => {
    const { programs } = parseText("load program: permission denied: R6 invalid mem access 'scalar' (45 line(s) omitted)\n");
    expect(programs[0]).toMatchObject({ verdict: 'rejected', truncation: 'summary-only', errorClasses: ['invalid-mem-access'] });
  });

  it('libbpf failure without any verifier log (kfunc missing): the program is unsupported, with the loader\'s reason', () => {
    const text = [
      "libbpf: extern (func ksym) 'bpf_obj_new_impl': not found in kernel or module BTFs",
      "libbpf: prog 'leak_sample': failed to load: -22",
      "libbpf: failed to load object 'leak_obj.bpf.o'",
      'Error: failed to load object file',
    ].join('\n');
    const { programs, totals } = parseText(text);
    expect(programs).toHaveLength(1);
    expect(programs[0]).toMatchObject({ name: 'leak_sample', verdict: 'unsupported', errno: 22, blockedBy: null, error: null });
    expect(programs[0]!.loaderError).toBe("extern (func ksym) 'bpf_obj_new_impl': not found in kernel or module BTFs");
    expect(totals.unknownLines).toBe(0);
  });

  it('a libbpf log cut without a final newline keeps the cut line and marks it truncated', () => {
    const text = "libbpf: prog 'p': -- BEGIN PROG LOAD LOG --\n0: R1=ctx() R10=fp0\n0: (b7) r0 = 0    -- END PROG LOAD LOG --\nlibbpf: prog 'p': failed to load: -28\n";
    const { programs, records } = parseText(text);
    expect(records).toHaveLength(4);
    expect(records[2]).toMatchObject({ kind: 'insn', insn: 0 });
    expect(programs[0]).toMatchObject({ name: 'p', verdict: 'truncated', errno: 28 });
  });

  it("libbpf's BTF load log is kept as btf-log lines, outside any program", () => {
    // libbpf (btf.c) prints: "BTF loading error: %d" then "-- BEGIN BTF LOAD LOG ---\n%s\n-- END BTF LOAD LOG --"
    const text = [
      'libbpf: BTF loading error: -22',
      'libbpf: -- BEGIN BTF LOAD LOG ---',
      'magic: 0xeb9f',
      'version: 1',
      '[12] FUNC_PROTO (anon) return=2 args=(1 ctx)',
      'Invalid arg#1',
      '',
      '-- END BTF LOAD LOG --',
      "libbpf: Error loading .BTF into kernel: -22. BTF is optional, ignoring.",
    ].join('\n');
    const { records, programs, totals } = parseText(text);
    expect(records.map((r) => r.kind)).toEqual(['libbpf', 'libbpf', 'btf-log', 'btf-log', 'btf-log', 'btf-log', 'btf-log', 'libbpf', 'libbpf']);
    expect(programs).toHaveLength(0);
    expect(totals.unknownLines).toBe(0);
  });

  it('records leave in line order even when free text is followed by a wrapper line', () => {
    const text = ['some text pasted before the log', "libbpf: prog 'p': -- BEGIN PROG LOAD LOG --", '0: R1=ctx() R10=fp0', 'oops', 'processed 1 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0', '-- END PROG LOAD LOG --'].join('\n');
    const { records } = parseText(text);
    expect(records.map((r) => r.line)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(records.map((r) => r.kind)).toEqual(['unknown', 'libbpf', 'state', 'error', 'stats', 'wrapper']);
  });
});

