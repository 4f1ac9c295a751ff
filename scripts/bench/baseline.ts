/**
 * Bench baseline: Node reading the file line by line (readline) and testing one regex per line.
 * Prints one JSON line: {"seconds","lines","matches","maxRssMB"}.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';

const file = process.argv[2];
if (!file) throw new Error('usage: baseline.ts FILE');
const re = /^(\d+): \(([0-9a-f]{2})\) (.*)$/;
const t0 = process.hrtime.bigint();
let lines = 0;
let matches = 0;
const rl = createInterface({ input: createReadStream(file, { highWaterMark: 1 << 20 }), crlfDelay: Infinity });
for await (const line of rl) {
  lines++;
  if (re.test(line)) matches++;
}
const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
process.stdout.write(JSON.stringify({ seconds, lines, matches, maxRssMB: process.resourceUsage().maxRSS / 1024 }) + '\n');
