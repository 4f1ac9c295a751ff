/**
 * Parses the verifier's register/stack state text into structured values.
 *
 * Input: the text of a full state line after `N: `, a `from X to Y:` snapshot, an indented call-block
 * state, or a compact suffix after `;` — e.g. `frame1: R1=ptr_task_node(ref_obj_id=2,off=8) R10=fp0
 * fp-8=0000???? refs=2,4 cb`. Covers kernels 5.10–6.18 spellings (`inv`, `_w` liveness marks, long and
 * short attribute names, `=`-chained bounds, hex numbers, spilled registers in slots).
 * Never throws: anything it cannot read is kept in `unparsed` (and the raw value text is always kept).
 */

export interface RegValueScalarConst {
  kind: 'const';
  /** Decimal string of the constant (kept as text: may exceed 2^53). */
  value: string;
  precise: boolean;
}

export interface RegValueFp {
  kind: 'fp';
  off: number;
  /** Frame number for `fp[1]-8` (6.8+), undefined for the current frame. */
  frame?: number;
}

export interface PtrAttrs {
  id?: number;
  /** Linked-scalar delta for `id=3+4` (6.10+). */
  idDelta?: number;
  refObjId?: number;
  nonOwnRef?: boolean;
  off?: number;
  map?: string;
  ks?: number;
  vs?: number;
  r?: number;
  sz?: number;
  imm?: string;
  /** Bounds and any other key=value attribute, by their printed names. */
  other: Record<string, string>;
}

export interface RegValueTyped {
  kind: 'typed';
  /** Printed type without attributes, e.g. `rcu_ptr_or_null_task_struct`. */
  type: string;
  /** Base type: `scalar`, `ctx`, `map_value`, `ptr` (PTR_TO_BTF_ID), `mem`, `pkt`, `dynptr_ptr`, ... */
  base: string;
  /** BTF struct name for `ptr_<T>` types. */
  btfType?: string;
  /** Prefix flags: rdonly, ringbuf, user, percpu, rcu, untrusted, trusted, alloc (6.1). */
  flags: string[];
  maybeNull: boolean;
  precise: boolean;
  attrs: PtrAttrs;
}

/** Raw stack-slot bytes (`0000????`, `mmmmmmmm`), optionally followed by a spilled register value. */
export interface RegValueSlot {
  kind: 'slot';
  bytes: string;
  spilled?: RegValue;
}

export interface RegValueUnparsed {
  kind: 'unparsed';
}

export type RegValue = (RegValueScalarConst | RegValueFp | RegValueTyped | RegValueSlot | RegValueUnparsed) & {
  /** The value text exactly as printed. */
  raw: string;
};

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

const TYPE_PREFIXES = ['rdonly_', 'ringbuf_', 'user_', 'percpu_', 'rcu_', 'untrusted_', 'trusted_', 'alloc_'];

/** Split on spaces that are not inside parentheses. */
export function splitTopLevel(text: string, sep: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 40 /* ( */) depth++;
    else if (c === 41 /* ) */) depth = Math.max(0, depth - 1);
    else if (depth === 0 && text[i] === sep) {
      if (i > start) out.push(text.slice(start, i));
      start = i + 1;
    }
  }
  if (start < text.length) out.push(text.slice(start));
  return out;
}

const NUM_RE = /^-?(?:\d+|0x[0-9a-fA-F]+)$/;

/**
 * Hex numbers longer than this are not converted: the kernel prints at most 64-bit values, and
 * BigInt's decimal conversion of a crafted multi-megabyte hex number takes seconds.
 */
const MAX_HEX_DIGITS = 64;

/** Decimal text of a NUM_RE number; undefined for a hex number longer than MAX_HEX_DIGITS. */
function toDecimal(num: string): string | undefined {
  if (num.startsWith('0x') || num.startsWith('-0x')) {
    const neg = num.startsWith('-');
    if (num.length - (neg ? 3 : 2) > MAX_HEX_DIGITS) return undefined;
    const v = BigInt(neg ? num.slice(1) : num);
    return (neg ? -v : v).toString();
  }
  return num;
}

function parseIntAttr(v: string): number | undefined {
  if (!NUM_RE.test(v)) return undefined;
  const d = toDecimal(v);
  if (d === undefined) return undefined;
  const n = Number(d);
  return Number.isFinite(n) ? n : undefined;
}

