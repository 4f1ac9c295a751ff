/**
 * The interface between the replayer and the call rules (one module per helper/kfunc family).
 *
 * Contract: a `CallRule` is a table entry naming the helper/kfunc, the mainline release it
 * appeared in (reference §2.1) and what it does to the model through `ModelApi`. Rules never read
 * kernel-printed ownership: they see the model's registers (`args`), the BTF layout and the profile,
 * and report errors as findings. After `apply`, the replayer clears R1–R5 and sets R0 to what the
 * rule returned (scalar when nothing).
 */
import type { BtfLayout } from '../btf-layout.ts';
import type { Feature, KernelProfile } from '../kernel-profiles.ts';
import type { ProgType } from '../prog-types.ts';
import type { StructOpsInfo } from './struct-ops.ts';
import type { PathState } from '../path-state.ts';
import type { MReg } from '../regs.ts';
import type { EndKind, EventKind, FindingKind, ModelObject } from '../types.ts';

export interface ModelApi {
  readonly s: PathState;
  readonly insn: number;
  readonly layout: BtfLayout;
  readonly hasBtf: boolean;
  /** Rules (judging) profile. */
  readonly profile: KernelProfile;
  /** The program's type from its ELF section, when the loader named it (null otherwise). */
  readonly progType: ProgType | null;
  /** The struct_ops callback the program implements, as far as the log has told (null: none known). */
  readonly structOps: StructOpsInfo | null;
  /** Current frame number. */
  readonly frame: number;
  object(id: number): ModelObject | undefined;
  objName(id: number): string;
  newObject(type: string, origin: string, local: boolean, sameAs?: number): number;
  /** A fresh NULL-check group id for a maybe-NULL value. */
  nullGroup(): number;
  /** Add an owning reference entry for `obj` to the table. */
  addRef(obj: number): void;
  /** Remove `obj`'s reference entry and turn every owning alias into a dead register. */
  dropRef(obj: number, end: EndKind, event: EventKind | null, to: string | null): void;
  /** Convert every owning alias of `obj` into a non-owning reference and remove its entry. */
  toNonOwning(obj: number): void;
  /** Invalidate every non-owning reference (bpf_spin_unlock). */
  invalidateNonOwning(): void;
  holders(obj: number): string[];
  event(kind: EventKind, obj: number, from: string | null, to: string | null): void;
  endObject(obj: number, end: EndKind): void;
  finding(kind: FindingKind, objs: number[], explanation: string, extra?: { feature?: string }): void;
  /** False (after emitting a feature-unavailable finding) when the profile lacks the feature. */
  requireFeature(f: Feature, what: string): boolean;
  /** Queue the synchronous callback frame of `bpf_rbtree_add` as a pending branch of this call. */
  pushCallback(args: MReg[]): void;
  /** Text of a register for explanations. */
  describe(r: MReg | undefined): string;
  /** The current instruction ends the path (nothing follows it: bpf_throw). With `judgeAs` it is then
   * judged like the main program's exit (held locks, RCU sections, leaks), worded "<judgeAs> at insn N". */
  endPath(judgeAs?: string): void;
}

export interface CallInfo {
  name: string;
  /** Helper number or kfunc BTF id printed after `#`. */
  num: number;
  /** R1..R5 as the model holds them before the call (index 0 = R1). */
  args: (MReg | undefined)[];
}

export interface CallRule {
  name: string;
  /** UAPI helper number (helpers only; kfuncs are matched by name). */
  helper?: number;
  /** Mainline release the helper/kfunc appeared in. */
  since: string;
  feature?: Feature;
  /** Returns R0 (undefined: unknown scalar). */
  apply(m: ModelApi, call: CallInfo): MReg | undefined;
}
