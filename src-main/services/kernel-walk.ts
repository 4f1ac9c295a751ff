/**
 * Rebuilds the kernel's printed state along one path of a stored log, line by line, and the few
 * ownership facts that follow from the printed state and the called function alone.
 *
 * Contract: `walkTo(db, idx, btf, range, line)` starts at the path's start (the last `from X to Y:`
 * line before `line`, or the program's first line; at most MAX_WALK lines back, else `partial`),
 * merges every printed state (compact suffixes are deltas; a state that prints R10 is complete for
 * its frame), clears R1–R5 at helper/kfunc calls, and applies:
 *   - release/drop helpers: the reference in R1 ends (all its aliases go);
 *   - bpf_kptr_xchg: the reference in R2 moves into the kptr field R1 points at (name from BTF);
 *   - list push / rbtree add: the node in R2 goes into the root R1 points at, its holders turn
 *     non-owning; bpf_spin_unlock drops non-owning holders; bpf_spin_lock/unlock set the held lock.
 * Everything else (where a reference came from on an earlier path, refcounts, aliasing through
 * memory) is the ownership model's job (src-main/model), which replaces this behind graphAt.
 */
import type { Db } from '../store/db.ts';
import { parseState, type ParsedState, type RegValue } from '../ingest/verifier-log/reg-state.ts';
import { rebuildRecord } from '../store/queries/runs.ts';
import { kindFromCode } from '../ingest/verifier-log/records.ts';
import { K, type RunIndex } from './run-index.ts';
import type { BtfFacts } from './btf-facts.ts';

export const MAX_WALK = 20_000;

export interface Holder {
  /** `R6`, `fp-8`; frame > 0: `frame1.R6`. */
  name: string;
  frame: number;
  text: string;
  value: RegValue;
  line: number;
  /** Made non-owning by an inferred push/add (the kernel does not print it). */
  inferredNonOwning?: boolean;
}

export interface ObjectInfo {
  refId: number;
  type: string;
  local: boolean;
  firstLine: number;
  /** The acquiring call's instruction, when this path saw it. */
  allocInsn?: number;
  origin?: string;
  /** Where it sits when no register holds it: a kptr field or a collection. */
  placedIn?: { node: string; field?: string; kind: 'stashed' | 'in-collection'; line: number };
  ended?: { line: number; insn: number; how: string };
  leaked?: boolean;
}

export interface WalkEvent {
  line: number;
  insn: number;
  refId: number | null;
  text: string;
}

interface FrameState {
  regs: Map<string, Holder>;
  slots: Map<string, Holder>;
}

export class WalkState {
  frames = new Map<number, FrameState>();
  frame = 0;
  refs: { ids: number[]; line: number } | null = null;
  lock: { insn: number; line: number; target: string } | null = null;
  objects = new Map<number, ObjectInfo>();
  events: WalkEvent[] = [];
  /** Set by the last processed line. */
  notes: string[] = [];
  changed = new Set<string>();
  line = 0;
  insn = -1;
  /** The helper/kfunc called by the last instruction (its result may be printed on the next line). */
  pendingCall: { fn: string; insn: number } | null = null;

  frameState(f: number): FrameState {
    let s = this.frames.get(f);
    if (!s) this.frames.set(f, (s = { regs: new Map(), slots: new Map() }));
    return s;
  }

  holders(): Holder[] {
    const out: Holder[] = [];
    for (const f of [...this.frames.keys()].sort((a, b) => a - b)) {
      const s = this.frames.get(f);
      if (!s) continue;
      out.push(...s.regs.values(), ...s.slots.values());
    }
    return out;
  }
}

export interface WalkResult {
  state: WalkState;
  fromLine: number;
  partial: boolean;
}

function holderName(frame: number, item: string): string {
  return frame > 0 ? `frame${frame}.${item}` : item;
}

function refOf(v: RegValue): number | undefined {
  if (v.kind === 'typed') return v.attrs.refObjId;
  if (v.kind === 'slot' && v.spilled?.kind === 'typed') return v.spilled.attrs.refObjId;
  return undefined;
}

function typedOf(v: RegValue): Extract<RegValue, { kind: 'typed' }> | null {
  if (v.kind === 'typed') return v;
  if (v.kind === 'slot' && v.spilled?.kind === 'typed') return v.spilled;
  return null;
}

