/**
 * Rule registry: finds the rule for a `call name#N` line — helpers by UAPI number or name, kfuncs
 * by name (their number is a per-kernel BTF id): a family's own rule first, else the release's kfunc
 * flag table (table-kfuncs.ts), else the `*_acquire`/`*_release` name heuristics for kfuncs no table
 * knows (out-of-tree modules). Unknown calls have no ownership effect (R0 becomes an unknown scalar).
 */
import { KERNEL_OBJECT_RULES, heuristicRule } from './kernel-objects.ts';
import { KPTR_XCHG_RULES } from './kptr-xchg.ts';
import { LIST_RULES } from './list.ts';
import { lockRules, type LockApi } from './locks.ts';
import { MAP_RULES } from './map-lookup.ts';
import { OBJ_NEW_RULES } from './obj-new.ts';
import { RBTREE_RULES } from './rbtree.ts';
import { REFCOUNT_RULES } from './refcount.ts';
import { RCU_RULES } from './rcu.ts';
import { EXCEPTION_RULES } from './exceptions.ts';
import { IRQ_RULES } from './irq.ts';
import { tableRule } from './table-kfuncs.ts';
import { kfunc, kfuncTable, type KfuncTable } from '../kfuncs/index.ts';
import type { CallRule } from './types.ts';

export interface RegistryOptions extends LockApi {
  /** The release whose kfunc tables judge kfuncs no family covers (the rules profile). */
  release: string;
}

export class RuleRegistry {
  private byName = new Map<string, CallRule>();
  private byHelper = new Map<number, CallRule>();
  private readonly table: KfuncTable;
  private readonly fromTable = new Map<string, CallRule | undefined>();

  constructor(api: RegistryOptions) {
    this.table = kfuncTable(api.release);
    const all: CallRule[] = [
      ...KPTR_XCHG_RULES,
      ...OBJ_NEW_RULES,
      ...REFCOUNT_RULES,
      ...LIST_RULES,
      ...RBTREE_RULES,
      ...lockRules(api),
      ...KERNEL_OBJECT_RULES,
      ...MAP_RULES,
      ...RCU_RULES,
      ...EXCEPTION_RULES,
      ...IRQ_RULES,
    ];
    for (const r of all) {
      this.byName.set(r.name, r);
      if (r.helper !== undefined) this.byHelper.set(r.helper, r);
    }
  }

  /** Whether the release's kfunc table defines a KF_* flag (e.g. KF_SPINLOCK_SAFE from 7.3). */
  definesFlag(name: string): boolean {
    return this.table.flagDefs.some((f) => f.name === name);
  }

  /** The release's facts about a kfunc (undefined for helpers and kfuncs the table lacks). */
  kfuncInfo(name: string) {
    return kfunc(this.table, name);
  }

  /** `name` as printed (`bpf_kptr_xchg`), `num` the number after `#`, `isHelper` when the number is a helper id. */
  find(name: string, num: number, isHelper: boolean): CallRule | undefined {
    const named = this.byName.get(name);
    if (named) return named;
    if (isHelper) return this.byHelper.get(num);
    if (!this.fromTable.has(name)) this.fromTable.set(name, tableRule(this.table, name));
    return this.fromTable.get(name) ?? heuristicRule(name);
  }
}

export type { CallRule, CallInfo, ModelApi } from './types.ts';
