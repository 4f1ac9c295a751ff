// Every committed real capture through the streaming parser: one record per line, the kernel's own
// verdict/error/failing insn read from the log, no unknown line inside a trace, and the same result
// whatever the chunk size (64 bytes, 7 bytes, 1 MiB) to catch chunk-boundary bugs.
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LOGS_618, fixtureLogs, programOf, expectedVerdict, expectedErrorLine } from '../helpers/fixtures.ts';
import { parseFile } from '../helpers/parse.ts';

const logs = fixtureLogs();

describe('real 6.18 captures', () => {
  it('has the captures this suite expects', () => {
    expect(logs.length).toBeGreaterThan(40);
    expect(readFileSync(join(LOGS_618, 'KERNEL'), 'utf8')).toMatch(/^6\.18\./);
  });

  for (const file of logs) {
    const prog = programOf(file);
    const path = join(LOGS_618, file);
    it(`${file}: one record per line, same at 64-byte and 7-byte chunks`, async () => {
      const big = await parseFile(path);
      const lines = readFileSync(path, 'utf8').split('\n');
      if (lines[lines.length - 1] === '') lines.pop();
      expect(big.records.length).toBe(lines.length);
      expect(big.records.map((r) => r.text)).toEqual(lines);
      expect(big.records.map((r) => r.line)).toEqual(lines.map((_, i) => i + 1));
      const small = await parseFile(path, 64);
      expect(small.records).toEqual(big.records);
      expect(small.programs).toEqual(big.programs);
      const tiny = await parseFile(path, 7);
      expect(tiny.programs).toEqual(big.programs);
    });

    it(`${file}: verdict, error and failing insn from the log alone`, async () => {
      const { programs, totals } = await parseFile(path);
      expect(programs.length).toBeGreaterThan(0);
      const expected = expectedVerdict(prog);
      if (/\.(rotated|fixed-trunc)\.log$/.test(file)) {
        // Real truncated captures (1024-byte buffer, ENOSPC): never mistaken for complete logs.
        expect(programs).toHaveLength(1);
        const p = programs[0]!;
        expect(p.verdict).toBe('truncated');
        expect(p.truncation).toBe(file.includes('rotated') ? 'head' : 'tail');
        return;
      }
      expect(totals.unknownLines).toBe(0);
      for (const p of programs) expect(p.unknownLines).toBe(0);
      if (prog === 'multi_ok') {
        expect(programs.map((p) => p.verdict)).toEqual(['accepted', 'accepted', 'accepted']);
        if (file.endsWith('bpftool.log')) expect(programs.map((p) => p.name)).toEqual(['peek_task', 'scratch_obj', 'keep_note']);
        else expect(programs.map((p) => p.name)).toEqual(['prog0', 'prog1', 'prog2']);
        return;
      }
      expect(programs).toHaveLength(1);
      const p = programs[0]!;
      expect(p.verdict).toBe(expected);
      expect(p.stats.insnsProcessed).toBeGreaterThan(0);
      if (expected === 'rejected') {
        const line = expectedErrorLine(prog);
        expect(line).not.toBeNull();
        expect(p.error?.split('\n')).toContain(line);
        if (!file.endsWith('.L4.log')) {
          expect(p.failInsn).not.toBeNull();
        }
      } else {
        expect(p.error).toBeNull();
        expect(p.failInsn).toBeNull();
      }
      if (file.endsWith('.bpftool.log')) {
        expect(p.wrapper).toBe('libbpf');
        expect(p.name).not.toMatch(/^prog\d+$/);
        expect(p.logLevel).toBe(7);
        expect(p.stats.verificationUsec).toBeGreaterThanOrEqual(0);
      } else {
        expect(p.wrapper).toBe('raw');
        expect(p.name).toBe('prog0');
      }
      if (file.endsWith('.L2.log')) expect(p.logLevel! & 2).toBe(2);
      if (file.endsWith('.L7.log')) expect(p.logLevel).toBe(7);
      if (file.endsWith('.L4.log')) expect(p.stats.verificationUsec).toBeGreaterThanOrEqual(0);
    });
  }

  it('the failing instruction is the same at levels 1, 2 and 7 and in the bpftool capture', async () => {
    for (const prog of ['use_after_unlock', 'leak_obj', 'double_drop']) {
      const insns = [];
      for (const suffix of ['L1', 'L2', 'L7', 'bpftool']) {
        const { programs } = await parseFile(join(LOGS_618, `${prog}.${suffix}.log`));
        insns.push(programs[0]!.failInsn);
      }
      expect(new Set(insns).size, `${prog}: ${insns.join(',')}`).toBe(1);
      expect(insns[0]).not.toBeNull();
    }
  });

  it('reads the error class of each rejected program', async () => {
    const classes: Record<string, string> = {
      leak_obj: 'unreleased-reference',
      double_drop: 'must-be-referenced-or-trusted',
      use_after_unlock: 'invalid-mem-access',
      push_without_lock: 'lock-must-be-held',
      wrong_kptr_type: 'invalid-kptr-access',
      exit_while_locked: 'exit-in-locked-region',
      xchg_not_kptr: 'kptr-not-referenced',
      release_unowned: 'release-expects-refcounted',
      drop_node_offset: 'release-nonzero-off',
    };
    for (const [prog, cls] of Object.entries(classes)) {
      const { programs } = await parseFile(join(LOGS_618, `${prog}.bpftool.log`));
      expect(programs[0]!.errorClasses, prog).toContain(cls);
    }
  });

  it('the walkthrough programs task_fifo and write_after_push parse too', async () => {
    for (const f of ['task_fifo.bpftool.log', 'write_after_push.bpftool.log']) {
      const { programs, totals } = await parseFile(join(LOGS_618, f), 64);
      expect(totals.unknownLines).toBe(0);
      expect(programs[0]!.verdict).toBe(f.startsWith('task_fifo') ? 'accepted' : 'rejected');
    }
  });
});
