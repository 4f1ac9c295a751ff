// Contract: parse the raw text of `bpftool btf dump file X` (format raw, the default)
// into a Btf. Streaming: feed lines (`pushLine`) or arbitrary text chunks (`pushChunk`),
// then `finish()`. CRLF and blank lines are tolerated. Ids must be consecutive, starting at 1
// (or at the base's type count when a base Btf is given, for `bpftool -B base btf dump`).
// Every malformed line throws a BtfParseError naming file:line, what was expected and the text.
// `looksLikeBtfText` is a cheap sniffer for the log-format detector.

import {
  type Btf,
  type BtfType,
  type BtfMember,
  type BtfParam,
  type BtfEnumValue,
  type BtfEnum64Value,
  type BtfVarSecinfo,
  type IntEncoding,
  type Linkage,
  voidType,
} from './btf-types.ts';
import { BtfParseError, quoteGot } from './errors.ts';

export interface BtfTextOptions {
  /** File name used in error messages. */
  file?: string;
  /** Base BTF for a split dump (ids then start at base.types.length). */
  base?: Btf;
}

const HEADER_START = /^\[(\d+)\] ([A-Z][A-Z0-9_]*) '/;
const HEADER_EXPECTED = `a BTF type header "[N] KIND 'name' ..."`;

type Cont = 'member' | 'enum' | 'enum64' | 'param' | 'datasec';

interface Pending {
  type: BtfType;
  cont: Cont;
  remaining: number;
  headerLine: number;
}

// Kind-specific header suffixes (after "[id] KIND "). Name is greedy so a quote inside a tag works.
const RX = {
  INT: /^'(.*)' size=(\d+) bits_offset=(\d+) nr_bits=(\d+) encoding=(\S+)$/,
  REF: /^'(.*)' type_id=(\d+)$/,
  ARRAY: /^'(.*)' type_id=(\d+) index_type_id=(\d+) nr_elems=(\d+)$/,
  COMPOSITE: /^'(.*)' size=(\d+) vlen=(\d+)$/,
  ENUM: /^'(.*)'(?: encoding=(SIGNED|UNSIGNED))? size=(\d+) vlen=(\d+)$/,
  FWD: /^'(.*)' fwd_kind=(struct|union)$/,
  FUNC: /^'(.*)' type_id=(\d+)(?: linkage=(\S+))?$/,
  FUNC_PROTO: /^'(.*)' ret_type_id=(\d+) vlen=(\d+)$/,
  VAR: /^'(.*)' type_id=(\d+), linkage=(\S+)$/,
  FLOAT: /^'(.*)' size=(\d+)$/,
  DECL_TAG: /^'(.*)' type_id=(\d+) component_idx=(-?\d+)$/,
  UNKNOWN: /^'(.*)'$/,
} as const;

const CONT_RX: Record<Cont, RegExp> = {
  member: /^\t'(.*)' type_id=(\d+) bits_offset=(\d+)(?: bitfield_size=(\d+))?$/,
  enum: /^\t'(.*)' val=(-?\d+)$/,
  enum64: /^\t'(.*)' val=(-?\d+)(?:U?LL)?$/,
  param: /^\t'(.*)' type_id=(\d+)$/,
  datasec: /^\ttype_id=(\d+) offset=(\d+) size=(\d+)(?: \([A-Z_0-9]+ '.*'\))?$/,
};

const CONT_NOUN: Record<Cont, string> = {
  member: 'member line',
  enum: 'enum value line',
  enum64: 'enum64 value line',
  param: 'parameter line',
  datasec: 'DATASEC entry line',
};
const CONT_SHAPE: Record<Cont, string> = {
  member: `"\\t'name' type_id=N bits_offset=N"`,
  enum: `"\\t'name' val=N"`,
  enum64: `"\\t'name' val=NULL"`,
  param: `"\\t'name' type_id=N"`,
  datasec: `"\\ttype_id=N offset=N size=N"`,
};

function contExpected(c: Cont): string {
  return `${/^[aeiouAEIOU]/.test(CONT_NOUN[c]) ? 'an' : 'a'} ${CONT_NOUN[c]} ${CONT_SHAPE[c]}`;
}

function moreExpected(p: Pending): string {
  const noun = p.remaining === 1 ? CONT_NOUN[p.cont] : `${CONT_NOUN[p.cont]}s`;
  return `${p.remaining} more ${noun} ${CONT_SHAPE[p.cont]} for [${p.type.id}] (declared on line ${p.headerLine})`;
}

