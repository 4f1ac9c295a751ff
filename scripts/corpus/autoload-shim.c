// SPDX-License-Identifier: GPL-2.0
/*
 * autoload-shim - linked into scripts/loader.c (unchanged) for the selftests
 * corpus with  -Wl,--wrap=bpf_program__set_log_level.
 *
 * loader.c selects programs with --prog NAME by turning autoload OFF for the
 * others, but never turns it ON for the wanted ones, so a program in a
 * libbpf "?SEC" section (autoload off by default, as in most *_fail.c
 * selftests) would not be loaded at all and the load would "succeed" with an
 * empty log. loader.c calls bpf_program__set_log_level() exactly for the
 * programs it wants to load, so this wrapper turns their autoload on there.
 */
#include <stdbool.h>
#include <bpf/libbpf.h>

int __real_bpf_program__set_log_level(struct bpf_program *prog, __u32 log_level);

int __wrap_bpf_program__set_log_level(struct bpf_program *prog, __u32 log_level)
{
	bpf_program__set_autoload(prog, true);
	return __real_bpf_program__set_log_level(prog, log_level);
}
