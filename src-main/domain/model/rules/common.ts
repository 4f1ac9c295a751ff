/**
 * Shared argument checks for call rules: "is this an owning reference I may release / hand over",
 * with the findings the model reports when not (double release, use after release/invalidate,
 * release of an unowned pointer, non-zero offset).
 *
 * Contract: each check returns the object id when the argument passes, undefined after emitting
 * exactly one finding otherwise.
 */
import type { MReg } from '../regs.ts';
import type { ModelApi } from './types.ts';
import { borrowedHint } from './struct-ops.ts';

export function deadFinding(m: ModelApi, r: MReg, argName: string, use: string): void {
  const objs = r.obj !== undefined ? [r.obj] : [];
  const what = r.obj !== undefined ? m.objName(r.obj) : 'the object';
  if (r.dead === 'invalidated') {
    m.finding(
      'use-after-invalidate',
      objs,
      `${argName} is a non-owning reference to ${what} that was invalidated by bpf_spin_unlock at insn ${r.deadInsn ?? '?'}; ${use} needs a valid reference (take an owning reference with bpf_refcount_acquire before the unlock, or use it while the lock is held)`,
    );
  } else {
    const isRelease = /release|drop/.test(use);
    m.finding(
      isRelease ? 'double-release' : 'use-after-release',
      objs,
      `${argName} refers to ${what}, whose reference was already given up at insn ${r.deadInsn ?? '?'}; ${use} ${isRelease ? 'would release it a second time' : 'uses it after that'}`,
    );
  }
}

export interface OwnedCheck {
  /** Require offset 0 (release functions). */
  zeroOff?: boolean;
  /** Accept a non-owning reference (e.g. refcount_acquire). */
  allowNonOwning?: boolean;
}

export function checkOwned(
  m: ModelApi,
  r: MReg | undefined,
  argName: string,
  use: string,
  opts: OwnedCheck = {},
): number | undefined {
  if (r === undefined) {
    m.finding('release-unowned', [], `${argName} is not initialised when passed to ${use}`);
    return undefined;
  }
  if (r.k === 'dead') {
    deadFinding(m, r, argName, use);
    return undefined;
  }
  // An RCU pointer to a local object loaded from a kptr field (no graph node: not non-owning) is as
  // good as a non-owning one for a kfunc that takes non-owning references (bpf_refcount_acquire).
  const rcuLocal =
    opts.allowNonOwning === true && r.own === undefined && r.k === 'ptr' && r.flags?.includes('rcu') === true && r.btf !== undefined && (m.layout.structsByName.get(r.btf)?.fields.some((f) => f.kind !== 'plain') ?? false);
  if (rcuLocal) return r.obj ?? m.newObject(r.btf as string, 'an RCU pointer loaded from a kptr field', true);
  const ok = r.own === 'own' || (opts.allowNonOwning === true && r.own === 'nonown');
  if (!ok || r.obj === undefined) {
    const why = r.own === 'nonown' ? 'a non-owning reference (owned by a collection)' : `${m.describe(r)}, which carries no reference`;
    const hint = r.own === undefined && r.k === 'ptr' ? borrowedHint(m.structOps, r.btf) : '';
    m.finding('release-unowned', r.obj !== undefined ? [r.obj] : [], `${argName} passed to ${use} is ${why}; only an owning reference the program acquired may be released or handed over${hint ? ` (${hint})` : ''}`);
    return undefined;
  }
  if (opts.zeroOff && (r.off ?? 0) !== 0) {
    m.finding(
      'nonzero-offset-release',
      [r.obj],
      `${argName} points ${r.off} bytes into ${m.objName(r.obj)} (a field, not the object start) when passed to ${use}; convert it with container_of first`,
    );
    return undefined;
  }
  return r.obj;
}
