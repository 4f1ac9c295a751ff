// Real captures from Debian's 6.1 and 6.12 kernels (booted under QEMU by `kptrscope capture`):
// ingested with the guest's release and the object's BTF, every program's replay agrees with that
// kernel's own verdict and failing instruction, with zero divergences. On 6.1 most programs never
// reach the verifier (the kfuncs do not exist there): they are `unsupported`, with the loader's
// reason, and there is nothing to replay.
import { describe, it, expect } from 'vitest';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES } from '../helpers/fixtures.ts';
import { tempDir } from '../helpers/tmp.ts';
import { testStore } from '../helpers/store.ts';
import { ingestLog } from '../../src-main/app/ingest.ts';
import { replayRun } from '../../src-main/app/replay.ts';

const dir = tempDir();

for (const k of ['6.1', '6.12']) {
  const logs = join(FIXTURES, 'logs', k);
  describe(`kernel ${k} captures`, () => {
    const kernel = readFileSync(join(logs, 'KERNEL'), 'utf8').trim();
    const files = readdirSync(logs).filter((f) => f.endsWith('.log'));

    it('exist for every program', () => {
      expect(files.length).toBeGreaterThanOrEqual(20);
      expect(kernel.startsWith(`${k}.`)).toBe(true);
    });

    it('replay agrees with the kernel on every program, zero divergences', async () => {
      const db = testStore(join(dir, `k${k}.db`));
      const rows: string[] = [];
      for (const f of files) {
        const prog = f.replace(/\..*$/, '');
        const btf = [`${prog}.btf.txt`, `${prog}.bpf.o`].map((b) => join(logs, b)).find((b) => existsSync(b));
        const ing = await ingestLog(db, join(logs, f), { btf: btf ? [btf] : [], kernel, replay: {} });
        expect(ing.unknownLines, f).toBe(0);
        const res = await replayRun(db, ing.runId);
        expect(res.kernelProfile).toBe(k);
        const expected = readFileSync(join(logs, `${prog}.verdict`), 'utf8').trim();
        for (const p of res.programs) {
          rows.push(`${f} ${p.program.name} ${p.program.verdict} ${p.replay.modelVerdict}`);
          if (p.program.lines === 0) {
            expect(p.program.verdict, `${f} ${p.program.name}`).toBe('unsupported');
            expect(p.program.loaderError, f).toMatch(/not found in kernel or module BTFs/);
            expect(p.agree, f).toBeNull();
            expect(p.replay.finding, f).toBeNull();
            continue;
          }
          expect(p.program.verdict, `${f} ${p.program.name}`).toBe(expected);
          expect(p.agree, `${f} ${p.program.name}: kernel ${p.program.verdict}@${p.program.failInsn}, model ${p.replay.modelVerdict}@${p.replay.failInsn}`).toBe(true);
          expect(p.divergences, f).toEqual([]);
        }
      }
      expect(rows.length).toBeGreaterThanOrEqual(files.length);
      await db.close();
    });
  });
}

// Without the program's BTF the model cannot know node types and offsets up front; it learns them
// from the kernel's print (naming only) and must still agree with the kernel on every capture.
describe('replay without BTF', () => {
  it('agrees with the kernel on every 6.18 capture, zero divergences', async () => {
    const logs = join(FIXTURES, 'logs', '6.18');
    const db = testStore(join(dir, 'nobtf.db'));
    for (const f of readdirSync(logs).filter((x) => x.endsWith('.log') && !/rotated|fixed-trunc/.test(x))) {
      const ing = await ingestLog(db, join(logs, f), { replay: {} });
      for (const p of (await replayRun(db, ing.runId)).programs) {
        expect(p.agree, `${f} ${p.program.name}: model ${p.replay.modelVerdict}@${p.replay.failInsn} (${p.replay.finding?.kind})`).toBe(p.program.verdict === 'truncated' ? null : true);
        expect(p.divergences, f).toEqual([]);
      }
    }
    await db.close();
  });
});
