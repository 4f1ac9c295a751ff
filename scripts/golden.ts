// Records the golden CLI outputs (test/golden/cases.ts) into test/golden/expected/: run before a change
// that must keep behaviour, then `vitest run test/golden` compares. Usage: npm run golden
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { GOLDEN_DIR, REPO, goldenCases, goldenText, runCase } from '../test/golden/cases.ts';

process.chdir(REPO);
const cases = goldenCases();
let failed = 0;
for (const c of cases) {
  const r = await runCase(c);
  if (r.status !== 0) {
    failed++;
    process.stderr.write(`golden: ${c.id}: exit ${r.status}: ${r.stderr.trim()}\n`);
  }
  const file = join(GOLDEN_DIR, c.id);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, goldenText(r));
}
process.stdout.write(`golden: ${cases.length} cases recorded in ${GOLDEN_DIR}${failed ? ` (${failed} exited non-zero)` : ''}\n`);
