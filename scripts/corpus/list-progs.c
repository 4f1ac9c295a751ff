// SPDX-License-Identifier: GPL-2.0
/*
 * list-progs - print libbpf's view of the programs in a BPF object, one per
 * line, tab-separated, for the selftests corpus (scripts/corpus/):
 *
 *   NAME  SECTION  PROG_TYPE  ATTACH_TYPE  AUTOLOAD(0/1)  INSN_CNT
 *
 * PROG_TYPE / ATTACH_TYPE are libbpf's names (libbpf_bpf_prog_type_str(),
 * libbpf_bpf_attach_type_str()), derived from SEC() exactly as a load would.
 * Opens the object only: nothing is loaded into the kernel.
 * exit: 0 ok, 1 the object does not open (libbpf's message on stderr).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <bpf/libbpf.h>

static int print_warn(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG || level == LIBBPF_INFO)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

int main(int argc, char **argv)
{
	struct bpf_object *obj;
	struct bpf_program *prog;

	if (argc != 2) {
		fprintf(stderr, "usage: %s OBJ\n", argv[0]);
		return 2;
	}
	libbpf_set_print(print_warn);
	obj = bpf_object__open_file(argv[1], NULL);
	if (!obj) {
		fprintf(stderr, "%s: open failed: %s\n", argv[1], strerror(errno));
		return 1;
	}
	bpf_object__for_each_program(prog, obj) {
		const char *pt = libbpf_bpf_prog_type_str(bpf_program__type(prog));
		const char *at = libbpf_bpf_attach_type_str(bpf_program__expected_attach_type(prog));

		printf("%s\t%s\t%s\t%s\t%d\t%zu\n", bpf_program__name(prog),
		       bpf_program__section_name(prog), pt ? pt : "unknown",
		       at ? at : "unknown", bpf_program__autoload(prog) ? 1 : 0,
		       bpf_program__insn_cnt(prog));
	}
	bpf_object__close(obj);
	return 0;
}