function parseAttrs(inner: string): PtrAttrs {
  const attrs: PtrAttrs = { other: {} };
  if (inner === '') return attrs;
  for (const item of splitTopLevel(inner, ',')) {
    const eq = item.indexOf('=');
    if (eq < 0) {
      if (item === 'non_own_ref') attrs.nonOwnRef = true;
      else attrs.other[item] = '';
      continue;
    }
    // `smin=smin32=-128`: every name in the chain gets the last value.
    const parts = item.split('=');
    const value = parts[parts.length - 1] ?? '';
    for (const key of parts.slice(0, -1)) {
      switch (key) {
        case 'id': {
          const m = /^(\d+)(?:\+(\d+))?$/.exec(value);
          if (m) {
            attrs.id = Number(m[1]);
            if (m[2] !== undefined) attrs.idDelta = Number(m[2]);
          } else attrs.other[key] = value;
          break;
        }
        case 'ref_obj_id': {
          const n = parseIntAttr(value);
          if (n !== undefined) attrs.refObjId = n;
          else attrs.other[key] = value;
          break;
        }
        case 'off':
        case 'ks':
        case 'vs':
        case 'r':
        case 'sz': {
          const n = parseIntAttr(value);
          if (n !== undefined) attrs[key] = n;
          else attrs.other[key] = value;
          break;
        }
        case 'map':
          attrs.map = value;
          break;
        case 'imm':
          attrs.imm = value;
          break;
        default:
          attrs.other[key] = value;
      }
    }
  }
  return attrs;
}

function parseTypeName(typeText: string): Pick<RegValueTyped, 'base' | 'btfType' | 'flags' | 'maybeNull'> {
  let rest = typeText;
  const flags: string[] = [];
  let progress = true;
  while (progress) {
    progress = false;
    for (const p of TYPE_PREFIXES) {
      if (rest.startsWith(p) && rest.length > p.length) {
        flags.push(p.slice(0, -1));
        rest = rest.slice(p.length);
        progress = true;
      }
    }
  }
  let maybeNull = false;
  if (rest.startsWith('ptr_')) {
    let t = rest.slice(4);
    if (t.startsWith('or_null_')) {
      maybeNull = true;
      t = t.slice(8);
    }
    return { base: 'ptr', btfType: t, flags, maybeNull };
  }
  if (rest.endsWith('_or_null')) {
    maybeNull = true;
    rest = rest.slice(0, -8);
  }
  // 5.10-5.17: `percpu_ptr_<T>` handled above via prefix; `inv` is an old spelling of scalar.
  if (rest === 'inv') rest = 'scalar';
  return { base: rest, flags, maybeNull };
}

/** Nested slot values (slot bytes whose spilled value starts with slot bytes again) kept as values. */
export const MAX_SLOT_NESTING = 16;

/** Slot-type characters (`[0-9mrd?ifx]`), by char code. */
const SLOT_CHAR = new Uint8Array(128);
for (const ch of '0123456789mrd?ifx') SLOT_CHAR[ch.charCodeAt(0)] = 1;

/**
 * Parse one value text (a register's value, a slot's bytes, a spilled value).
 *
 * A slot's spilled value is itself a value that may start with slot bytes, so values nest. The
 * nesting is read with a loop, not recursion, and every scan remembers how far it got (a run of
 * digits, letters or slot characters found at offset k also covers offsets k+1…), so a crafted
 * multi-megabyte value is read in linear time and cannot overflow the stack.
 */
