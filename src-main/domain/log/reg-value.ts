/**
 * One value of the verifier's register/stack state text, parsed: a constant, a frame pointer, a
 * typed pointer or scalar with its attributes (`id`, `ref_obj_id`, `off`, bounds, map…), a stack
 * slot's bytes or spilled register — e.g. `ptr_or_null_task_node(id=2,ref_obj_id=2,off=8)`.
 *
 * Contract: `parseValue(raw)` / `parseSlotValue(raw)` never throw: anything unreadable is
 * `unparsed`, and the raw text is always kept. Linear time on any input (hostile nesting is cut at
 * MAX_SLOT_NESTING). Covers kernels 5.10–7.3 spellings (`inv`, short and long attribute names,
 * `=`-chained bounds, hex numbers; 7.x `imm=` fixed offsets and `parent_id=`).
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
  /** The reference the pointer holds: `ref_obj_id=` (≤ 6.x), or its `id=` when the state's `refs=`
   * lists it (7.x; set by reg-state.ts). */
  refObjId?: number;
  /** Set when `refObjId` was read from `id=` and the state's `refs=` (7.x), not printed. */
  refFromId?: boolean;
  /** `parent_id=` (7.x): the reference this pointer was derived from. */
  parentId?: number;
  nonOwnRef?: boolean;
  /** Fixed byte offset of a pointer: `off=` plus a constant `imm=` (7.x prints only `imm=`). */
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

export function parseAttrs(inner: string): PtrAttrs {
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
        case 'parent_id': {
          const n = parseIntAttr(value);
          if (n !== undefined) attrs.parentId = n;
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
  const named = parseTypeName(typeText);
  const attrs = parseAttrs(m[2] ?? '');
  if (named.base !== 'scalar' && attrs.imm !== undefined) {
    // A pointer's constant offset: 7.x prints its fixed offset as `imm=` (it lives in var_off), 6.x
    // printed `off=` plus `imm=` for a constant var_off; the byte offset is their sum either way.
    const imm = parseIntAttr(attrs.imm);
    if (imm !== undefined) attrs.off = (attrs.off ?? 0) + imm;
  }
  return { kind: 'typed', type: typeText, ...named, precise, attrs, raw };
}

/** A stack slot's value: 8 slot-type characters are bytes (`00000000` is not the number 0). */
export function parseSlotValue(raw: string): RegValue {
  if (/^[0-9mrd?ifx]{8}$/.test(raw)) return { kind: 'slot', bytes: raw, raw };
  return parseValue(raw);
}

export function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}
