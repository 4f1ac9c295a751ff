// Contract: the single error type thrown by every BTF parser in this folder.
// A BtfParseError always has a one-line message naming where (file, line or byte
// offset) and what was expected vs. what was found, e.g.
//   stash_ok.btf.txt:12: expected a BTF type header "[N] KIND 'name' ...", got "xyz"
//   vmlinux: byte 0x1c: expected a type record that ends inside the type section, got ...

export interface BtfParseErrorInfo {
  /** File name (as given by the caller), when known. */
  file?: string;
  /** 1-based line number for text/JSON input. */
  line?: number;
  /** Byte offset for binary input. */
  offset?: number;
  expected: string;
  got: string;
}

const MAX_GOT_CHARS = 80;

/** Shorten and quote a piece of offending input for an error message. */
export function quoteGot(text: string, max = MAX_GOT_CHARS): string {
  // JSON.stringify escapes tabs, CR/LF and other control characters, keeping the message on one line.
  const cut = text.length > max ? `${text.slice(0, max)}…` : text;
  return JSON.stringify(cut);
}

export class BtfParseError extends Error {
  readonly file: string | undefined;
  readonly line: number | undefined;
  readonly offset: number | undefined;
  readonly expected: string;
  readonly got: string;

  constructor(info: BtfParseErrorInfo) {
    super(formatBtfParseError(info));
    this.name = 'BtfParseError';
    this.file = info.file;
    this.line = info.line;
    this.offset = info.offset;
    this.expected = info.expected;
    this.got = info.got;
  }

  /** Same error, attributed to a file (used by loaders that learn the name late). */
  withFile(file: string): BtfParseError {
    if (this.file !== undefined) return this;
    const info: BtfParseErrorInfo = { file, expected: this.expected, got: this.got };
    if (this.line !== undefined) info.line = this.line;
    if (this.offset !== undefined) info.offset = this.offset;
    return new BtfParseError(info);
  }
}

function formatBtfParseError(info: BtfParseErrorInfo): string {
  let where: string;
  if (info.line !== undefined) {
    where = info.file !== undefined ? `${info.file}:${info.line}` : `line ${info.line}`;
  } else if (info.offset !== undefined) {
    const at = `byte 0x${info.offset.toString(16)}`;
    where = info.file !== undefined ? `${info.file}: ${at}` : at;
  } else {
    where = info.file ?? 'BTF input';
  }
  return `${where}: expected ${info.expected}, got ${info.got}`;
}
