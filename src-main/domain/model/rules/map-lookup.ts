/**
 * Map helpers: bpf_map_lookup_elem (#1, 3.19) returns a maybe-NULL map value (which may hold kptr
 * fields); update/delete carry no ownership. No reference is acquired.
 *
 * Contract: R0 is a plain map_value pointer of the map named by R1; its NULL check is a plain one.
 */
import type { MReg } from '../regs.ts';
import type { CallInfo, CallRule, ModelApi } from './types.ts';

export const MAP_RULES: readonly CallRule[] = [
  {
    name: 'bpf_map_lookup_elem',
    helper: 1,
    since: '3.19',
    apply(m: ModelApi, call: CallInfo): MReg | undefined {
      const r0: MReg = { k: 'ptr', base: 'map_value', off: 0, nul: true, ng: m.nullGroup() };
      const map = call.args[0]?.map;
      if (map !== undefined) r0.map = map;
      return r0;
    },
  },
];
