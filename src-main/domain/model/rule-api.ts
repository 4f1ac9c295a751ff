/**
 * The model as the call rules see it (rules/types.ts `ModelApi`): the current path state, objects,
 * events and findings, plus the operations every family shares — add or drop a reference, turn
 * owning aliases non-owning, invalidate non-owning references, require a kernel feature, queue a
 * synchronous callback frame.
 *
 * Contract: `createModelApi(deps)` reads the Cursor's current state on every call (a rule runs on
 * the state of the instruction being replayed; there must be one); `pushCallback` hands the
 * callback's start state to the path walk, which enters it when the log shows the callback.
 */
import type { BtfLayout } from './btf-layout.ts';
import type { ProgType } from './prog-types.ts';
import type { StructOpsInfo } from './rules/struct-ops.ts';
import { featureMessage, supports, type KernelProfile } from './kernel-profiles.ts';
import { cloneState, enterFrame, holdersOf, newFrame, regName, replaceValues, type PathState } from './path-state.ts';
import { copyRegCold, regText, type MReg } from './regs.ts';
import type { ModelApi } from './rules/types.ts';
import type { Cursor, ObjectTable } from './object-table.ts';
import type { ReplayLog } from './replay-log.ts';

export interface ModelApiDeps {
  cur: Cursor;
  objects: ObjectTable;
  log: ReplayLog;
  layout: BtfLayout;
  hasBtf: boolean;
  profile: KernelProfile;
  progType: ProgType | null;
  /** The struct_ops callback the program implements (the path walk learns it from a raw log). */
  structOps: () => StructOpsInfo | null;
  /** Queue a callback frame's start state as a pending branch of the current instruction. */
  pushCallback(state: PathState): void;
}

export function createModelApi(d: ModelApiDeps): ModelApi {
  const { cur, objects, log } = d;
  const st = (): PathState => {
    if (!cur.s) throw new Error('no current path state');
    return cur.s;
  };
  return {
    get s() {
      return st();
    },
    get insn() {
      return cur.insn;
    },
    layout: d.layout,
    hasBtf: d.hasBtf,
    profile: d.profile,
    progType: d.progType,
    get structOps() {
      return d.structOps();
    },
    get frame() {
      return st().cur;
    },
    object: (id) => objects.obj(id),
    objName: (id) => objects.objName(id),
    newObject: (t, o, l, same) => objects.newObject(t, o, l, same),
    nullGroup: () => objects.nullGroup(),
    addRef: (obj) => {
      st().refs.push({ id: objects.obj(obj)?.refId, kind: 'ptr', obj });
    },
    dropRef: (obj, end, ev, to) => {
      const s = st();
      const from = holdersOf(s, obj).join(',') || null;
      const i = s.refs.findIndex((e) => e.kind === 'ptr' && e.obj === obj);
      if (i >= 0) s.refs.splice(i, 1);
      for (const f of s.frames) {
        f.regs.forEach((r, k) => {
          if (r && r.obj === obj && r.own === 'own') f.regs[k] = { k: 'dead', dead: 'released', deadInsn: cur.insn, obj };
        });
        for (const slot of f.slots.values()) {
          if (slot.spill && slot.spill.obj === obj && slot.spill.own === 'own') {
            slot.spill = { k: 'dead', dead: 'released', deadInsn: cur.insn, obj };
          }
        }
      }
      if (ev) log.event(ev, obj, from, to);
      objects.endObject(obj, end);
    },
    toNonOwning: (obj) => {
      const s = st();
      const i = s.refs.findIndex((e) => e.kind === 'ptr' && e.obj === obj);
      if (i >= 0) s.refs.splice(i, 1);
      replaceValues(s, (r) => {
        if (r.obj !== obj || r.own !== 'own') return undefined;
        const c = copyRegCold(r);
        c.own = 'nonown';
        delete c.ref;
        delete c.nid;
        return c;
      });
    },
    invalidateNonOwning: () => {
      const s = st();
      const seen = new Map<number, string[]>();
      for (const f of s.frames) {
        const kill = (r: MReg | undefined, name: string): MReg | undefined => {
          if (!r || r.own !== 'nonown' || r.k === 'dead') return undefined;
          if (r.obj !== undefined) seen.set(r.obj, [...(seen.get(r.obj) ?? []), name]);
          const dead: MReg = { k: 'dead', dead: 'invalidated', deadInsn: cur.insn };
          if (r.obj !== undefined) dead.obj = r.obj;
          return dead;
        };
        const fno = s.frames.indexOf(f);
        f.regs.forEach((r, k) => {
          const dead = kill(r, regName(fno, k));
          if (dead) f.regs[k] = dead;
        });
        for (const [off, slot] of f.slots) {
          const dead = kill(slot.spill, `fp${off}`);
          if (dead) slot.spill = dead;
        }
      }
      for (const [obj, names] of seen) log.event('invalidate', obj, names.join(','), null);
    },
    holders: (obj) => holdersOf(st(), obj),
    event: (kind, obj, from, to) => log.event(kind, obj, from, to === 'R0' && st().cur > 0 ? regName(st().cur, 0) : to),
    endObject: (obj, end) => objects.endObject(obj, end),
    finding: (kind, objs, explanation, extra) => log.finding(kind, objs, explanation, extra),
    requireFeature: (f, what) => {
      if (supports(d.profile, f)) return true;
      log.finding('feature-unavailable', [], `${what}: ${featureMessage(f)} (replayed under the ${d.profile.name} profile)`, { feature: f });
      return false;
    },
    pushCallback: (args) => {
      const cb = cloneState(st());
      const fr = newFrame();
      fr.cb = true;
      fr.callsite = cur.insn;
      args.forEach((a, i) => (fr.regs[i + 1] = a));
      fr.regs[10] = { k: 'fp', v: '0', off: 0 };
      enterFrame(cb, fr);
      d.pushCallback(cb);
    },
    describe: (r) => (r === undefined ? 'uninitialised' : regText(r)),
    endPath: (judgeAs) => {
      cur.endsPath = judgeAs === undefined ? {} : { judgeAs };
    },
  };
}