/** Merge a printed state into the walk (complete states replace their frame). */
function applyPrinted(w: WalkState, ps: ParsedState, line: number, complete: boolean): void {
  const f = ps.frame ?? w.frame;
  w.frame = f;
  const prev = w.frames.get(f);
  if (complete) {
    w.frames.set(f, { regs: new Map(), slots: new Map() });
    for (const k of [...w.frames.keys()]) if (k > f) w.frames.delete(k);
  }
  const fs = w.frameState(f);
  const put = (m: Map<string, Holder>, key: string, value: RegValue) => {
    const name = holderName(f, key);
    const before = (m === fs.regs ? prev?.regs : prev?.slots)?.get(key) ?? m.get(key);
    const ref = refOf(value);
    if (ref !== undefined && (!before || refOf(before.value) !== ref)) {
      w.events.push({ line, insn: w.insn, refId: ref, text: `${name} = ${value.raw}` });
    }
    m.set(key, { name, frame: f, text: value.raw, value, line });
    w.changed.add(name);
  };
  for (const r of ps.regs) put(fs.regs, `R${r.reg}`, r.value);
  for (const s of ps.stack) put(fs.slots, `fp${s.off}`, s.value);
  if (ps.refs) w.refs = { ids: ps.refs, line };
  for (const h of [...fs.regs.values(), ...fs.slots.values()]) {
    const t = typedOf(h.value);
    const ref = refOf(h.value);
    if (t && ref !== undefined && !w.objects.has(ref)) {
      w.objects.set(ref, { refId: ref, type: t.btfType ?? t.type, local: false, firstLine: line });
    }
  }
}

function dropHolders(w: WalkState, pred: (h: Holder) => boolean): string[] {
  const gone: string[] = [];
  for (const fs of w.frames.values()) {
    for (const m of [fs.regs, fs.slots]) {
      for (const [k, h] of m) {
        if (pred(h)) {
          m.delete(k);
          gone.push(h.name);
        }
      }
    }
  }
  return gone;
}

function isNonOwning(h: Holder): boolean {
  const t = typedOf(h.value);
  return Boolean(h.inferredNonOwning || t?.attrs.nonOwnRef);
}

/** Where a pointer register points: `{ node, field }` for a local object field or a global/map value. */
export function pointee(btf: BtfFacts, v: RegValue | undefined): { node: string; field?: string; kind: string } | null {
  if (!v || v.kind !== 'typed') return null;
  const off = v.attrs.off ?? 0;
  if (v.base === 'map_value' && v.attrs.map) {
    const hit = btf.fieldAtMapValue(v.attrs.map, off);
    return hit ? { node: hit.node, field: hit.field, kind: hit.kind } : { node: btf.mapNodeId(v.attrs.map), kind: 'value' };
  }
  const ref = v.attrs.refObjId;
  if (v.btfType && ref !== undefined) {
    const f = btf.structField(v.btfType, off);
    return { node: `obj:${ref}`, field: f?.name, kind: f?.kind ?? 'object' };
  }
  return null;
}

const RELEASE_RE = /(?:release|obj_drop|percpu_obj_drop|ringbuf_submit|ringbuf_discard|sk_release)/;
const PUSH_RE = /(?:list_push_(?:front|back)|rbtree_add)/;
const ACQUIRE_ORIGIN_LOCAL = /(?:obj_new|percpu_obj_new|refcount_acquire)/;

