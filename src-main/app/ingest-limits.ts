/**
 * Limits of one ingest that the environment may lower (tests) or raise (a user with a truly huge
 * veristat run and the memory for it): `KPTRSCOPE_MAX_PROGRAMS` (programs per file, default the
 * parser's MAX_PROGRAMS). Read by every LogParser an ingest creates (the main thread's and the
 * replay worker's), so both stop at the same line.
 */
import { MAX_PROGRAMS } from '../domain/log/log-parser.ts';

export function maxProgramsPerFile(): number {
  const v = Number(process.env.KPTRSCOPE_MAX_PROGRAMS);
  return Number.isInteger(v) && v > 0 ? v : MAX_PROGRAMS;
}
