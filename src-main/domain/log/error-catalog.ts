/**
 * Catalog of the verifier's error messages (kernels 4.20 … 6.18 and bpf-next wording), as regexes.
 *
 * `matchError(line)` returns the catalog id of a line the kernel prints when it rejects a program, or
 * undefined. Ids are stable strings used by the store and the ownership model to classify findings.
 * Lines that match no entry can still be errors: the log importer treats free text right before the
 * statistics as error text (see program-state.ts).
 */

import { kernelTextOf } from './wrappers.ts';

export interface ErrorPattern {
  id: string;
  re: RegExp;
}

export const ERROR_CATALOG: readonly ErrorPattern[] = [
  // references
  { id: 'unreleased-reference', re: /^Unreleased reference id=\d+ alloc_insn=\d+$/ },
  { id: 'would-leak', re: /^.+ would lead to reference leak$/ },
  { id: 'must-be-referenced-release', re: /^R\d+ must be referenced when passed to release function$/ },
  { id: 'release-expects-refcounted', re: /^release kernel function \S+ expects refcounted PTR_TO_BTF_ID$/ },
  { id: 'not-acquired', re: /^(?:func|kfunc) \S+#\d+ reference has not been acquired before$/ },
  { id: 'owning-to-non-owning-failed', re: /^kfunc \S+#\d+ conversion of owning ref to non-owning failed$/ },
  { id: 'release-nonzero-off', re: /^R\d+ must have zero offset when passed to release func/ },
  { id: 'unacquired-reference', re: /^arg \d+ is an unacquired reference$/ },
  { id: 'ld-abs-socket-refs', re: /^BPF_LD_\[ABS\|IND\] cannot be mixed with socket references$/ },
  // trust / NULL
  { id: 'possibly-null', re: /^Possibly NULL pointer passed to (?:trusted|helper) (?:arg|R)\d+$/ },
  { id: 'must-be-referenced-or-trusted', re: /^R\d+ must be referenced or trusted$/ },
  { id: 'must-be-rcu', re: /^R\d+ must be a rcu pointer$/ },
  { id: 'kfunc-arg-type', re: /^kernel function \S+ args#\d+ expected pointer to / },
  { id: 'kfunc-not-allowed', re: /^calling kernel function \S+ is not allowed$/ },
  { id: 'reg-type', re: /^R\d+ type=\S+ expected=/ },
  { id: 'invalid-mem-access', re: /^R\d+ invalid mem access '[^']*'$/ },
  { id: 'modified-ptr-deref', re: /^dereference of modified \S+ ptr R\d+ off=-?\d+ disallowed$/ },
  { id: 'ptr-arith-null', re: /^R\d+ pointer arithmetic on \S+ prohibited/ },
  { id: 'var-access', re: /^variable \S+ access var_off=.* disallowed$/ },
  { id: 'not-read-ok', re: /^R\d+ !read_ok$/ },
  // kptr
  { id: 'invalid-kptr-access', re: /^invalid kptr access, R\d+ type=/ },
  { id: 'store-referenced-kptr', re: /^store to referenced kptr disallowed$/ },
  { id: 'kptr-st-imm', re: /^BPF_ST imm must be 0 when storing to kptr at off=\d+$/ },
  { id: 'kptr-mode', re: /^kptr in map can only be accessed using / },
  { id: 'kptr-helper', re: /^kptr cannot be accessed indirectly by helper$/ },
  { id: 'kptr-var-off', re: /^kptr access cannot have variable offset$/ },
  { id: 'kptr-misaligned', re: /^kptr access misaligned expected=\d+ off=\d+$/ },
  { id: 'kptr-size', re: /^kptr access size must be BPF_DW$/ },
  { id: 'kptr-const-off', re: /^R\d+ doesn't have constant offset\. kptr has to be at the constant offset$/ },
  { id: 'kptr-map-btf', re: /^map '[^']*' has to have BTF in order to use bpf_kptr_xchg$/ },
  { id: 'no-valid-kptr', re: /^(?:R\d+|map '[^']*') has no valid kptr$/ },
  { id: 'not-kptr', re: /^off=\d+ doesn't point to kptr$/ },
  { id: 'kptr-not-referenced', re: /^off=\d+ kptr isn't referenced kptr$/ },
  { id: 'special-field-access', re: /^(?:\S+ cannot be accessed directly by load\/store|direct access to \S+ is disallowed)$/ },
  // local objects
  { id: 'obj-new-btf', re: /^bpf_obj_new\/bpf_percpu_obj_new requires prog BTF$/ },
  { id: 'obj-new-type', re: /^bpf_(?:percpu_)?obj_new(?:\/bpf_percpu_obj_new)? type ID argument must / },
  { id: 'percpu-obj-size', re: /^bpf_percpu_obj_new type size \(\d+\) is greater than \d+$/ },
  { id: 'local-type-range', re: /^local type ID argument must be in range/ },
  { id: 'expected-allocated', re: /^arg#\d+ expected pointer to allocated object$/ },
  { id: 'drop-expected', re: /^arg#\d+ expected for bpf_(?:percpu_)?obj_drop_impl\(\)$/ },
  { id: 'allocated-must-be-referenced', re: /^allocated object must be referenced$/ },
  { id: 'neither-owning', re: /^(?:arg#|R)\d+ is neither owning or non-owning ref$/ },
  { id: 'no-refcount-field', re: /^arg#\d+ doesn't point to a type with bpf_refcount field$/ },
  // locks
  { id: 'two-locks', re: /^Locking two bpf_spin_locks are not allowed$/ },
  { id: 'unlock-without-lock', re: /^bpf_spin_unlock without taking a lock$/ },
  { id: 'unlock-different', re: /^bpf_spin_unlock of different lock$/ },
  { id: 'unlock-missing', re: /^bpf_spin_unlock is missing$/ },
  { id: 'exit-in-locked-region', re: /^.+ cannot be used inside bpf_spin_lock-ed region$/ },
  { id: 'calls-while-locked', re: /^(?:global )?function calls are not allowed while holding a lock/ },
  { id: 'use-static-function', re: /^use static function instead$/ },
  { id: 'lock-const-off', re: /^R\d+ doesn't have constant offset\. bpf_spin_lock has to be at the constant offset$/ },
  { id: 'lock-map-btf', re: /^map '[^']*' has to have BTF in order to use bpf_spin_lock$/ },
  { id: 'no-valid-lock', re: /^\S+ '[^']*' has no valid bpf_spin_lock$/ },
  { id: 'lock-off', re: /^off -?\d+ doesn't point to 'struct bpf_spin_lock' that is at \d+$/ },
  { id: 'lock-prog-type', re: /^(?:socket filter|tracing) progs cannot use bpf_spin_lock yet$/ },
  // graph
  { id: 'lock-must-be-held', re: /^bpf_spin_lock at off=\d+ must be held for \S+$/ },
  { id: 'lock-not-same-allocation', re: /^held lock and object are not in the same allocation$/ },
  { id: 'graph-const-off', re: /^R\d+ doesn't have constant offset\. \S+ has to be at the constant offset$/ },
  { id: 'graph-not-found', re: /^bpf_(?:list_head|rb_root|list_node|rb_node) not found at offset=\d+$/ },
  { id: 'graph-root-kind', re: /^arg#\d+ expected pointer to map value or allocated object$/ },
  { id: 'graph-node-mismatch', re: /^(?:operation on \S+ expects arg#1|arg#1 offset=\d+, but expected)/ },
  { id: 'rbtree-remove-node', re: /^(?:rbtree_remove node input must be non-owning ref|\S+ can only take non-owning or refcounted bpf_rb_node pointer)$/ },
  { id: 'rbtree-cb', re: /^(?:\S+ not allowed in rbtree cb|can't spin_\{lock,unlock\} in rbtree cb|Calling bpf_rcu_read_\{lock,unlock\} in unnecessary rbtree callback)$/ },
  { id: 'callback-verification', re: /^kfunc \S+#\d+ failed callback verification$/ },
  { id: 'graph-prog-type', re: /^tracing progs cannot use bpf_\{list_head,rb_root\} yet$/ },
  // rcu / sleepable / preemption
  { id: 'rcu', re: /^(?:nested rcu read lock|unmatched rcu read unlock|bpf_rcu_read_unlock is missing|kernel func \S+ is sleepable within rcu_read_lock region|sleepable helper \S+ in rcu_read_lock region|program must be sleepable to call sleepable kfunc|expected an RCU CS)/ },
  { id: 'preempt', re: /^(?:\d+ bpf_preempt_enable\S* missing|unmatched attempt to enable preemption)/ },
  // budget / structure
  { id: 'too-large', re: /^BPF program is too large\. Processed \d+ insn$/ },
  { id: 'too-complex', re: /^The sequence of \d+ jumps is too complex\.$/ },
  { id: 'infinite-loop', re: /^infinite loop detected at insn \d+$/ },
  { id: 'back-edge', re: /^back-edge from insn \d+ to \d+$/ },
  { id: 'unreachable', re: /^unreachable insn \d+$/ },
  { id: 'jump-out-of-range', re: /^jump out of range from insn \d+ to \d+$/ },
  { id: 'last-insn', re: /^last insn is not an exit or jmp$/ },
  { id: 'invalid-access', re: /^invalid (?:access to|read from|write to|size|bpf_context access|indirect read|stack|zero-sized read|variable-offset)/ },
  { id: 'unknown-func', re: /^(?:unknown func|invalid func|program of this type cannot use helper) / },
  { id: 'verifier-bug', re: /^(?:verifier internal error|verifier bug)/ },
  { id: 'arg-type', re: /^(?:arg#\d+ |R\d+ (?:leaks addr|min value|max value|unbounded|is not a|has unknown|doesn't have|is invalid|type=))/ },
];

export function matchError(line: string): string | undefined {
  for (const p of ERROR_CATALOG) if (p.re.test(line)) return p.id;
  return undefined;
}

/**
 * The error class of a line already known to be error text (as the parser records it, and as the
 * store rebuilds it from the line's text alone): the line itself, else the line without the one
 * TAB cilium/ebpf puts before each kernel line (and without a glued libbpf END marker).
 */
export function errorClassOfLine(line: string): string | undefined {
  const text = kernelTextOf(line);
  return matchError(text) ?? (text.charCodeAt(0) === 9 ? matchError(text.slice(1)) : undefined);
}
