/**
 * Parses the verifier's register/stack state text into structured values.
 *
 * Input: the text of a full state line after `N: `, a `from X to Y:` snapshot, an indented call-block
 * state, or a compact suffix after `;` — e.g. `frame1: R1=ptr_task_node(ref_obj_id=2,off=8) R10=fp0
 * fp-8=0000???? refs=2,4 cb`. Covers kernels 5.10–6.18 spellings (`inv`, `_w` liveness marks, long and
 * short attribute names, `=`-chained bounds, hex numbers, spilled registers in slots).
 * Never throws: anything it cannot read is kept in `unparsed` (and the raw value text is always kept).
 */
import { isDigit, parseAttrs, parseSlotValue, parseValue, splitTopLevel, type RegValue } from './reg-value.ts';

export * from './reg-value.ts';

export interface RegEntry {
  reg: number;
  /** Liveness marks (`r`, `w`, `D`) on kernels that print them (≤ 6.17). */
  live?: string;
  value: RegValue;
}

export interface SlotEntry {
  /** Offset from the frame pointer (negative), e.g. -8. */
  off: number;
  live?: string;
  value: RegValue;
}

export interface ParsedState {
  /** Frame number when the state is printed with `frameK:` (otherwise 0 / current frame). */
  frame?: number;
  regs: RegEntry[];
  stack: SlotEntry[];
  /** Reference ids of `refs=`; undefined when no `refs=` item was printed (never means "no refs"). */
  refs?: number[];
  cb: boolean;
  asyncCb: boolean;
  /** Items that are not register, slot, refs or flags. */
  unparsed: string[];
}

const REG_ITEM_RE = /^R(10|[0-9])(?:_([rwD]+))?=(.*)$/;
const SLOT_ITEM_RE = /^fp(-?\d+)(?:_([rwD]+))?=(.*)$/;

/**
 * Optional memo for `parseState`: value text → parsed value (the same object is handed out for
 * every occurrence, so callers sharing a cache must treat values as read-only). Each map is
 * cleared once it holds `VALUE_CACHE_MAX` entries.
 */
export interface ValueCache {
  regs: Map<string, RegValue>;
  slots: Map<string, RegValue>;
}

export const VALUE_CACHE_MAX = 8192;

export function newValueCache(): ValueCache {
  return { regs: new Map(), slots: new Map() };
}

function cachedValue(cache: ValueCache | undefined, raw: string, slot: boolean): RegValue {
  if (cache === undefined) return slot ? parseSlotValue(raw) : parseValue(raw);
  // Decimal constants are mostly distinct (counters): read them directly instead of churning the
  // cache (what parseValue returns for `-?\d+`).
  if (!slot && isDecimal(raw)) return { kind: 'const', value: raw, precise: false, raw };
  // Register and slot spellings parse differently (`00000000`): separate maps.
  const m = slot ? cache.slots : cache.regs;
  let v = m.get(raw);
  if (v === undefined) {
    v = slot ? parseSlotValue(raw) : (scalarValue(raw) ?? parseValue(raw));
    if (m.size >= VALUE_CACHE_MAX) m.clear();
    m.set(raw, v);
  }
  return v;
}

/** Items that are not register or slot items (refs, flags, frame, anything else). */
function otherItem(state: ParsedState, item: string): void {
  let m: RegExpExecArray | null;
  if (item.startsWith('refs=')) {
    state.refs = item
      .slice(5)
      .split(',')
      .filter((s) => s !== '')
      .map(Number);
  } else if (item === 'cb') {
    state.cb = true;
  } else if (item === 'async_cb') {
    state.asyncCb = true;
  } else if ((m = /^frame([0-9]):$/.exec(item))) {
    state.frame = Number(m[1]);
  } else {
    state.unparsed.push(item);
  }
}

/**
 * What parseValue returns for `scalar(<attrs>)` without line terminators (the common unknown
 * scalar), read directly; undefined for anything else.
 */