/** Inferences at a helper/kfunc call, given the state before it (see the module comment). */
function beforeCall(w: WalkState, btf: BtfFacts, fn: string, line: number, insn: number): void {
  const fs = w.frameState(w.frame);
  const r1 = fs.regs.get('R1')?.value;
  const r2 = fs.regs.get('R2')?.value;
  if (RELEASE_RE.test(fn)) {
    const ref = r1 ? refOf(r1) : undefined;
    if (ref !== undefined) {
      const gone = dropHolders(w, (h) => refOf(h.value) === ref);
      const o = w.objects.get(ref);
      if (o) o.ended = { line, insn, how: fn };
      w.notes.push(`#${ref} released by ${fn}${gone.length ? ` (held by ${gone.join(', ')})` : ''}`);
      w.events.push({ line, insn, refId: ref, text: `released by ${fn}` });
    }
  } else if (fn === 'bpf_kptr_xchg') {
    const dest = pointee(btf, r1);
    const ref = r2 ? refOf(r2) : undefined;
    const destName = dest ? `${btf.nodeLabel(dest.node, w)}${dest.field ? `.${dest.field}` : ''}` : 'a kptr field';
    // The old content of the field comes back (as a new reference id in R0).
    for (const o of w.objects.values()) {
      if (dest && o.placedIn?.node === dest.node && o.placedIn.field === dest.field && !o.ended) {
        o.ended = { line, insn, how: 'taken out by bpf_kptr_xchg' };
        o.placedIn = undefined;
        w.notes.push(`#${o.refId} taken out of ${destName} (returned in R0 under a new id)`);
        w.events.push({ line, insn, refId: o.refId, text: `taken out of ${destName}` });
      }
    }
    if (ref !== undefined) {
      const gone = dropHolders(w, (h) => refOf(h.value) === ref);
      const o = w.objects.get(ref);
      if (o && dest) o.placedIn = { node: dest.node, field: dest.field, kind: 'stashed', line };
      w.notes.push(`#${ref} moved from ${gone.join(', ') || 'R2'} into ${destName}`);
      w.events.push({ line, insn, refId: ref, text: `stashed into ${destName}` });
    }
  } else if (PUSH_RE.test(fn)) {
    const ref = r2 ? refOf(r2) : undefined;
    const root = pointee(btf, r1);
    if (ref !== undefined) {
      const o = w.objects.get(ref);
      const rootNode = root?.node ?? 'collection';
      if (o) o.placedIn = { node: rootNode, kind: 'in-collection', line };
      const turned: string[] = [];
      for (const h of w.holders()) {
        if (refOf(h.value) === ref) {
          h.inferredNonOwning = true;
          turned.push(h.name);
        }
      }
      w.notes.push(`#${ref} pushed into ${root ? btf.nodeLabel(rootNode, w) : 'a collection'}${turned.length ? `; ${turned.join(', ')} now non-owning` : ''}`);
      w.events.push({ line, insn, refId: ref, text: `pushed into ${btf.nodeLabel(rootNode, w)}` });
    }
  } else if (fn === 'bpf_spin_lock' || fn === 'bpf_res_spin_lock') {
    w.lock = { insn, line, target: pointee(btf, r1)?.node ?? 'lock' };
    w.notes.push(`lock taken`);
  } else if (fn === 'bpf_spin_unlock' || fn === 'bpf_res_spin_unlock') {
    w.lock = null;
    const gone = dropHolders(w, isNonOwning);
    w.notes.push(`lock released${gone.length ? `; non-owning ${gone.join(', ')} invalidated` : ''}`);
    for (const g of gone) w.events.push({ line, insn, refId: null, text: `${g} invalidated by the unlock` });
  }
}

function afterCall(w: WalkState, line: number): void {
  if (!w.pendingCall) return;
  const { fn, insn } = w.pendingCall;
  const r0 = w.frameState(w.frame).regs.get('R0');
  const ref = r0 ? refOf(r0.value) : undefined;
  if (ref === undefined) return;
  const o = w.objects.get(ref);
  if (o && o.firstLine === line && o.allocInsn === undefined) {
    o.allocInsn = insn;
    o.origin = fn;
    if (ACQUIRE_ORIGIN_LOCAL.test(fn)) o.local = true;
    w.notes.push(`#${ref} acquired by ${fn} (R0)`);
    w.events.push({ line, insn, refId: ref, text: `acquired by ${fn} in R0` });
  }
}

const CALL_RE = /^call ([A-Za-z_]\w*)/;
const LEAK_RE = /(?:Unreleased reference|reference leak).*?\bid=(\d+)/i;

