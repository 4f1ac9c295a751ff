// The CLI's JSON output over every committed fixture is byte-identical to the recorded golden files
// (recorded with `npm run golden` before a behaviour-preserving change; see cases.ts).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GOLDEN_DIR, REPO, goldenCases, goldenText, runCase } from './cases.ts';

describe('golden CLI outputs', () => {
  const cases = goldenCases();
  it('covers every fixture log with ingest, replay and export, and the comparisons', () => {
    expect(cases.filter((c) => c.argv[0] === 'ingest').length).toBeGreaterThan(100);
    expect(cases.some((c) => c.argv[0] === 'compare')).toBe(true);
  });
  for (const c of cases) {
    it(c.id, async () => {
      const file = join(GOLDEN_DIR, c.id);
      expect(existsSync(file), `${c.id} has no golden file (record with npm run golden)`).toBe(true);
      const cwd = process.cwd();
      process.chdir(REPO);
      try {
        const r = await runCase(c);
        expect(goldenText(r)).toBe(readFileSync(file, 'utf8'));
      } finally {
        process.chdir(cwd);
      }
    });
  }
});
