/**
 * Public types of the ownership model (pure data, JSON-serialisable).
 *
 * Contract: everything `replayProgram` returns is described here. Holders are strings:
 * `R6`, `fp-16`, `frame1.R1`, `task_node#2.task` (kptr field of a local object),
 * `.data.A:fifo` (global list/rbtree root), `map tmap[value].task` (map-value kptr field),
 * `NULL` (the NULL branch of a check), `freed` (dropped/released).
 */

export type EventKind =
  | 'acquire'
  | 'stash'
  | 'unstash'
  | 'push'
  | 'pop'
  | 'add'
  | 'remove'
  | 'drop'
  | 'release'
  | 'invalidate'
  | 'leak'
  | 'convert';

export interface OwnershipEvent {
  /** Index of the step (see ReplayResult.steps) the event belongs to. */
  step: number;
  insn: number;
  line: number;
  kind: EventKind;
  /** Model object id. */
  object: number;
  from: string | null;
  to: string | null;
}

export type EndKind =
  | 'release'
  | 'drop'
  | 'freed-with-parent'
  | 'null'
  | 'stash'
  | 'push'
  | 'add'
  | 'unstash'
  | 'leak';

export interface ModelObject {
  /** Model object id (1, 2, …): one reference lineage (a kernel ref id on one walk). */
  id: number;
  /** Kernel ref_obj_id (undefined until the log names it). */
  refId?: number;
  /** BTF struct name, e.g. `task_node`, `task_struct`. */
  type: string;
  /** 'bpf_obj_new', 'bpf_task_acquire', 'bpf_kptr_xchg', 'bpf_list_pop_front', 'snapshot' (seen first in a printed state), … */
  origin: string;
  /** local (bpf_obj_new family) or kernel object. */
  local: boolean;
  allocInsn: number;
  /** Object this reference was taken from (refcount_acquire) or that came back out of a kptr/collection, when known. */
  sameAs?: number;
  endInsn?: number;
  endKind?: EndKind;
  /** Every end seen (one per explored path that ends it). */
  ends: { insn: number; kind: EndKind }[];
}

export type FindingKind =
  | 'leak'
  | 'double-release'
  | 'use-after-release'
  | 'use-after-invalidate'
  | 'lock-not-held'
  | 'exit-while-locked'
  | 'not-a-kptr-field'
  | 'kptr-type-mismatch'
  | 'kptr-forward-decl'
  | 'contains-missing-type'
  | 'release-unowned'
  | 'nonzero-offset-release'
  | 'feature-unavailable'
  | 'null-argument'
  | 'invalid-dereference'
  | 'special-field-access'
  | 'graph-field-mismatch'
  | 'call-while-locked'
  | 'context-violation'
  | 'prog-type-violation'
  | 'outside-model';

export interface FindingObject {
  type: string;
  allocInsn: number;
  refId?: number;
  lastHolders: string[];
  object?: number;
}

export interface Finding {
  kind: FindingKind;
  insn: number;
  line: number;
  objects: FindingObject[];
  /** Branch targets taken from the program start, e.g. [0, 9, 13, 17]. */
  path: number[];
  explanation: string;
  /** For `outside-model`: the kernel's error text. For feature findings: the feature. */
  kernelText?: string;
  feature?: string;
}

export interface Divergence {
  insn: number;
  line: number;
  /** What was compared, e.g. `R6`, `fp-16`, `refs`, `frame`. */
  what: string;
  model: string;
  kernel: string;
}

/** Decoded state of the model at one step (see step-store.ts). */
export interface RegView {
  /** Kernel-like display, e.g. `ptr_task_node(ref_obj_id=2,off=8)`. */
  text: string;
  own?: 'own' | 'nonown';
  dead?: 'released' | 'invalidated';
  object?: number;
  refId?: number;
}

export interface FrameView {
  regs: Record<string, RegView>;
  slots: Record<string, RegView>;
  cb: boolean;
}

export interface StateView {
  frame: number;
  frames: FrameView[];
  refs: { id: number; kind: 'ptr' | 'lock' | 'irq'; object?: number }[];
  lock: string | null;
  /** objectId → holder (kptr field, list/rbtree root, map value) on the current path. */
  placed: Record<string, string>;
  path: number[];
}

export interface Step {
  insn: number;
  line: number;
  /** Index of the path (0 = first walk, +1 at every restart). */
  pathIndex: number;
}

export interface ReplayResult {
  name: string;
  kernelProfile: string;
  verdict: 'accepted' | 'rejected';
  failInsn: number | null;
  /** The first error the model found (or the outside-model finding); null when accepted. */
  finding: Finding | null;
  findings: Finding[];
  events: OwnershipEvent[];
  objects: ModelObject[];
  divergences: Divergence[];
  steps: Step[];
  /** Rebuild the model state after step `i` (checkpoint + deltas). */
  stateAt(i: number): StateView;
  /** Compact storage of the per-step state: checkpoints every `interval` steps and deltas. */
  stateStore: StoredStates;
  /** Kernel error text present in the log (only used for `outside-model`). */
  kernelError: string | null;
}

export interface StateDelta {
  set: [string, string][];
  del: string[];
}

export interface StoredStates {
  interval: number;
  /** checkpoints[k] = flat state after step k*interval. */
  checkpoints: [string, string][][];
  /** deltas[i] = change from step i-1 to step i (deltas[0] from the empty state). */
  deltas: StateDelta[];
}
