/**
 * `npm run fidelity`: replays the whole selftests corpus (every release under test/corpus/, levels
 * 1 and 2) and writes docs/fidelity.md — per release × level × family: programs, verdict agreement,
 * false alarms, share of rejections found by the model's own rules at the kernel's failing
 * instruction, divergences — then every remaining miss with the kernel's message and what the model
 * said instead. The committed targets (test/corpus/fidelity-thresholds.json) are printed beside the
 * figures; `--check` exits 1 when a figure is below its threshold (test/corpus/fidelity.test.ts
 * asserts the same in CI).
 *
 * Usage: npm run fidelity [-- --release 6.18] [--out docs/fidelity.md] [--check]
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { corpusReleases, figures, measureCorpus, type Figures, type Row } from './measure.ts';
import { checkThresholds, loadThresholds } from './thresholds.ts';

const argv = process.argv.slice(2);
const opt = (name: string): string | undefined => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const releases = opt('--release') ? [opt('--release') as string] : corpusReleases();
const out = opt('--out') ?? join(import.meta.dirname, '..', '..', 'docs', 'fidelity.md');
const levels = ['L2', 'L1'] as const;

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const row = (name: string, f: Figures) =>
  `| ${name} | ${f.programs} | ${f.accepted} | ${f.rejected} | ${pct(f.verdictAgreement)} | ${f.falseAlarms} | ${f.ownRulesAtInsn}/${f.rejected} (${pct(f.ownRulesShare)}) | ${f.divergences} |`;
const HEAD = '| family | programs | accepted | rejected | verdict agreement | false alarms | own rules at the kernel\'s insn | divergences |\n|---|---:|---:|---:|---:|---:|---:|---:|';
const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\s+/g, ' ').slice(0, 240);

const thresholds = loadThresholds();
const md: string[] = [
  '# Model fidelity on the kernel\'s own selftests',
  '',
  'Written by `npm run fidelity` (scripts/fidelity/report.ts) from the committed corpus (test/corpus/, built',
  'by `npm run corpus`): every program is ingested and replayed exactly as a user\'s log would be and compared',
  'with what the kernel decided. *Own rules at the kernel\'s insn*: the kernel rejected the program and the',
  'model rejected it with one of its own rules (not `outside-model`) at the kernel\'s failing instruction.',
  'Targets per release: verdict agreement 100%, 0 false alarms, ≥ 95% own rules, 0 divergences. The floors',
  'the tests enforce today are in test/corpus/fidelity-thresholds.json (raised as rules land, never lowered).',
  '',
];
const failures: string[] = [];
for (const release of releases) {
  for (const level of levels) {
    const { rows, notJudged } = await measureCorpus(release, { level });
    const all = figures(rows);
    failures.push(...checkThresholds(thresholds, release, level, rows));
    md.push(`## ${release}, ${level === 'L1' ? 'log level 1' : 'log level 2'}`, '');
    md.push(HEAD, row('**all**', all));
    const families = [...new Set(rows.map((r) => r.family))].sort();
    for (const fam of families) md.push(row(fam, figures(rows.filter((r) => r.family === fam))));
    md.push('', `Not judged (never reached the verifier: load-failed, or no log): ${notJudged.length}.`, '');
    const misses = rows.filter((r) => r.kernel === 'rejected' && !r.ownRulesAtInsn);
    const wrong = rows.filter((r) => r.falseAlarm || !r.verdictAgrees || r.divergences > 0);
    if (wrong.length > 0) {
      md.push('### Disagreements', '', '| family | program | kernel | read | model | divergences | first |', '|---|---|---|---|---|---:|---|');
      for (const r of wrong) md.push(`| ${r.family} | ${r.program} | ${r.kernel} | ${r.read} | ${r.model} | ${r.divergences} | ${cell(r.firstDivergence ?? '')} |`);
      md.push('');
    }
    md.push(`### Rejections not found by own rules at the kernel's instruction (${misses.length})`, '');
    if (misses.length > 0) {
      md.push('| family | program | kernel insn | kernel message | model | why |', '|---|---|---:|---|---|---|');
      for (const r of misses) md.push(`| ${r.family} | ${r.program} | ${r.kernelFailInsn ?? '—'} | ${cell(r.kernelMessage)} | ${r.findingKind ?? r.model}${r.modelFailInsn !== null ? ` @${r.modelFailInsn}` : ''} | ${cell(missReason(r))} |`);
      md.push('');
    }
    console.log(`${release} ${level}`, JSON.stringify(all));
  }
}
writeFileSync(out, md.join('\n'));
console.log(`wrote ${out}`);
if (failures.length > 0) {
  console.error(failures.join('\n'));
  if (argv.includes('--check')) process.exit(1);
}

function missReason(r: Row): string {
  if (r.model === 'accepted') return 'the model accepted it';
  if (r.findingKind === 'outside-model') return 'no rule of the model covers this error';
  return `found as ${r.findingKind} at insn ${r.modelFailInsn}: ${r.explanation ?? ''}`;
}