/** Process one line (the walk's core). */
function step(w: WalkState, btf: BtfFacts, line: number, kind: number, text: string, program: number): void {
  w.notes = [];
  w.changed = new Set();
  w.line = line;
  const rec = rebuildRecord({ line, kind: kindFromCode(kind), insn: -1, text, crlf: false, unterminated: false }, program);
  switch (rec.kind) {
    case 'branch': {
      if (rec.safe || rec.state.trim() === '') return;
      resetPath(w);
      w.insn = rec.to;
      applyPrinted(w, parseState(rec.state), line, true);
      w.notes.push(`path restarts at ${rec.to} (from ${rec.from})`);
      return;
    }
    case 'state':
    case 'call-state': {
      const ps = parseState(rec.state);
      if (rec.kind === 'state') w.insn = rec.insn;
      applyPrinted(w, ps, line, ps.regs.some((r) => r.reg === 10));
      afterCall(w, line);
      return;
    }
    case 'insn': {
      w.insn = rec.insn;
      w.pendingCall = null;
      const call = CALL_RE.exec(rec.asm);
      const fn = call?.[1];
      if (fn && fn !== 'pc') {
        beforeCall(w, btf, fn, line, rec.insn);
        const fs = w.frameState(w.frame);
        for (const r of ['R1', 'R2', 'R3', 'R4', 'R5']) fs.regs.delete(r);
        w.pendingCall = { fn, insn: rec.insn };
      }
      if (rec.suffix !== undefined) {
        const ps = parseState(rec.suffix);
        applyPrinted(w, ps, line, false);
        // A printed state without `refs=` means no references — unless a held lock's entry
        // (id 0, first in the table) suppressed the list (6.13+), so only when no lock is held.
        if (!ps.refs && w.lock === null) w.refs = { ids: [], line };
      }
      if (rec.glued) applyPrinted(w, parseState(rec.glued.state), line, true);
      afterCall(w, line);
      return;
    }
    case 'error': {
      const m = LEAK_RE.exec(text);
      if (m?.[1]) {
        const o = w.objects.get(Number(m[1]));
        if (o) o.leaked = true;
        w.notes.push(`#${m[1]} leaked: ${text.trim()}`);
        w.events.push({ line, insn: w.insn, refId: Number(m[1]), text: `leaked: ${text.trim()}` });
      } else {
        w.notes.push(`kernel error: ${text.trim()}`);
      }
      return;
    }
    default:
      return;
  }
}

function resetPath(w: WalkState): void {
  w.pendingCall = null;
  w.frames = new Map();
  w.frame = 0;
  w.refs = null;
  w.lock = null;
  w.objects = new Map();
  w.events = [];
}

/** Start of the walk for `line`: the last path start at or before it (bounded by MAX_WALK). */
export function walkStart(idx: RunIndex, first: number, line: number): { from: number; partial: boolean } {
  const floor = Math.max(first, line - MAX_WALK);
  for (let l = line; l >= floor; l--) if (idx.kinds[l - 1] === K.branch) return { from: l, partial: false };
  return { from: floor, partial: floor > first };
}

const WALKED = new Set<number>([K.branch, K.state, K['call-state'], K.insn, K.error]);

/** Walk the lines [from, to] into `w`. */
export function walkRange(db: Db, idx: RunIndex, btf: BtfFacts, w: WalkState, from: number, to: number, program: number): void {
  for (let l = from; l <= to; l++) {
    const kind = idx.kinds[l - 1] ?? 0;
    if (!WALKED.has(kind)) continue;
    step(w, btf, l, kind, idx.textAt(db, l), program);
  }
  // The notes and changes belong to the selected line only.
  if (w.line !== to) {
    w.notes = [];
    w.changed = new Set();
  }
}

function hasBranch(idx: RunIndex, from: number, to: number): boolean {
  for (let l = from; l <= to; l++) if (idx.kinds[l - 1] === K.branch) return true;
  return false;
}

interface CachedWalk {
  key: string;
  from: number;
  to: number;
  state: WalkState;
  partial: boolean;
}

/**
 * Walks, cached per (run, program) so that stepping forward continues the previous walk instead of
 * starting over (one state object is advanced: callers must not keep it across calls).
 */
export class Walker {
  private last: CachedWalk | null = null;

  walkTo(db: Db, idx: RunIndex, btf: BtfFacts, program: number, first: number, line: number): WalkResult {
    const key = `${idx.runId}:${program}`;
    const c = this.last;
    // Stepping forward on the same path continues the previous walk (no path start in between).
    if (c && c.key === key && c.to <= line && line - c.from <= 4 * MAX_WALK && !hasBranch(idx, c.to + 1, line)) {
      if (c.to < line) walkRange(db, idx, btf, c.state, c.to + 1, line, program);
      c.to = line;
      return { state: c.state, fromLine: c.from, partial: c.partial };
    }
    const { from, partial } = walkStart(idx, first, line);
    const state = new WalkState();
    walkRange(db, idx, btf, state, from, line, program);
    this.last = { key, from, to: line, state, partial };
    return { state, fromLine: from, partial };
  }

  reset(): void {
    this.last = null;
  }
}
