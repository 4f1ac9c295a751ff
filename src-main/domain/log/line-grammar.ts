/**
 * The line grammar of the kernel's verifier log text (one physical line → one typed record body).
 *
 * `classifyKernelLine(text)` is pure and context-free: it returns the record fields for the line, or
 * `{ kind: 'free' }` for free text that no grammar rule matches (the program-level state machine then
 * decides whether free text is the kernel's error message or an unknown line). Dispatches on the first
 * character so that the common lines (instructions, states) cost one regex each.
 * Grammar: the verifier's own print formats (kernel/bpf/log.c, disasm.c, verifier.c) of kernels 5.10–7.3
 * (7.x: the pre-walk analysis listings, `stack depth max`, per-subprogram statistics, and the first
 * line of the diagnostic block; the block's other lines need context: log-parser.ts).
 */
import type { LogRecord } from './records.ts';
import { matchError } from './error-catalog.ts';
import { DIAGNOSTIC_HEADER_RE } from './kernel-diagnostic.ts';

type Body<R> = R extends LogRecord ? Omit<R, 'line' | 'text' | 'program'> : never;
export type KernelLineBody = Body<LogRecord> | { kind: 'free' };

const INSN_RE = /^(\d+): \(([0-9a-f]{2})\) (.*)$/;
const GLUED_RE = / (\d+): (safe$|frame\d+:|R\d|fp-?\d|refs=)/;
const STATE_RE = /^(\d+):(?: (.*))?$/;
const SAFE_RE = /^(\d+): safe$/;
const SOURCE_AT_RE = /^(.*) @ ([^ ]+):(\d+)$/;
const BRANCH_RE = /^from (\d+) to (\d+)( \(speculative execution\))?:(.*)$/;
const FUNC_INFO_RE = /^func#(\d+) @(\d+)$/;
const LIVE_REGS_RE = /^ *(?:(\d+) +)?(\d+): ([.0-9]{10}) \(([0-9a-f]{2})\) (.*)$/;
const TO_CALLER_RE = /^to caller at (\d+):$/;
const STATS_RE = /^processed (\d+) insns \(limit (\d+)\)(.*)$/;
const VTIME_RE = /^verification time (\d+) usec$/;
const STACK_RE = /^stack depth (\d+(?:\+\d+)*)(?: max (\d+))?$/;
const INSNS_TOTAL_RE = /^insns processed (\d+(?:\+\d+)*)$/;
const STACK_MAX_RE = /^stack depth max (\d+)$/;
const SUBPROG_STATS_RE = /^subprog (\d+) \((.*)\) (main|global|static) insns_self (\d+) insns_total (\d+) stack (\d+)$/;
const TOPO_RE = /^topo_order\[\d+\] = ?\S*$/;
const ANALYZING_RE = /^subprog#\d+: analyzing \(depth \d+\)\.\.\.$/;
const LISTING_HEADER_RE = /^subprog#\d+(?: \S+)?:$/;
const USE_DEF_HEADER_RE = /^stack use\/def subprog#\d+(?: \S+)? \(d\d+,cs\d+\):$/;
/** A body line of a pre-walk analysis section: `%3d: insn…` (unpadded from 100 on) or `arg JOIN …`. */
export const ANALYSIS_BODY_RE = /^ *(\d+): \([0-9a-f]{2}\) |^arg JOIN insn \d+ -> \d+ /;
const ANALYSIS_INSN_RE = /^ +(\d+): \([0-9a-f]{2}\) /;
const STATE_START_RE = /^(?:frame\d+: )?(?:R\d+(?:_[rwD]+)?=|fp-?\d+(?:_[rwD]+)?=|refs=)/;

const INFO_RES: readonly RegExp[] = [
  /^func '[^']*' arg\d+ has btf_id \d+ type /,
  /^arg#\d+ reference type\('.*'\) size cannot be determined/,
  /^Validating \S+ func#\d+\.\.\.$/,
  /^Func#\d+ \('[^']*'\) is (?:global and assumed valid|safe for any args that match its prototype)\.?$/,
  /^arg#\d+ (?:type is|is) /,
  /^btf_vmlinux is malformed/,
  /^SCC (?:enter|exit|backedge) \(\d+\)$/, // 6.17+ level 2: entering/leaving a loop's strongly connected component
];