function scalarValue(raw: string): RegValue | undefined {
  const n = raw.length;
  if (n < 8 || !raw.startsWith('scalar(') || raw.charCodeAt(n - 1) !== 41 /* ) */) return undefined;
  for (let i = 7; i < n; i++) {
    const c = raw.charCodeAt(i);
    if (c === 10 || c === 13 || c === 0x2028 || c === 0x2029) return undefined;
  }
  return { kind: 'typed', type: 'scalar', base: 'scalar', flags: [], maybeNull: false, precise: false, attrs: parseAttrs(raw.slice(7, n - 1)), raw };
}

/** `/^-?\d+$/` */
function isDecimal(t: string): boolean {
  const n = t.length;
  let i = n > 0 && t.charCodeAt(0) === 45 ? 1 : 0;
  if (i >= n) return false;
  for (; i < n; i++) if (!isDigit(t.charCodeAt(i))) return false;
  return true;
}

function isLive(c: number): boolean {
  return c === 114 /* r */ || c === 119 /* w */ || c === 68 /* D */;
}

/**
 * One top-level item `t[s, e)`: `R<n>[_<live>]=<value>`, `fp<off>[_<live>]=<value>` (the shapes of
 * REG_ITEM_RE / SLOT_ITEM_RE, read without a regex) or anything else.
 */
function readItem(state: ParsedState, t: string, s: number, e: number, cache: ValueCache | undefined): void {
  const c0 = t.charCodeAt(s);
  let j = -1;
  let slot = false;
  if (c0 === 82 /* R */) j = s + 1;
  else if (c0 === 102 /* f */ && t.charCodeAt(s + 1) === 112 /* p */ && s + 1 < e) {
    j = s + 2;
    slot = true;
    if (j < e && t.charCodeAt(j) === 45 /* - */) j++;
  }
  if (j >= 0) {
    const numStart = slot ? s + 2 : s + 1;
    const digits = j;
    while (j < e && isDigit(t.charCodeAt(j))) j++;
    if (j > digits) {
      const numEnd = j;
      let live: string | undefined;
      let ok = true;
      if (j < e && t.charCodeAt(j) === 95 /* _ */) {
        const ls = j + 1;
        j = ls;
        while (j < e && isLive(t.charCodeAt(j))) j++;
        if (j === ls) ok = false;
        else live = t.slice(ls, j);
      }
      // R0–R10 exist (BPF_REG_FP = 10); a larger register number is not a register item.
      if (!slot && (numEnd - digits > 2 || smallInt(t, numStart, numEnd) > 10)) ok = false;
      if (ok && j < e && t.charCodeAt(j) === 61 /* = */) {
        const raw = t.slice(j + 1, e);
        const n = numEnd - digits <= 15 ? smallInt(t, numStart, numEnd) : Number(t.slice(numStart, numEnd));
        if (slot) {
          const se: SlotEntry = { off: n, value: cachedValue(cache, raw, true) };
          if (live) se.live = live;
          state.stack.push(se);
        } else {
          const re: RegEntry = { reg: n, value: cachedValue(cache, raw, false) };
          if (live) re.live = live;
          state.regs.push(re);
        }
        return;
      }
    }
  }
  if (c0 === 114 /* r */ && t.startsWith('refs=', s) && readRefs(state, t, s + 5, e)) return;
  otherItem(state, t.slice(s, e));
}

/** `Number(t.slice(s, e))` for an optional `-` and at most 15 digits. */
function smallInt(t: string, s: number, e: number): number {
  const neg = t.charCodeAt(s) === 45;
  let v = 0;
  for (let i = neg ? s + 1 : s; i < e; i++) v = v * 10 + (t.charCodeAt(i) - 48);
  return neg ? -v : v;
}

/** `refs=` list of plain decimal ids (what `otherItem` would read); false for anything else. */
function readRefs(state: ParsedState, t: string, s: number, e: number): boolean {
  const ids: number[] = [];
  let start = s;
  for (let i = s; i <= e; i++) {
    const c = i < e ? t.charCodeAt(i) : 44;
    if (c === 44 /* , */) {
      if (i > start) {
        if (i - start > 15) return false;
        ids.push(smallInt(t, start, i));
      }
      start = i + 1;
    } else if (!isDigit(c)) return false;
  }
  state.refs = ids;
  return true;
}

/** Characters `.` does not match: texts holding them take the regex path. */
const LINE_BREAKS = /[\n\r\u2028\u2029]/;

