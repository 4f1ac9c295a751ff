// SPDX-License-Identifier: GPL-2.0
/*
 * kptrscope-load - load every program of a BPF object like `bpftool -d prog loadall`, but with the
 * kernel log level chosen on the command line (bpftool -d always asks for 1|2|4).
 *
 *   kptrscope-load OBJ LEVEL
 *
 * Contract: the output is what `bpftool -d` prints, so the ingest parser reads it the same way:
 * every libbpf message (debug included) goes to stderr with libbpf's own `libbpf: ` prefix; libbpf
 * allocates the log buffer itself (growing it on ENOSPC), prints an accepted program's log at debug
 * level and a rejected one's after `BPF program load failed`, both between its
 * `-- BEGIN PROG LOAD LOG --` / `-- END PROG LOAD LOG --` brackets. Failures of the loader itself are
 * one `Error: ...` line. Nothing is pinned; the programs are unloaded at exit.
 * Exit status: 0 all programs loaded, 1 open/load failed, 2 usage.
 *
 * Built by src-main/capture/tools.ts (gcc, libbpf linked statically) for the guest initramfs and for
 * `kptrscope capture --kernel host --level 1|2`.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/libbpf.h>

static int print_all_levels(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	return vfprintf(stderr, fmt, ap);
}

int main(int argc, char **argv)
{
	struct bpf_object *obj;
	char *end;
	long level;
	int err;

	if (argc != 3) {
		fprintf(stderr, "usage: %s OBJ LEVEL   (LEVEL: kernel verifier log level 1..7)\n", argv[0]);
		return 2;
	}
	level = strtol(argv[2], &end, 0);
	if (*end || level < 1 || level > 7) {
		fprintf(stderr, "Error: log level must be 1..7, got '%s'\n", argv[2]);
		return 2;
	}
	setvbuf(stderr, NULL, _IOLBF, 0);
	libbpf_set_print(print_all_levels);

	LIBBPF_OPTS(bpf_object_open_opts, opts, .kernel_log_level = (__u32)level);
	obj = bpf_object__open_file(argv[1], &opts);
	if (!obj) {
		fprintf(stderr, "Error: failed to open object file: %s\n", strerror(errno));
		return 1;
	}
	err = bpf_object__load(obj);
	if (err) {
		fprintf(stderr, "Error: failed to load object file\n");
		bpf_object__close(obj);
		return 1;
	}
	bpf_object__close(obj);
	return 0;
}