const HEADER_SUFFIX_EXPECTED: Record<string, string> = {
  INT: 'size=N bits_offset=N nr_bits=N encoding=E',
  PTR: 'type_id=N',
  ARRAY: 'type_id=N index_type_id=N nr_elems=N',
  STRUCT: 'size=N vlen=N',
  ENUM: 'encoding=E size=N vlen=N',
  FWD: 'fwd_kind=struct|union',
  FUNC: 'type_id=N linkage=L',
  FUNC_PROTO: 'ret_type_id=N vlen=N',
  VAR: 'type_id=N, linkage=L',
  DATASEC: 'size=N vlen=N',
  FLOAT: 'size=N',
  DECL_TAG: 'type_id=N component_idx=N',
};

function modelName(raw: string): string {
  return raw === '(anon)' ? '' : raw;
}

export function parseIntEncoding(s: string): IntEncoding | undefined {
  switch (s) {
    case '(none)':
      return 'none';
    case 'SIGNED':
    case 'CHAR':
    case 'BOOL':
    case 'UNKN':
      return s;
    default:
      return undefined;
  }
}

export function parseLinkage(s: string | undefined): Linkage | undefined {
  switch (s) {
    case undefined:
      return 'static'; // very old bpftool printed no linkage for FUNC
    case 'static':
    case 'global':
    case 'extern':
      return s;
    case 'global-alloc': // bpftool < 5.x spelling for VAR
      return 'global';
    case 'global-extern':
      return 'extern';
    case '(unknown)':
      return 'unknown';
    default:
      return undefined;
  }
}

export class BtfTextParser {
  private readonly file: string | undefined;
  private readonly types: BtfType[];
  private readonly startId: number;
  private nextId: number;
  private pending: Pending | undefined;
  private lineNo = 0;
  private carry = '';
  private sawType = false;
  private finished = false;

  constructor(opts: BtfTextOptions = {}) {
    this.file = opts.file;
    if (opts.base !== undefined) {
      this.types = opts.base.types.slice();
      this.startId = opts.base.types.length;
    } else {
      this.types = [voidType()];
      this.startId = 1;
    }
    this.nextId = this.startId;
  }

  /** Feed an arbitrary piece of the text (may split lines anywhere). */
  pushChunk(chunk: string): void {
    let text = this.carry + chunk;
    let nl = text.indexOf('\n');
    let start = 0;
    while (nl !== -1) {
      this.pushLine(text.slice(start, nl));
      start = nl + 1;
      nl = text.indexOf('\n', start);
    }
    text = text.slice(start);
    this.carry = text;
  }

  /** Feed one line (without its newline). `lineNo` defaults to a running counter. */
  pushLine(rawLine: string, lineNo?: number): void {
    if (this.finished) throw new Error('BtfTextParser: pushLine after finish');
    this.lineNo = lineNo ?? this.lineNo + 1;
    const line = rawLine.endsWith('\r') ? rawLine.slice(0, -1) : rawLine;
    if (line.trim() === '') return;

    if (line.charCodeAt(0) === 9 /* \t */) {
      this.continuation(line);
      return;
    }
    if (this.pending !== undefined && this.pending.remaining > 0) {
      const p = this.pending;
      this.fail(moreExpected(p), line);
    }
    this.header(line);
  }

  finish(): Btf {
    if (!this.finished) {
      if (this.carry !== '') {
        const last = this.carry;
        this.carry = '';
        this.pushLine(last);
      }
      this.finished = true;
    }
    const p = this.pending;
    if (p !== undefined && p.remaining > 0) {
      this.fail(moreExpected(p), '<end of input>', true);
    }
    if (!this.sawType) this.fail(HEADER_EXPECTED, this.lineNo === 0 ? '<empty input>' : '<no type lines>', true);
    return { types: this.types, startId: this.startId };
  }

  private fail(expected: string, got: string, gotIsLiteral = false): never {
    const info: ConstructorParameters<typeof BtfParseError>[0] = {
      line: Math.max(this.lineNo, 1),
      expected,
      got: gotIsLiteral ? got : quoteGot(got),
    };
    if (this.file !== undefined) info.file = this.file;
    throw new BtfParseError(info);
  }

