/**
 * The same fixture checks through the ingest layer's BTF loader + summary (ctx.btf = BtfSummary),
 * for the .btf.txt and the .bpf.o of every program.
 */
import { describe, expect, test } from 'vitest';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { summarizeBtf } from '../../src-main/domain/btf/index.ts';
import { loadBtfFile } from '../../src-main/app/read-files.ts';
import { replayProgram } from '../../src-main/domain/model/replay.ts';
import { LOGS_618, programOf } from '../helpers/fixtures.ts';
import { parseFile } from '../helpers/parse.ts';

const logs = readdirSync(LOGS_618)
  .filter((f) => /\.(bpftool|L2)\.log$/.test(f))
  .sort();

describe('replay with a BtfSummary from loadBtfFile', () => {
  test.each(logs.flatMap((f) => [[f, 'btf.txt'] as const, [f, 'bpf.o'] as const]))('%s with %s', async (file, ext) => {
    const loaded = await loadBtfFile(join(LOGS_618, `${programOf(file)}.${ext}`));
    const opts = loaded.dataLayout ? { dataLayout: loaded.dataLayout } : {};
    const summary = summarizeBtf(loaded.btf, opts);
    const { records, programs } = await parseFile(join(LOGS_618, file));
    for (const p of programs) {
      const r = replayProgram(
        records.filter((x) => x.program === p.index),
        { btf: summary, name: p.name },
      );
      expect(r.verdict).toBe(p.verdict);
      expect(r.failInsn).toBe(p.failInsn);
      expect(r.divergences).toEqual([]);
    }
  });
});