/** Parse a state text (see module comment). With `cache`, equal value texts share one parsed value. */
export function parseState(text: string, cache?: ValueCache): ParsedState {
  return referencesById(parseItems(text, cache));
}

function parseItems(text: string, cache?: ValueCache): ParsedState {
  const state: ParsedState = { regs: [], stack: [], cb: false, asyncCb: false, unparsed: [] };
  const t = text.trim();
  if (LINE_BREAKS.test(t)) return parseItemsSlow(state, t, cache);
  // splitTopLevel(t, ' ') without the intermediate array.
  const n = t.length;
  let depth = 0;
  let start = 0;
  for (let i = 0; i < n; i++) {
    const c = t.charCodeAt(i);
    if (c === 40 /* ( */) depth++;
    else if (c === 41 /* ) */) {
      if (depth > 0) depth--;
    } else if (c === 32 && depth === 0) {
      if (i > start) readItem(state, t, start, i, cache);
      start = i + 1;
    }
  }
  if (start < n) readItem(state, t, start, n, cache);
  return state;
}

function parseItemsSlow(state: ParsedState, t: string, cache: ValueCache | undefined): ParsedState {
  for (const item of splitTopLevel(t, ' ')) {
    let m: RegExpExecArray | null;
    if ((m = REG_ITEM_RE.exec(item))) {
      const e: RegEntry = { reg: Number(m[1]), value: cachedValue(cache, m[3] ?? '', false) };
      if (m[2]) e.live = m[2];
      state.regs.push(e);
    } else if ((m = SLOT_ITEM_RE.exec(item))) {
      const e: SlotEntry = { off: Number(m[1]), value: cachedValue(cache, m[3] ?? '', true) };
      if (m[2]) e.live = m[2];
      state.stack.push(e);
    } else otherItem(state, item);
  }
  return state;
}

/** Base types that carry an `id` without being a reference: map values (the id of a held lock, or of
 * a lookup), contexts, packets, scalars, stack pointers. */
const NOT_REFERENCED = /^(?:map_value|map_ptr|map_key|ctx|pkt|pkt_meta|pkt_end|flow_keys|scalar|fp|func|insn|buf|dynptr_ptr)$/;

/**
 * Linux 7.x prints no `ref_obj_id=`: a pointer holds reference N when it prints `id=N` and N is in
 * the state's `refs=` (log.c; `refs=` also lists lock and IRQ ids, which no such pointer carries).
 * The value then gets `refObjId = N`, as 6.x printed it, so every reader sees one spelling. Values
 * are shared through the parse cache, so a changed value is a copy.
 */
function referencesById(state: ParsedState): ParsedState {
  const refs = state.refs;
  if (!refs || refs.length === 0) return state;
  return withReferencesById(state, refs);
}

/** The state with every pointer whose `id=` is one of `refs` read as holding that reference (a copy
 * of each changed value). Also used with the model's own reference ids when the kernel hid `refs=`. */
export function withReferencesById(state: ParsedState, refs: readonly number[]): ParsedState {
  const adopt = (v: RegValue): RegValue | null => {
    if (v.kind !== 'typed' || v.attrs.refObjId !== undefined || v.attrs.id === undefined || v.attrs.nonOwnRef) return null;
    // Iterators, IRQ flags and dynptrs on the stack carry an id the kernel keeps among the references
    // too (7.3), but a slot holding one is not a pointer holding a reference.
    if (NOT_REFERENCED.test(v.base) || /^(?:iter_|irq|dynptr)/.test(v.type) || !refs.includes(v.attrs.id)) return null;
    return { ...v, attrs: { ...v.attrs, refObjId: v.attrs.id, refFromId: true } };
  };
  for (const r of state.regs) {
    const v = adopt(r.value);
    if (v) r.value = v;
  }
  for (const sl of state.stack) {
    const sp = sl.value.kind === 'slot' ? sl.value.spilled : undefined;
    const v = sp ? adopt(sp) : adopt(sl.value);
    if (!v) continue;
    sl.value = sl.value.kind === 'slot' ? { ...sl.value, spilled: v } : v;
  }
  return state;
}
