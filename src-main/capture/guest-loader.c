// SPDX-License-Identifier: GPL-2.0
/*
 * kptrscope-load - load every program of a BPF object like `bpftool -d prog loadall`, but with the
 * kernel log level chosen on the command line (bpftool -d always asks for 1|2|4).
 *
 *   kptrscope-load OBJ LEVEL [--each]
 *
 * --each loads every program of the object on its own, one fresh object each with the other
 * programs' autoload off (as veristat does): libbpf stops an object's load at the first program the
 * kernel rejects, so without it the programs after that one never reach the verifier. The output is
 * the concatenation of one libbpf run per program (each starts with `loading object from …`).
 *
 * Contract: the output is what `bpftool -d` prints, so the ingest parser reads it the same way:
 * every libbpf message (debug included) goes to stderr with libbpf's own `libbpf: ` prefix; libbpf
 * allocates the log buffer itself (growing it on ENOSPC), prints an accepted program's log at debug
 * level and a rejected one's after `BPF program load failed`, both between its
 * `-- BEGIN PROG LOAD LOG --` / `-- END PROG LOAD LOG --` brackets. Failures of the loader itself are
 * one `Error: ...` line. Nothing is pinned; the programs are unloaded at exit.
 * Exit status: 0 all programs loaded, 1 open/load failed (with --each: any program), 2 usage.
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

#define MAX_PROGS 256

static int print_all_levels(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	return vfprintf(stderr, fmt, ap);
}

/* Load the object; with `only` set, only that program (the others' autoload is turned off, so
 * libbpf says "prog 'X': skipped loading" for them). 0 loaded, 1 failed. */
static int load_object(const char *path, long level, const char *only)
{
	struct bpf_object *obj;
	struct bpf_program *prog;
	int err;

	LIBBPF_OPTS(bpf_object_open_opts, opts, .kernel_log_level = (__u32)level);
	obj = bpf_object__open_file(path, &opts);
	if (!obj) {
		fprintf(stderr, "Error: failed to open object file: %s\n", strerror(errno));
		return 1;
	}
	if (only) {
		struct bpf_program *target = bpf_object__find_program_by_name(obj, only);
		struct bpf_map *map;

		bpf_object__for_each_program(prog, obj)
			bpf_program__set_autoload(prog, prog == target);
		/* libbpf loads every program a struct_ops map refers to, whatever its autoload (it
		 * recomputes it at load): the map's other slots are emptied instead, as veristat does.
		 * Since libbpf 1.4 a struct_ops map's initial value holds a `struct bpf_program *` per
		 * callback slot; a word equal to one of this object's programs is such a slot. */
		bpf_object__for_each_map(map, obj) {
			size_t size = 0, off;
			char *data;

			if (bpf_map__type(map) != BPF_MAP_TYPE_STRUCT_OPS)
				continue;
			data = (char *)bpf_map__initial_value(map, &size);
			if (!data)
				continue;
			for (off = 0; off + sizeof(void *) <= size; off += sizeof(void *)) {
				struct bpf_program *slot;

				memcpy(&slot, data + off, sizeof(slot));
				if (!slot || slot == target)
					continue;
				bpf_object__for_each_program(prog, obj) {
					if (prog == slot) {
						memset(data + off, 0, sizeof(slot));
						break;
					}
				}
			}
		}
	}
	err = bpf_object__load(obj);
	bpf_object__close(obj);
	if (err) {
		fprintf(stderr, "Error: failed to load object file\n");
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct bpf_object *obj;
	struct bpf_program *prog;
	char *names[MAX_PROGS];
	int n = 0, i, rc = 0, each;
	char *end;
	long level;

	each = argc == 4 && strcmp(argv[3], "--each") == 0;
	if (argc != 3 && !each) {
		fprintf(stderr, "usage: %s OBJ LEVEL [--each]   (LEVEL: kernel verifier log level 1..7)\n", argv[0]);
		return 2;
	}
	level = strtol(argv[2], &end, 0);
	if (*end || level < 1 || level > 7) {
		fprintf(stderr, "Error: log level must be 1..7, got '%s'\n", argv[2]);
		return 2;
	}
	setvbuf(stderr, NULL, _IOLBF, 0);
	libbpf_set_print(print_all_levels);
	if (!each)
		return load_object(argv[1], level, NULL);

	/* --each: the program names first (libbpf's iterator skips subprograms), then one fresh
	 * object per program, so a rejected program cannot hide the verdicts of the others. */
	libbpf_set_print(NULL); /* the listing's own libbpf lines would read as one more load */
	obj = bpf_object__open_file(argv[1], NULL);
	libbpf_set_print(print_all_levels);
	if (!obj) {
		fprintf(stderr, "Error: failed to open object file: %s\n", strerror(errno));
		return 1;
	}
	bpf_object__for_each_program(prog, obj) {
		if (n == MAX_PROGS)
			break;
		names[n++] = strdup(bpf_program__name(prog));
	}
	bpf_object__close(obj);
	for (i = 0; i < n; i++) {
		if (load_object(argv[1], level, names[i]))
			rc = 1;
		free(names[i]);
	}
	return rc;
}
