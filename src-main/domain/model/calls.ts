/**
 * Rule dispatch: what a helper/kfunc call and the main program's exit do to the model.
 *
 * Contract: `execCall` finds the call's rule (by name, helper number, or the acquire/release name
 * heuristics), applies it through the ModelApi, then clears R1–R5 and sets R0 to what the rule
 * returned (an unknown scalar when nothing, or when no rule knows the call). With a lock held, a
 * call other than those callableUnderLock (locks.ts) is `call-while-locked` and has no effect.
 * `checkMainExit`
 * judges the exit of the main program, or a call that ends the whole program (bpf_throw): a held lock
 * is `exit-while-locked`, an open RCU read section a `context-violation`, every reference still in
 * the table is a leak (with who still owns it, or who held it last).
 */
import { curFrame, holdersOf, type PathState } from './path-state.ts';
import { scalar, type MReg } from './regs.ts';
import type { RuleRegistry } from './rules/index.ts';
import type { CallInfo, ModelApi } from './rules/types.ts';
import { leakExplanation } from './findings.ts';
import { checkTrustedArgs } from './rules/trusted-args.ts';
import { callableUnderLock } from './rules/locks.ts';
import type { ObjectTable } from './object-table.ts';
import type { ReplayLog } from './replay-log.ts';

export function execCall(api: ModelApi, rules: RuleRegistry, s: PathState, name: string, num: number): void {
  const fr = curFrame(s);
  const args = [1, 2, 3, 4, 5].map((i) => fr.regs[i]);
  const isHelper = num > 0 && num < 1000;
  const rule = rules.find(name, num, isHelper);
  const call: CallInfo = { name, num, args };
  let r0: MReg | undefined;
  const info = isHelper ? undefined : rules.kfuncInfo(name);
  if (s.lock && !callableUnderLock(name, { isHelper, spinlockSafeFlag: rules.definesFlag('KF_SPINLOCK_SAFE'), spinlockSafe: info?.flags.spinlockSafe })) {
    api.finding('call-while-locked', [], `${name} is called at insn ${api.insn} while ${s.lock.name} is held: only bpf_spin_unlock and the list/rbtree kfuncs may be called inside a bpf_spin_lock-ed region (function calls are not allowed while holding a lock)`);
  } else if (info === undefined || checkTrustedArgs(api, info, call)) {
    if (rule) r0 = rule.apply(api, call);
  }
  const after = curFrame(s);
  for (let i = 1; i <= 5; i++) after.regs[i] = undefined;
  after.regs[0] = r0 ?? scalar();
}

/** `returns`: the struct_ops callback hands a reference of this type back by returning it (R0). */
export function checkMainExit(s: PathState, insn: number, objects: ObjectTable, log: ReplayLog, how = 'the program exits', returns: string | null = null): void {
  if (s.lock) {
    log.finding(
      'exit-while-locked',
      [],
      `${how} at insn ${insn} while ${s.lock.name} is still locked (path ${s.path.join('→')}); call bpf_spin_unlock on every path before returning`,
    );
    return;
  }
  if (s.rcu) {
    log.finding('context-violation', [], `${how} at insn ${insn} inside an RCU read section (path ${s.path.join('→')}): bpf_rcu_read_unlock is missing`);
    return;
  }
  const r0 = s.frames[0]?.regs[0];
  if (returns !== null && r0?.own === 'own' && r0.obj !== undefined && (r0.btf ?? objects.obj(r0.obj)?.type) === returns) {
    // Returning it hands the reference to the kernel (a qdisc's dequeue gives the skb back).
    const i = s.refs.findIndex((e) => e.kind === 'ptr' && e.obj === r0.obj);
    if (i >= 0) {
      log.event('release', r0.obj, holdersOf(s, r0.obj).join(',') || 'R0', 'the kernel (returned)');
      objects.endObject(r0.obj, 'release');
      s.refs.splice(i, 1);
    }
  }
  const leaked = s.refs.filter((e) => e.kind === 'ptr' && e.obj !== undefined).map((e) => e.obj as number);
  if (leaked.length === 0) return;
  for (const obj of leaked) {
    log.event('leak', obj, holdersOf(s, obj).join(',') || null, null);
    objects.endObject(obj, 'leak');
  }
  const texts = leaked.map((obj) => leakExplanation(objects.obj(obj), objects.objName(obj), holdersOf(s, obj), objects.lastHolders.get(obj), insn, s.path, how));
  log.finding('leak', leaked, texts.join('; '));
}
