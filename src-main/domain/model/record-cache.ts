/**
 * What the path walk reads from the log's text, parsed once: printed states and decoded
 * instructions. Loops print the same registers and the same instruction again and again, so the
 * last parse at each instruction index is re-used while its text is the same.
 *
 * Contract: parsed states and decoded instructions are read-only (they are handed out again);
 * per-insn caches cover instruction indices below MAX_INSN; value texts are shared through one
 * bounded ValueCache (reg-state.ts).
 */
import { newValueCache, parseState, type ParsedState, type ValueCache } from '../log/reg-state.ts';
import { decodeInsn, type Insn } from './insn.ts';

/** Per-insn caches cover insn indices below this. */
const MAX_INSN = 1 << 20;

interface LastParse {
  text: string;
  parsed: ParsedState;
}

export class RecordCache {
  /** Parsed value texts (shared, read-only RegValues; bounded by parseState). */
  private readonly values: ValueCache = newValueCache();
  /** Last parsed compact suffix / `N: <state>` delta per insn. */
  private readonly lastSuffix: LastParse[] = [];
  private readonly lastDelta: LastParse[] = [];
  /** Last decoded instruction per insn index. */
  private readonly decoded: ({ opcode: string; asm: string; op: Insn } | undefined)[] = [];

  /** A full printed state (branch snapshot, `N: <state>` restart, call block). */
  state(text: string): ParsedState {
    return parseState(text, this.values);
  }

  /** The compact suffix printed after instruction `insn`. */
  suffix(insn: number, text: string): ParsedState {
    return this.at(this.lastSuffix, insn, text);
  }

  /** A `N: <state>` line printed mid-path at `insn` (a delta of the scratched registers). */
  delta(insn: number, text: string): ParsedState {
    return this.at(this.lastDelta, insn, text);
  }

  insn(insn: number, opcode: string, asm: string): Insn {
    const d = insn >= 0 && insn < MAX_INSN ? this.decoded[insn] : undefined;
    if (d !== undefined && d.asm === asm && d.opcode === opcode) return d.op;
    const op = decodeInsn(insn, opcode, asm);
    if (insn >= 0 && insn < MAX_INSN) this.decoded[insn] = { opcode, asm, op };
    return op;
  }

  private at(cache: LastParse[], insn: number, text: string): ParsedState {
    if (insn < 0 || insn >= MAX_INSN) return parseState(text, this.values);
    const c = cache[insn];
    if (c !== undefined && c.text === text) return c.parsed;
    const parsed = parseState(text, this.values);
    if (c !== undefined) {
      c.text = text;
      c.parsed = parsed;
    } else cache[insn] = { text, parsed };
    return parsed;
  }
}
