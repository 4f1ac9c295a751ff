/**
 * Reads the guest's data port (see init-script.ts for the protocol) back into files and events.
 *
 * Contract: feed the raw bytes in any chunking to `push(chunk)`, then call `finish()`. Events are
 * delivered in order through `onEvent`: `hello`, `step`, `file` (bytes decoded, size and SHA-256
 * checked: `ok` false with a `problem` when they do not match), `done`, and `noise` for a line outside
 * the protocol (kept so a caller can show it). `\r` before `\n` is dropped (the tty's onlcr). A file
 * that is still open at `finish()` or that another marker interrupts is reported as `ok: false`.
 * Pure: no I/O; `files` keeps every file received, by name (a later file of the same name wins).
 */
import { createHash } from 'node:crypto';
import { MARK } from './init-script.ts';

export type SerialEvent =
  | { kind: 'hello'; protocol: number }
  | { kind: 'step'; text: string }
  | { kind: 'file'; name: string; data: Buffer; ok: boolean; problem?: string }
  | { kind: 'done' }
  | { kind: 'noise'; line: string };

export interface ReceivedFile {
  name: string;
  data: Buffer;
  ok: boolean;
  problem?: string;
}

const B64_LINE = /^[A-Za-z0-9+/]*={0,2}$/;

export class SerialDemux {
  readonly files = new Map<string, ReceivedFile>();
  hello = false;
  done = false;
  /** Bytes seen so far (for progress). */
  bytes = 0;
  private partial = '';
  private open: { name: string; size: number; b64: string[] } | null = null;

  constructor(private readonly onEvent: (e: SerialEvent) => void = () => {}) {}

  push(chunk: Buffer | string): void {
    const text = typeof chunk === 'string' ? chunk : chunk.toString('latin1');
    this.bytes += text.length;
    const parts = (this.partial + text).split('\n');
    this.partial = parts.pop() ?? '';
    for (const p of parts) this.line(p.endsWith('\r') ? p.slice(0, -1) : p);
  }

  finish(): void {
    if (this.partial !== '') {
      const p = this.partial;
      this.partial = '';
      this.line(p.endsWith('\r') ? p.slice(0, -1) : p);
    }
    if (this.open) this.closeBroken('the transcript ended inside the file (no END line)');
  }

  private emitFile(f: ReceivedFile): void {
    this.files.set(f.name, f);
    const e: SerialEvent = { kind: 'file', name: f.name, data: f.data, ok: f.ok };
    if (f.problem !== undefined) e.problem = f.problem;
    this.onEvent(e);
  }

  private closeBroken(problem: string): void {
    const o = this.open;
    if (!o) return;
    this.open = null;
    this.emitFile({ name: o.name, data: Buffer.from(o.b64.join(''), 'base64'), ok: false, problem });
  }

  private line(l: string): void {
    if (l.startsWith(MARK + ' ')) {
      const rest = l.slice(MARK.length + 1);
      const sp = rest.indexOf(' ');
      const verb = sp < 0 ? rest : rest.slice(0, sp);
      const args = sp < 0 ? '' : rest.slice(sp + 1);
      if (verb === 'END' && this.open) {
        const [name, sha] = args.split(' ');
        const o = this.open;
        this.open = null;
        const data = Buffer.from(o.b64.join(''), 'base64');
        const got = createHash('sha256').update(data).digest('hex');
        let problem: string | undefined;
        if (name !== o.name) problem = `END names "${name}", BEGIN named "${o.name}"`;
        else if (data.length !== o.size) problem = `${data.length} bytes received, ${o.size} announced`;
        else if (got !== sha) problem = `SHA-256 mismatch (received ${got}, sent ${sha})`;
        const f: ReceivedFile = { name: o.name, data, ok: problem === undefined };
        if (problem !== undefined) f.problem = problem;
        this.emitFile(f);
        return;
      }
      if (this.open) this.closeBroken(`interrupted by "${l}"`);
      switch (verb) {
        case 'HELLO':
          this.hello = true;
          this.onEvent({ kind: 'hello', protocol: Number(args) });
          return;
        case 'STEP':
          this.onEvent({ kind: 'step', text: args });
          return;
        case 'BEGIN': {
          const m = /^(\S+) (\d+)$/.exec(args);
          if (m) {
            this.open = { name: m[1] as string, size: Number(m[2]), b64: [] };
            return;
          }
          break;
        }
        case 'DONE':
          this.done = true;
          this.onEvent({ kind: 'done' });
          return;
      }
      this.onEvent({ kind: 'noise', line: l });
      return;
    }
    if (this.open && B64_LINE.test(l)) {
      this.open.b64.push(l);
      return;
    }
    if (l !== '') this.onEvent({ kind: 'noise', line: l });
  }
}

/** Demultiplexes a whole transcript at once. */
export function demuxTranscript(data: Buffer | string): { files: Map<string, ReceivedFile>; events: SerialEvent[]; done: boolean } {
  const events: SerialEvent[] = [];
  const d = new SerialDemux((e) => events.push(e));
  d.push(data);
  d.finish();
  return { files: d.files, events, done: d.done };
}
