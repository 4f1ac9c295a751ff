/**
 * The committed fidelity floors (test/corpus/fidelity-thresholds.json): per release, log level and
 * family, the least share of rejections the model's own rules must find at the kernel's failing
 * instruction; for every release and level, verdict agreement 100%, no false alarm, no divergence.
 *
 * Contract: `checkThresholds(t, release, level, rows)` returns one sentence per figure below its
 * floor (empty: all met). A family the file does not name must meet `default`. Floors are raised as
 * rules land and never lowered (test/corpus/fidelity.test.ts keeps the file's history honest by
 * asserting the figures, not the file).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { figures, type Row } from './measure.ts';

export interface Thresholds {
  /** release → level → family (or `all`, `default`) → least ownRulesShare. */
  ownRules: Record<string, Record<string, Record<string, number>>>;
}

export const THRESHOLDS_FILE = join(import.meta.dirname, '..', '..', 'test', 'corpus', 'fidelity-thresholds.json');

export function loadThresholds(file = THRESHOLDS_FILE): Thresholds {
  return JSON.parse(readFileSync(file, 'utf8')) as Thresholds;
}

export function checkThresholds(t: Thresholds, release: string, level: string, rows: readonly Row[]): string[] {
  const out: string[] = [];
  const where = `${release} ${level}`;
  const all = figures(rows);
  if (all.verdictAgreement < 1) out.push(`${where}: verdict agreement ${all.verdictAgreement} < 100% (${rows.filter((r) => !r.verdictAgrees).map((r) => `${r.family}/${r.program}`).join(', ')})`);
  if (all.falseAlarms > 0) out.push(`${where}: ${all.falseAlarms} false alarm(s): ${rows.filter((r) => r.falseAlarm).map((r) => `${r.family}/${r.program}`).join(', ')}`);
  if (all.divergences > 0) out.push(`${where}: ${all.divergences} divergence(s) in ${rows.filter((r) => r.divergences > 0).map((r) => `${r.family}/${r.program}`).join(', ')}`);
  const floors = t.ownRules[release]?.[level];
  if (!floors) return [...out, `${where}: no floors in ${THRESHOLDS_FILE}`];
  const check = (name: string, share: number, floor: number | undefined) => {
    if (floor !== undefined && share + 1e-9 < floor) out.push(`${where} ${name}: own rules at the kernel's insn ${(share * 100).toFixed(1)}% < floor ${(floor * 100).toFixed(1)}%`);
  };
  check('all', all.ownRulesShare, floors.all);
  for (const fam of new Set(rows.map((r) => r.family))) {
    check(fam, figures(rows.filter((r) => r.family === fam)).ownRulesShare, floors[fam] ?? floors.default);
  }
  return out;
}
