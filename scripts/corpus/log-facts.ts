// Facts the selftests corpus records about one raw kernel verifier log (scripts/corpus/): kept
// deliberately small and independent of kptrscope's own log parser, so that the corpus can test
// that parser instead of repeating it. Used by make-manifest.ts and test/corpus/manifest.test.ts.

export interface LogFacts {
  /** index of the last instruction line ("N: (op) ...") before the error text; null if none */
  failInsn: number | null;
  /** the lines after the last instruction line and before the closing stats lines */
  message: string[];
  /** N of the last "processed N insns" line; null if none */
  insnsProcessed: number | null;
}

const INSN = /^(\d+): \([0-9a-f]{2}\)/;
// closing lines of every verifier run: "verification time"/"stack depth" (BPF_LOG_STATS) then "processed"
const FOOTER = /^(verification time \d+ usec$|stack depth |processed \d+ insns )/;

export function logFacts(log: string): LogFacts {
  const lines = log.split('\n');
  if (lines.length && lines[lines.length - 1] === '') lines.pop();
  let lastInsn = -1;
  let failInsn: number | null = null;
  let footer = lines.length;
  let insnsProcessed: number | null = null;
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    const p = /^processed (\d+) insns /.exec(l);
    if (p) insnsProcessed = Number(p[1]);
  }
  // the error text ends at the first footer line after the last instruction
  for (let i = 0; i < lines.length; i++) {
    const m = INSN.exec(lines[i]!);
    if (m) {
      lastInsn = i;
      failInsn = Number(m[1]);
    }
  }
  for (let i = lastInsn + 1; i < lines.length; i++) {
    if (FOOTER.test(lines[i]!)) {
      footer = i;
      break;
    }
  }
  const message = lines.slice(lastInsn + 1, footer).filter((l) => l.trim() !== '');
  return { failInsn, message, insnsProcessed };
}

/** test_loader's "{{regex}}" pattern syntax (verbatim text with POSIX ERE parts) as a JS RegExp */
export function msgPattern(msg: string): RegExp | null {
  if (!msg.includes('{{')) return null;
  let re = '';
  let rest = msg;
  while (rest.length) {
    const open = rest.indexOf('{{');
    if (open < 0) {
      re += escape(rest);
      break;
    }
    re += escape(rest.slice(0, open));
    const close = rest.indexOf('}}', open + 2);
    if (close < 0) return new RegExp(escape(msg), 'm');
    re += rest.slice(open + 2, close);
    rest = rest.slice(close + 2);
  }
  return new RegExp(re, 'm');
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * test_loader's validate_msgs(): every expected message in order, each searched after the end
 * of the previous match. Returns the index of the first one not found, or null if all are there.
 */
export function matchMsgs(log: string, msgs: string[]): number | null {
  let pos = 0;
  for (let i = 0; i < msgs.length; i++) {
    const msg = msgs[i]!;
    const re = msgPattern(msg);
    if (re) {
      const m = re.exec(log.slice(pos));
      if (!m) return i;
      pos += m.index + m[0].length;
    } else {
      const at = log.indexOf(msg, pos);
      if (at < 0) return i;
      pos = at + msg.length;
    }
  }
  return null;
}
