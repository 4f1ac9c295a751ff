// Model bugs found by fuzzing, now fixed (regression tests): the state parser and the instruction
// decoder accept only R0–R10 and frames 0–9. Each runs in a child process with a time limit, so a hang or a
// V8 abort fails the test instead of killing the runner.
//
// The model sizes arrays by register and frame numbers read from the log:
//   1. `0: (b7) r0 = 0 ; R2147483648_w=scalar()` (a suffix naming register 2^31): V8 aborts
//      ("Fatal JavaScript invalid size error"), exit 133;
//   2. `0: frame2147483647: R1=ctx() R10=fp0`: hangs;
//   3. `0: (bf) r2147483648 = r1` (the disassembly): V8 aborts.
// `kptrscope replay crafted.log` dies with a native stack trace on 1 and 3 (nothing is stored).
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../helpers/fixtures.ts';
import { tempDir } from '../helpers/tmp.ts';
import { kptrscope } from '../helpers/cli.ts';

const state0 = { kind: 'state', insn: 0, state: 'R1=ctx() R10=fp0', line: 1, text: '0: R1=ctx() R10=fp0', program: 0 };
const REPRODUCTIONS: Record<string, object[]> = {
  'a suffix naming register 2^31': [
    state0,
    { kind: 'insn', insn: 0, opcode: 'b7', asm: 'r0 = 0', suffix: 'R2147483648_w=scalar()', line: 2, text: '0: (b7) r0 = 0 ; R2147483648_w=scalar()', program: 0 },
  ],
  'a state in frame 2^31-1': [{ kind: 'state', insn: 0, state: 'frame2147483647: R1=ctx() R10=fp0', line: 1, text: '0: frame2147483647: R1=ctx() R10=fp0', program: 0 }],
  'an instruction writing register 2^31': [state0, { kind: 'insn', insn: 0, opcode: 'bf', asm: 'r2147483648 = r1', line: 2, text: '0: (bf) r2147483648 = r1', program: 0 }],
};

describe('model bugs found by fuzzing (fixed: register numbers above 10 and frames above 9 are not registers/frames)', () => {
  for (const [name, records] of Object.entries(REPRODUCTIONS)) {
    it(`replays ${name} within 5 s without crashing`, () => {
      const start = Date.now();
      const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'run-ts.mjs'), join(ROOT, 'test', 'hardening', 'replay-records.ts'), JSON.stringify(records)], {
        encoding: 'utf8',
        timeout: 20_000,
      });
      expect(r.signal, r.stderr.slice(0, 500)).toBeNull();
      expect(r.status, r.stderr.slice(0, 500)).toBe(0);
      expect(Date.now() - start).toBeLessThan(5000);
      expect(JSON.parse(r.stdout)).toMatchObject({ verdict: expect.stringMatching(/^(accepted|rejected)$/) });
    });
  }

  const dir = tempDir();
  it('`kptrscope replay` of a crafted log reports, never dies with a native stack trace', () => {
    const log = join(dir, 'crafted.log');
    writeFileSync(log, '0: R1=ctx() R10=fp0\n0: (bf) r2147483648 = r1\n1: (95) exit\nprocessed 2 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0\n');
    const r = kptrscope(['replay', log, '--db', join(dir, 'db.sqlite'), '--json']);
    expect(r.stderr).not.toMatch(/Fatal|Native stack trace|\n\s+at /);
    expect(r.status).toBe(0);
  });
});
