/**
 * Splits a byte stream into lines without ever holding the whole input in one string.
 *
 * Contract: `LineSplitter.push(chunk)` may be called with chunks of any size (down to 1 byte);
 * every complete line is handed to `onLine` with its 1-based number, its decoded text (UTF-8,
 * invalid bytes become U+FFFD, a trailing CR is removed and reported) and its exact raw bytes
 * (including the terminating LF, if any), so a store can keep the file byte-for-byte.
 * `end()` flushes a final line that has no LF (a log cut in the middle of a line).
 */

export interface LineInfo {
  /** 1-based line number in the file. */
  no: number;
  /** Decoded text without the line terminator (and without a trailing CR). */
  text: string;
  /** The line's exact bytes in the file, including its LF (absent on an unterminated last line). */
  raw: Buffer;
  /** True when the line ended in CRLF (the CR is not part of `text`). */
  crlf: boolean;
  /** True for a final line without a terminating LF. */
  unterminated: boolean;
}

export type LineSink = (line: LineInfo) => void;

export class LineSplitter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private lineNo = 0;
  private bytes = 0;

  constructor(private readonly onLine: LineSink) {}

  get linesSeen(): number {
    return this.lineNo;
  }

  get bytesSeen(): number {
    return this.bytes;
  }

  push(chunk: Buffer): void {
    this.bytes += chunk.length;
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, start);
      if (nl < 0) break;
      let raw: Buffer;
      if (this.pendingBytes > 0) {
        this.pending.push(chunk.subarray(start, nl + 1));
        raw = Buffer.concat(this.pending, this.pendingBytes + nl + 1 - start);
        this.pending = [];
        this.pendingBytes = 0;
      } else {
        raw = chunk.subarray(start, nl + 1);
      }
      this.emit(raw, false);
      start = nl + 1;
    }
    if (start < chunk.length) {
      // Copy: the caller may reuse its chunk buffer.
      const rest = Buffer.from(chunk.subarray(start));
      this.pending.push(rest);
      this.pendingBytes += rest.length;
    }
  }

  end(): void {
    if (this.pendingBytes > 0) {
      const raw = Buffer.concat(this.pending, this.pendingBytes);
      this.pending = [];
      this.pendingBytes = 0;
      this.emit(raw, true);
    }
  }

  private emit(raw: Buffer, unterminated: boolean): void {
    let end = unterminated ? raw.length : raw.length - 1;
    let crlf = false;
    if (end > 0 && raw[end - 1] === 0x0d) {
      crlf = true;
      end -= 1;
    }
    this.lineNo += 1;
    this.onLine({ no: this.lineNo, text: raw.toString('utf8', 0, end), raw, crlf, unterminated });
  }
}
