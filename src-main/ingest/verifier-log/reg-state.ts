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

function toDecimal(num: string): string {
  if (num.startsWith('0x') || num.startsWith('-0x')) {
    const neg = num.startsWith('-');
    const v = BigInt(neg ? num.slice(1) : num);
    return (neg ? -v : v).toString();
  }
  return num;
}

function parseIntAttr(v: string): number | undefined {
  if (!NUM_RE.test(v)) return undefined;
  const n = Number(toDecimal(v));
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

const SLOT_BYTES_RE = /^[0-9mrd?ifx]{8}/;

export function parseValue(raw: string): RegValue {
  let text = raw;
  let precise = false;
  if (NUM_RE.test(text)) return { kind: 'const', value: toDecimal(text), precise: false, raw };
  if (text.startsWith('P') && NUM_RE.test(text.slice(1))) {
    return { kind: 'const', value: toDecimal(text.slice(1)), precise: true, raw };
  }
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
  if (SLOT_BYTES_RE.test(text) && !/^[a-z_]+\(/.test(text)) {
    const bytes = text.slice(0, 8);
    const rest = text.slice(8);
    const v: RegValue = { kind: 'slot', bytes, raw };
    if (rest !== '') v.spilled = parseValue(rest);
    return v;
  }
  // Stack slots may hold a spilled value printed after some non-spill bytes: `????scalar(...)`.
  const partial = /^([0-9mrd?ifx]{1,7})([a-zP].*)$/.exec(text);
  if (partial && partial[1] !== undefined && partial[2] !== undefined && /[?0]/.test(partial[1])) {
    return { kind: 'slot', bytes: partial[1], spilled: parseValue(partial[2]), raw };
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

const REG_ITEM_RE = /^R(\d+)(?:_([rwD]+))?=(.*)$/;
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
  // Constants are cheap to read and mostly distinct (counters): caching them only churns the cache.
  const c0 = raw.charCodeAt(0);
  if (!slot && ((c0 >= 48 && c0 <= 57) || c0 === 45)) return parseValue(raw);
  // Register and slot spellings parse differently (`00000000`): separate maps.
  const m = slot ? cache.slots : cache.regs;
  let v = m.get(raw);
  if (v === undefined) {
    v = slot ? parseSlotValue(raw) : parseValue(raw);
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
  } else if ((m = /^frame(\d+):$/.exec(item))) {
    state.frame = Number(m[1]);
  } else {
    state.unparsed.push(item);
  }
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
