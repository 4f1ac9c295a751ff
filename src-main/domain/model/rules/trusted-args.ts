/**
 * Trusted kfunc arguments: a kfunc whose release treats its pointer arguments as trusted (the flag
 * table's `argsTrusted` — KF_TRUSTED_ARGS, KF_RCU, release kfuncs, every kfunc from 7.x) must not
 * get a pointer that may still be NULL (kernel: "Possibly NULL pointer passed to trusted argN",
 * since 6.2), unless its prototype marks the parameter `__nullable`/`__opt` (or `__ign`, not a
 * pointer the kernel reads).
 *
 * Contract: `checkTrustedArgs(m, info, call)` emits one `null-argument` finding and returns false
 * for the first offending argument, else true. Without the program's prototype only values the
 * model knows are maybe-NULL pointers are judged (a constant 0 may be a plain scalar argument); with
 * it, a literal 0 for a named pointer parameter or an unnamed first one.
 */
import type { KfuncInfo } from '../kfuncs/index.ts';
import type { MReg } from '../regs.ts';
import type { CallInfo, ModelApi } from './types.ts';

const OPTIONAL_PARAM = /__(nullable|opt|ign|szk|sz|k)$/;

function maybeNull(r: MReg | undefined, pointerParam: boolean): boolean {
  if (r === undefined) return false;
  if (r.k === 'ptr' && r.nul === true) return true;
  // A literal NULL where the prototype says pointer.
  return pointerParam && r.k === 'const' && r.v === '0';
}

export function checkTrustedArgs(m: ModelApi, info: KfuncInfo, call: CallInfo): boolean {
  if (!info.argsTrusted && !info.argsMayBeRcu) return true;
  const params = m.layout.kfuncParams.get(call.name);
  for (let i = 0; i < call.args.length; i++) {
    const p = params?.[i];
    if (params !== undefined && p === undefined) break;
    if (p !== undefined && (!p.pointer || OPTIONAL_PARAM.test(p.name))) continue;
    const r = call.args[i];
    // A literal 0 is judged only where the prototype names the parameter (extern prototypes in a
    // program's BTF usually carry no names, and `meta__ign`-style arguments are 0 by design) or
    // for an unnamed first parameter: the object a kfunc works on (`__ign`/`__opt` pointers are
    // never the first, e.g. bpf_obj_drop_impl(p, meta__ign)).
    if (!maybeNull(r, p !== undefined && p.pointer && (p.name !== '' || i === 0))) continue;
    const objs = r?.obj !== undefined ? [r.obj] : [];
    const what = r?.obj !== undefined ? m.objName(r.obj) : m.describe(r);
    m.finding(
      'null-argument',
      objs,
      `R${i + 1} (${m.describe(r)}) may be NULL here, but ${call.name} takes a trusted pointer as arg${i}${p ? ` (${p.name})` : ''}; check ${what} against NULL before the call`,
    );
    return false;
  }
  return true;
}
