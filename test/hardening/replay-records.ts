/**
 * Child-process helper for model-bugs.test.ts: replays the LogRecord[] given as JSON in argv[2]
 * (one program) with the Replayer and prints a one-line summary. A hang or a V8 abort then fails
 * the test instead of taking the test runner down.
 */
import { Replayer } from '../../src-main/domain/model/index.ts';
import type { LogRecord } from '../../src-main/domain/log/records.ts';

const records = JSON.parse(process.argv[2] ?? '[]') as LogRecord[];
const rp = new Replayer({});
for (const r of records) rp.push(r);
const res = rp.finish();
process.stdout.write(`${JSON.stringify({ verdict: res.verdict, divergences: res.divergences.length, steps: res.steps.length })}\n`);
