/**
 * The committed fidelity floors (test/corpus/fidelity-thresholds.json): per release, log level and
 * family, the least share of rejections the model's own rules must find at the kernel's failing
 * instruction; for every release and level, verdict agreement 100%, and no false alarm and no
 * divergence — unless the file gives that release and level a ceiling (`ceilings`: the most false
 * alarms and divergences still allowed while the model catches up with a new release; lowered as
 * rules land, never raised).
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
  /** release → level → the most false alarms / divergences allowed (absent: none). */
  ceilings?: Record<string, Record<string, { falseAlarms: number; divergences: number }>>;
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
  const ceiling = t.ceilings?.[release]?.[level] ?? { falseAlarms: 0, divergences: 0 };
  if (all.falseAlarms > ceiling.falseAlarms) out.push(`${where}: ${all.falseAlarms} false alarm(s) (at most ${ceiling.falseAlarms}): ${rows.filter((r) => r.falseAlarm).map((r) => `${r.family}/${r.program}`).join(', ')}`);
  if (all.divergences > ceiling.divergences) out.push(`${where}: ${all.divergences} divergence(s) (at most ${ceiling.divergences}) in ${rows.filter((r) => r.divergences > 0).map((r) => `${r.family}/${r.program}`).join(', ')}`);
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