/**
 * Lines that are the kernel's error when the program ends right after them, and a notice when the
 * walk goes on (the log parser decides from what follows): a struct_ops callback returning a pointer
 * (a qdisc's dequeue) is not checked like a global function, but an exception callback must be.
 */
export const NOTICE_OR_ERROR_RES: readonly RegExp[] = [/^Global function \S+\(\) return value not void or scalar\. Only those are supported\.$/];

function stateBodyIsState(rest: string): boolean {
  return rest === '' || STATE_START_RE.test(rest);
}

function classifyInsn(m: RegExpExecArray): KernelLineBody {
  const insn = Number(m[1]);
  const opcode = m[2] as string;
  let rest = m[3] as string;
  let suffix: string | undefined;
  const semi = rest.indexOf(';');
  if (semi >= 0) {
    suffix = rest.slice(semi + 1).trim();
    rest = rest.slice(0, semi);
  }
  let glued: { insn: number; state: string; safe?: boolean } | undefined;
  const g = GLUED_RE.exec(rest);
  if (g && g.index !== undefined) {
    const tail = rest.slice(g.index + 1);
    const sm = STATE_RE.exec(tail);
    if (sm) {
      const body = sm[2] ?? '';
      glued = body === 'safe' ? { insn: Number(sm[1]), state: '', safe: true } : { insn: Number(sm[1]), state: body };
      // A glued state absorbed the `;` suffix, which belongs to it, not to the instruction.
      if (suffix !== undefined && !glued.safe) glued.state = `${glued.state};${suffix}`.trim();
      suffix = undefined;
      rest = rest.slice(0, g.index);
    }
  }
  const body: KernelLineBody = { kind: 'insn', insn, opcode, asm: rest.trimEnd() };
  if (suffix !== undefined) body.suffix = suffix;
  if (glued) body.glued = glued;
  return body;
}

function parseStats(m: RegExpExecArray): KernelLineBody {
  const body: KernelLineBody = { kind: 'stats', insnsProcessed: Number(m[1]), insnLimit: Number(m[2]) };
  const rest = m[3] ?? '';
  const kv = /(max_states_per_insn|total_states|peak_states|mark_read) (\d+)/g;
  let x: RegExpExecArray | null;
  while ((x = kv.exec(rest))) {
    const v = Number(x[2]);
    if (x[1] === 'max_states_per_insn') body.maxStatesPerInsn = v;
    else if (x[1] === 'total_states') body.totalStates = v;
    else if (x[1] === 'peak_states') body.peakStates = v;
    else body.markRead = v;
  }
  return body;
}