  private header(line: string): void {
    const m = HEADER_START.exec(line);
    if (m === null) this.fail(HEADER_EXPECTED, line);
    const id = Number(m[1]);
    const kind = m[2] as string;
    if (id !== this.nextId) {
      const hint =
        this.nextId === this.startId && this.startId === 1 && id > 1
          ? ' (a split BTF dump needs its base BTF)'
          : '';
      this.fail(`type id [${this.nextId}]${hint}`, line);
    }
    const rest = line.slice(m[0].length - 1); // keep the opening quote
    const t = this.buildType(id, kind, rest, line);
    this.types.push(t);
    this.nextId++;
    this.sawType = true;
  }

  private match(rx: RegExp, rest: string, kind: string, line: string): RegExpExecArray {
    const m = rx.exec(rest);
    if (m === null) {
      const suffix = HEADER_SUFFIX_EXPECTED[kind] ?? '';
      this.fail(`"[N] ${kind} 'name' ${suffix}"`.replace(/ "$/, '"'), line);
    }
    return m;
  }

  private expectCont(t: BtfType, cont: Cont, vlen: number): void {
    this.pending = { type: t, cont, remaining: vlen, headerLine: this.lineNo };
  }

  private buildType(id: number, kind: string, rest: string, line: string): BtfType {
    const n = (s: string | undefined): number => Number(s);
    switch (kind) {
      case 'INT': {
        const m = this.match(RX.INT, rest, kind, line);
        const encoding = parseIntEncoding(m[5] as string);
        if (encoding === undefined) this.fail('an INT encoding ((none), SIGNED, CHAR, BOOL, UNKN)', line);
        return { id, kind, name: modelName(m[1] as string), size: n(m[2]), bitsOffset: n(m[3]), nrBits: n(m[4]), encoding };
      }
      case 'PTR':
      case 'TYPEDEF':
      case 'VOLATILE':
      case 'CONST':
      case 'RESTRICT':
      case 'TYPE_TAG': {
        const m = this.match(RX.REF, rest, 'PTR', line);
        return { id, kind, name: modelName(m[1] as string), typeId: n(m[2]) };
      }
      case 'ARRAY': {
        const m = this.match(RX.ARRAY, rest, kind, line);
        return { id, kind, name: modelName(m[1] as string), typeId: n(m[2]), indexTypeId: n(m[3]), nrElems: n(m[4]) };
      }
      case 'STRUCT':
      case 'UNION': {
        const m = this.match(RX.COMPOSITE, rest, 'STRUCT', line);
        const t: BtfType = { id, kind, name: modelName(m[1] as string), size: n(m[2]), members: [] };
        this.expectCont(t, 'member', n(m[3]));
        return t;
      }
      case 'ENUM':
      case 'ENUM64': {
        const m = this.match(RX.ENUM, rest, 'ENUM', line);
        const base = { id, name: modelName(m[1] as string), size: n(m[3]), signed: m[2] === 'SIGNED' };
        const t: BtfType = kind === 'ENUM' ? { ...base, kind, values: [] } : { ...base, kind, values: [] };
        this.expectCont(t, kind === 'ENUM' ? 'enum' : 'enum64', n(m[4]));
        return t;
      }
      case 'FWD': {
        const m = this.match(RX.FWD, rest, kind, line);
        return { id, kind, name: modelName(m[1] as string), fwdKind: m[2] === 'union' ? 'union' : 'struct' };
      }
      case 'FUNC': {
        const m = this.match(RX.FUNC, rest, kind, line);
        const linkage = parseLinkage(m[3]);
        if (linkage === undefined) this.fail('a FUNC linkage (static, global, extern)', line);
        return { id, kind, name: modelName(m[1] as string), typeId: n(m[2]), linkage };
      }
      case 'FUNC_PROTO': {
        const m = this.match(RX.FUNC_PROTO, rest, kind, line);
        const t: BtfType = { id, kind, name: modelName(m[1] as string), retTypeId: n(m[2]), params: [] };
        this.expectCont(t, 'param', n(m[3]));
        return t;
      }
      case 'VAR': {
        const m = this.match(RX.VAR, rest, kind, line);
        const linkage = parseLinkage(m[3]);
        if (linkage === undefined) this.fail('a VAR linkage (static, global, extern)', line);
        return { id, kind, name: modelName(m[1] as string), typeId: n(m[2]), linkage };
      }
      case 'DATASEC': {
        const m = this.match(RX.COMPOSITE, rest, kind, line);
        const t: BtfType = { id, kind, name: modelName(m[1] as string), size: n(m[2]), vars: [] };
        this.expectCont(t, 'datasec', n(m[3]));
        return t;
      }
      case 'FLOAT': {
        const m = this.match(RX.FLOAT, rest, kind, line);
        return { id, kind, name: modelName(m[1] as string), size: n(m[2]) };
      }
      case 'DECL_TAG': {
        const m = this.match(RX.DECL_TAG, rest, kind, line);
        return { id, kind, name: modelName(m[1] as string), typeId: n(m[2]), componentIdx: n(m[3]) };
      }
      case 'UNKNOWN':
      case 'UNKN': {
        const m = this.match(RX.UNKNOWN, rest, 'UNKNOWN', line);
        return { id, kind: 'UNKNOWN', name: modelName(m[1] as string) };
      }
      default:
        return this.fail(`a known BTF kind (INT, PTR, STRUCT, ...)`, line);
    }
  }

  private continuation(line: string): void {
    const p = this.pending;
    if (p === undefined || p.remaining === 0) {
      const owner = p === undefined ? 'before any type' : `after the last entry of [${p.type.id}]`;
      this.fail(`${HEADER_EXPECTED} (a tab-indented line ${owner} has no owner)`, line);
    }
    const m = CONT_RX[p.cont].exec(line);
    if (m === null) this.fail(`${contExpected(p.cont)} for [${p.type.id}]`, line);
    const t = p.type;
    switch (p.cont) {
      case 'member': {
        const member: BtfMember = { name: modelName(m[1] as string), typeId: Number(m[2]), bitsOffset: Number(m[3]) };
        if (m[4] !== undefined && Number(m[4]) !== 0) member.bitfieldSize = Number(m[4]);
        if (t.kind === 'STRUCT' || t.kind === 'UNION') t.members.push(member);
        break;
      }
      case 'enum': {
        const v: BtfEnumValue = { name: modelName(m[1] as string), value: Number(m[2]) };
        if (t.kind === 'ENUM') t.values.push(v);
        break;
      }
      case 'enum64': {
        const v: BtfEnum64Value = { name: modelName(m[1] as string), value: BigInt(m[2] as string).toString() };
        if (t.kind === 'ENUM64') t.values.push(v);
        break;
      }
      case 'param': {
        const v: BtfParam = { name: modelName(m[1] as string), typeId: Number(m[2]) };
        if (t.kind === 'FUNC_PROTO') t.params.push(v);
        break;
      }
      case 'datasec': {
        const v: BtfVarSecinfo = { typeId: Number(m[1]), offset: Number(m[2]), size: Number(m[3]) };
        if (t.kind === 'DATASEC') t.vars.push(v);
        break;
      }
    }
    p.remaining--;
  }
}

/** Parse a whole `bpftool btf dump` raw text. */
export function parseBtfText(text: string, opts: BtfTextOptions = {}): Btf {
  const p = new BtfTextParser(opts);
  p.pushChunk(text);
  return p.finish();
}

const SNIFF_HEADER =
  /^\[\d+\] (?:INT|PTR|ARRAY|STRUCT|UNION|ENUM|FWD|TYPEDEF|VOLATILE|CONST|RESTRICT|FUNC|FUNC_PROTO|VAR|DATASEC|FLOAT|DECL_TAG|TYPE_TAG|ENUM64|UNKNOWN) '/;

/** True when `line` is a bpftool raw type header ("[N] KIND 'name'..."). */
export function isBtfTextHeader(line: string): boolean {
  return SNIFF_HEADER.test(line);
}

/**
 * True when the sample (first lines of a file) looks like bpftool raw BTF text:
 * the first non-blank line is a type header and at least 80% of the sampled
 * non-blank lines are headers or tab-indented continuations (a cut-off last line is fine).
 */
export function looksLikeBtfText(sampleLines: string[]): boolean {
  let seen = 0;
  let good = 0;
  for (const raw of sampleLines) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.trim() === '') continue;
    seen++;
    const ok = SNIFF_HEADER.test(line) || (seen > 1 && line.charCodeAt(0) === 9);
    if (seen === 1 && !ok) return false;
    if (ok) good++;
    if (seen >= 50) break;
  }
  return seen > 0 && good >= Math.ceil(seen * 0.8);
}