export function parseValue(raw: string): RegValue {
  const n = raw.length;
  // Ends of the last run found by each scan; offsets only grow, so each char is scanned once.
  let digS = -1;
  let digE = -1;
  let hexS = -1;
  let hexE = -1;
  let letS = -1;
  let letE = -1;
  let slotS = -1;
  let slotE = -1;
  const runEnd = (k: number, s: number, e: number, ok: (c: number) => boolean): number => {
    if (k >= s && k < e) return e;
    let j = k;
    while (j < n && ok(raw.charCodeAt(j))) j++;
    return j;
  };
  const digitsEnd = (k: number): number => {
    const e = runEnd(k, digS, digE, isDigit);
    [digS, digE] = [k, e];
    return e;
  };
  const hexEnd = (k: number): number => {
    const e = runEnd(k, hexS, hexE, isHexDigit);
    [hexS, hexE] = [k, e];
    return e;
  };
  const lettersEnd = (k: number): number => {
    const e = runEnd(k, letS, letE, isLowerOrUnderscore);
    [letS, letE] = [k, e];
    return e;
  };
  const slotCharsEnd = (k: number): number => {
    const e = runEnd(k, slotS, slotE, isSlotChar);
    [slotS, slotE] = [k, e];
    return e;
  };
  /** NUM_RE.test(raw.slice(k)) */
  const isNum = (k: number): boolean => {
    const j = raw.charCodeAt(k) === 45 /* - */ ? k + 1 : k;
    const d = digitsEnd(j);
    if (d > j && d === n) return true;
    return raw.startsWith('0x', j) && j + 2 < n && hexEnd(j + 2) === n;
  };
  // `.` does not match line terminators: `.*$` from k holds iff none is at or after k.
  let lastTerminator = -1;
  for (let i = n - 1; i >= 0; i--) {
    const c = raw.charCodeAt(i);
    if (c === 10 || c === 13 || c === 0x2028 || c === 0x2029) {
      lastTerminator = i;
      break;
    }
  }

  let head: RegValue | undefined;
  let parent: RegValueSlot | undefined;
  let k = 0;
  let depth = 0;
  for (;;) {
    const text = k === 0 ? raw : raw.slice(k);
    let v: RegValue;
    let next = -1;
    if (isNum(k)) {
      const value = toDecimal(text);
      v = value === undefined ? { kind: 'unparsed', raw: text } : { kind: 'const', value, precise: false, raw: text };
    } else if (raw.charCodeAt(k) === 80 /* P */ && k + 1 < n && isNum(k + 1)) {
      const value = toDecimal(text.slice(1));
      v = value === undefined ? { kind: 'unparsed', raw: text } : { kind: 'const', value, precise: true, raw: text };
    } else {
      const partialEnd = Math.min(slotCharsEnd(k), k + 7);
      if (k + 8 <= n && slotCharsEnd(k) >= k + 8 && !(lettersEnd(k) > k && raw.charCodeAt(lettersEnd(k)) === 40 /* ( */)) {
        // 8 slot-type characters: the slot's bytes, then (optionally) the spilled value.
        v = { kind: 'slot', bytes: text.slice(0, 8), raw: text };
        if (k + 8 < n) next = k + 8;
      } else if (raw.startsWith('inv', k) || raw.startsWith('fp', k) || partialEnd <= k) {
        v = parseLeaf(text);
      } else {
        // Stack slots may hold a spilled value printed after some non-spill bytes: `????scalar(...)`
        // (`^([0-9mrd?ifx]{1,7})([a-zP].*)$`, the longest byte prefix followed by a letter).
        let p = partialEnd;
        while (p > k && !isLowerOrP(raw.charCodeAt(p))) p--;
        const bytes = raw.slice(k, p);
        if (p > k && p < n && lastTerminator < p + 1 && /[?0]/.test(bytes)) {
          v = { kind: 'slot', bytes, spilled: undefined as unknown as RegValue, raw: text };
          next = p;
        } else {
          v = parseLeaf(text);
        }
      }
    }
    if (parent) parent.spilled = v;
    else head = v;
    if (next < 0) return head as RegValue;
    if (++depth === MAX_SLOT_NESTING) {
      // Real slots nest once (bytes, then a spilled register); a deeper chain is kept as text so
      // that code walking a value recursively (JSON, comparisons) never meets a 100k-deep one.
      (v as RegValueSlot).spilled = { kind: 'unparsed', raw: raw.slice(next) };
      return head as RegValue;
    }
    parent = v as RegValueSlot;
    k = next;
  }
}

function isHexDigit(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70);
}

function isLowerOrUnderscore(c: number): boolean {
  return (c >= 97 && c <= 122) || c === 95;
}

function isLowerOrP(c: number): boolean {
  return (c >= 97 && c <= 122) || c === 80;
}

function isSlotChar(c: number): boolean {
  return c < 128 && SLOT_CHAR[c] === 1;
}

/** A value that is neither a number nor stack-slot bytes (`inv…`, `fp-8`, a typed value). */
function parseLeaf(raw: string): RegValue {
  let text = raw;
  let precise = false;
  // ≤5.17: inv0, invP0, invP-1, inv, inv(id=0,...), invP(...)
  const inv = /^inv(P?)(-?\d+)?(?:\((.*)\))?$/.exec(text);
  if (inv) {
    const isPrecise = inv[1] === 'P';
    if (inv[2] !== undefined) return { kind: 'const', value: inv[2], precise: isPrecise, raw };
    return {
      kind: 'typed',
      type: 'scalar',
      base: 'scalar',
      flags: [],
      maybeNull: false,
      precise: isPrecise,
      attrs: parseAttrs(inv[3] ?? ''),
      raw,
    };
  }
  const fp = /^fp(?:\[(\d+)\])?(-?\d+)$/.exec(text);
  if (fp) {
    const v: RegValue = { kind: 'fp', off: Number(fp[2]), raw };
    if (fp[1] !== undefined) v.frame = Number(fp[1]);
    return v;
  }
  if (text.startsWith('P')) {
    precise = true;
    text = text.slice(1);
  }
  const m = /^([A-Za-z_][A-Za-z0-9_]*)(?:\((.*)\))?$/.exec(text);
  if (!m || m[1] === undefined) return { kind: 'unparsed', raw };
  const typeText = m[1];
  return { kind: 'typed', type: typeText, ...parseTypeName(typeText), precise, attrs: parseAttrs(m[2] ?? ''), raw };
}

/** A stack slot's value: 8 slot-type characters are bytes (`00000000` is not the number 0). */
export function parseSlotValue(raw: string): RegValue {
  if (/^[0-9mrd?ifx]{8}$/.test(raw)) return { kind: 'slot', bytes: raw, raw };
  return parseValue(raw);
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

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
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