export function classifyKernelLine(text: string): KernelLineBody {
  if (text.length === 0 || text.trim() === '') return { kind: 'blank' };
  const c = text.charCodeAt(0);
  let m: RegExpExecArray | null;
  if (c >= 48 && c <= 57) {
    if ((m = INSN_RE.exec(text))) return classifyInsn(m);
    if ((m = SAFE_RE.exec(text))) return { kind: 'safe', insn: Number(m[1]) };
    if ((m = STATE_RE.exec(text)) && stateBodyIsState(m[2] ?? '')) {
      return { kind: 'state', insn: Number(m[1]), state: m[2] ?? '' };
    }
    // e.g. "1 bpf_preempt_enable missing": fall through to errors/free text
  } else if (c === 59 /* ; */) {
    const src = text.startsWith('; ') ? text.slice(2) : text.slice(1);
    const at = SOURCE_AT_RE.exec(src);
    if (at) return { kind: 'source', source: at[1] as string, file: at[2] as string, sourceLine: Number(at[3]) };
    return { kind: 'source', source: src };
  } else if (c === 32 /* space */ || c === 9 /* tab */) {
    if ((m = LIVE_REGS_RE.exec(text))) {
      const body: KernelLineBody = {
        kind: 'live-regs',
        insn: Number(m[2]),
        mask: m[3] as string,
        opcode: m[4] as string,
        asm: m[5] as string,
      };
      if (m[1] !== undefined) body.scc = Number(m[1]);
      return body;
    }
    const t = text.trimStart();
    if (STATE_START_RE.test(t)) return { kind: 'call-state', state: t };
    if ((m = ANALYSIS_INSN_RE.exec(text))) return { kind: 'analysis', section: 'insn', insn: Number(m[1]) };
  } else if (c === 102 /* f */) {
    if ((m = BRANCH_RE.exec(text))) {
      const tail = (m[4] ?? '').trim();
      return {
        kind: 'branch',
        from: Number(m[1]),
        to: Number(m[2]),
        speculative: m[3] !== undefined,
        safe: tail === 'safe',
        state: tail === 'safe' ? '' : tail,
      };
    }
    if ((m = FUNC_INFO_RE.exec(text))) return { kind: 'func-info', subprog: Number(m[1]), insn: Number(m[2]) };
    if (/^frame \d+: propagating /.test(text)) return { kind: 'precision' };
  } else if (c === 109 /* m */) {
    if (text.startsWith('mark_precise: ')) return { kind: 'precision' };
  } else if (c === 108 /* l */) {
    if (/^last_idx \d+ first_idx \d+/.test(text)) return { kind: 'precision' };
  } else if (c === 114 /* r */) {
    if (/^regs=\S* stack=\S* before \d+: /.test(text)) return { kind: 'precision' };
    if (text === 'returning from callee:') return { kind: 'call-header', which: 'returning' };
  } else if (c === 99 /* c */) {
    if (text === 'caller:') return { kind: 'call-header', which: 'caller' };
    if (text === 'callee:') return { kind: 'call-header', which: 'callee' };
  } else if (c === 116 /* t */) {
    if ((m = TO_CALLER_RE.exec(text))) return { kind: 'call-header', which: 'to-caller', insn: Number(m[1]) };
    if (TOPO_RE.test(text)) return { kind: 'analysis', section: 'topo-order' };
  } else if (c === 112 /* p */) {
    if ((m = STATS_RE.exec(text))) return parseStats(m);
    if (/^parent didn't have regs=/.test(text) || text.startsWith('propagating ')) return { kind: 'precision' };
  } else if (c === 105 /* i */) {
    if ((m = INSNS_TOTAL_RE.exec(text))) return { kind: 'stats-insns', totals: (m[1] as string).split('+').map(Number) };
  } else if (c === 118 /* v */) {
    if ((m = VTIME_RE.exec(text))) return { kind: 'stats-time', usec: Number(m[1]) };
  } else if (c === 115 /* s */) {
    if ((m = STACK_RE.exec(text))) {
      const body: KernelLineBody = { kind: 'stats-stack', depths: (m[1] as string).split('+').map(Number) };
      if (m[2] !== undefined) body.max = Number(m[2]);
      return body;
    }
    if ((m = STACK_MAX_RE.exec(text))) return { kind: 'stats-stack-max', depth: Number(m[1]) };
    if ((m = SUBPROG_STATS_RE.exec(text))) {
      return {
        kind: 'stats-subprog',
        index: Number(m[1]),
        name: m[2] as string,
        subprogKind: m[3] as 'main' | 'global' | 'static',
        insnsSelf: Number(m[4]),
        insnsTotal: Number(m[5]),
        stack: Number(m[6]),
      };
    }
    if (ANALYZING_RE.test(text)) return { kind: 'analysis', section: 'analyzing' };
    if (LISTING_HEADER_RE.test(text)) return { kind: 'analysis', section: 'listing-header' };
    if (USE_DEF_HEADER_RE.test(text)) return { kind: 'analysis', section: 'use-def-header' };
  } else if (c === 40 /* ( */) {
    if (/^\(\d+\) (?:frame \d+ insn \d+ [+-]|live stack update)/.test(text)) return { kind: 'stack-liveness' };
  } else if (c === 76 /* L */) {
    if (text.startsWith('Live regs before insn')) return { kind: 'live-regs-header' };
  } else if (c === 86 /* V */) {
    if (DIAGNOSTIC_HEADER_RE.test(text)) return { kind: 'diagnostic', part: 'header' };
  }
  for (const re of INFO_RES) if (re.test(text)) return { kind: 'info' };
  const errorClass = matchError(text);
  if (errorClass !== undefined) return { kind: 'error', errorClass };
  return { kind: 'free' };
}
