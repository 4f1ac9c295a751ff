// Contract: a small strict JSON reader (RFC 8259) that keeps integers exact.
// Integers outside Number's safe range become `JsonBigInt { raw }` instead of being
// rounded (bpftool prints ENUM64 values up to 2^64-1 as bare numbers). It also records
// the 1-based line on which every object starts (`lineOf`) so shape errors can name a line.
// Syntax errors throw BtfParseError with file:line. No dependencies, no eval.

import { BtfParseError, quoteGot } from './errors.ts';

export class JsonBigInt {
  constructor(readonly raw: string) {}
}

export type JsonValue = null | boolean | number | string | JsonBigInt | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}

export interface JsonReadResult {
  value: JsonValue;
  /** Line where an object/array literal started (1-based), if it came from this read. */
  lineOf(node: object): number | undefined;
}

const MAX_DEPTH = 512;
const NUMBER_RX = /-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/y;

export function readJson(text: string, file?: string): JsonReadResult {
  const lines = new WeakMap<object, number>();
  let i = 0;
  let line = 1;
  const n = text.length;

  const fail = (expected: string, gotOverride?: string): never => {
    const got = gotOverride ?? (i >= n ? '<end of input>' : quoteGot(text.slice(i, i + 40)));
    const info: ConstructorParameters<typeof BtfParseError>[0] = { line, expected, got };
    if (file !== undefined) info.file = file;
    throw new BtfParseError(info);
  };

  const skipWs = (): void => {
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 0x20 || c === 0x09 || c === 0x0d) i++;
      else if (c === 0x0a) {
        i++;
        line++;
      } else break;
    }
  };

  const parseString = (): string => {
    // text[i] === '"'
    const start = i + 1;
    const end = text.indexOf('"', start);
    if (end === -1) return fail('a closing \'"\' of a JSON string');
    const s = text.slice(start, end);
    if (!s.includes('\\')) {
      for (let k = 0; k < s.length; k++) {
        if (s.charCodeAt(k) < 0x20) return fail('a JSON string without raw control characters');
      }
      i = end + 1;
      return s;
    }
    // Slow path with escapes.
    let out = '';
    let k = start;
    for (;;) {
      if (k >= n) {
        i = k;
        return fail('a closing \'"\' of a JSON string');
      }
      const c = text.charCodeAt(k);
      if (c === 0x22) break;
      if (c < 0x20) {
        i = k;
        return fail('a JSON string without raw control characters');
      }
      if (c !== 0x5c) {
        out += text[k];
        k++;
        continue;
      }
      const e = text[k + 1];
      k += 2;
      switch (e) {
        case '"':
          out += '"';
          break;
        case '\\':
          out += '\\';
          break;
        case '/':
          out += '/';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          const hex = text.slice(k, k + 4);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) {
            i = k;
            return fail('4 hex digits after \\u');
          }
          out += String.fromCharCode(parseInt(hex, 16));
          k += 4;
          break;
        }
        default:
          i = k - 2;
          return fail('a valid JSON escape (\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)');
      }
    }
    i = k + 1;
    return out;
  };

  const parseNumber = (): number | JsonBigInt => {
    NUMBER_RX.lastIndex = i;
    const m = NUMBER_RX.exec(text);
    if (m === null) return fail('a JSON value');
    const raw = m[0];
    i += raw.length;
    const num = Number(raw);
    if (m[1] === undefined && m[2] === undefined && !Number.isSafeInteger(num)) return new JsonBigInt(raw);
    return num;
  };

  const parseValue = (depth: number): JsonValue => {
    if (depth > MAX_DEPTH) return fail(`JSON nested at most ${MAX_DEPTH} levels deep`);
    skipWs();
    if (i >= n) return fail('a JSON value');
    const c = text.charCodeAt(i);
    if (c === 0x7b /* { */) {
      const obj: JsonObject = Object.create(null) as JsonObject;
      lines.set(obj, line);
      i++;
      skipWs();
      if (text.charCodeAt(i) === 0x7d) {
        i++;
        return obj;
      }
      for (;;) {
        skipWs();
        if (text.charCodeAt(i) !== 0x22) return fail('a quoted object key');
        const key = parseString();
        skipWs();
        if (text.charCodeAt(i) !== 0x3a) return fail("':' after an object key");
        i++;
        obj[key] = parseValue(depth + 1);
        skipWs();
        const d = text.charCodeAt(i);
        if (d === 0x2c) {
          i++;
          continue;
        }
        if (d === 0x7d) {
          i++;
          return obj;
        }
        return fail("',' or '}' in an object");
      }
    }
    if (c === 0x5b /* [ */) {
      const arr: JsonValue[] = [];
      lines.set(arr, line);
      i++;
      skipWs();
      if (text.charCodeAt(i) === 0x5d) {
        i++;
        return arr;
      }
      for (;;) {
        arr.push(parseValue(depth + 1));
        skipWs();
        const d = text.charCodeAt(i);
        if (d === 0x2c) {
          i++;
          continue;
        }
        if (d === 0x5d) {
          i++;
          return arr;
        }
        return fail("',' or ']' in an array");
      }
    }
    if (c === 0x22) return parseString();
    if (text.startsWith('true', i)) {
      i += 4;
      return true;
    }
    if (text.startsWith('false', i)) {
      i += 5;
      return false;
    }
    if (text.startsWith('null', i)) {
      i += 4;
      return null;
    }
    return parseNumber();
  };

  // Tolerate a UTF-8 BOM.
  if (text.charCodeAt(0) === 0xfeff) i = 1;
  const value = parseValue(0);
  skipWs();
  if (i < n) fail('end of JSON input');
  return { value, lineOf: (node: object) => lines.get(node) };
}
