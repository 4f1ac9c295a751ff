// SPDX-License-Identifier: GPL-2.0
/*
 * loader - load a BPF object with libbpf and print the kernel's raw verifier
 * log for each program, under full control of log level and log size.
 *
 *   loader OBJ [--level N] [--log-size BYTES] [--prog NAME] [--raw]
 *              [--fixed] [--each]
 *
 *   --level N        kernel log_level (default 1). Bits: 1 LEVEL1, 2 LEVEL2,
 *                    4 STATS, 8 BPF_LOG_FIXED (6.4+; keep the head on overflow).
 *   --log-size B     size of each program's log buffer (default 16 MiB). Small
 *                    sizes give real truncation: rotating (tail kept) by
 *                    default on >= 6.4, head kept with --fixed / level|8.
 *   --prog NAME      only load this program (repeatable); others: autoload off
 *   --raw            silence libbpf's own messages; stdout gets only the kernel
 *                    log buffers
 *   --fixed          same as OR-ing 8 into --level
 *   --each           load every program from its own fresh bpf_object (one
 *                    buffer reused, each log written as soon as it is
 *                    produced; a failing program does not hide later ones)
 *
 * stdout: the kernel log buffer of each loaded program, concatenated raw in
 *         load order (nothing added).
 * stderr: one result line per load: "result: ok" / "result: errno=N (text)"
 *         (with --each: "result[PROG]: ..."), plus libbpf messages unless --raw.
 * exit:   0 if every load succeeded, 1 if a load failed, 2 on usage errors.
 *
 * libbpf < 1.2 refuses log_level values above 7 in bpf_prog_load(), so the
 * BPF_LOG_FIXED bit is added on the way to the kernel by a thin wrapper around
 * syscall(2) (see below); with newer libbpf it is passed directly.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <linux/bpf.h>
#include <bpf/libbpf.h>
#include <bpf/bpf.h>

#ifndef BPF_LOG_FIXED
#define BPF_LOG_FIXED 8
#endif

#define MAX_PROGS 256

static int opt_level = 1;
static unsigned long opt_log_size = 16UL << 20;
static int opt_raw;
static int opt_each;
static const char *opt_progs[MAX_PROGS];
static int opt_nprogs;

/* ---- BPF_LOG_FIXED shim for old libbpf ----------------------------------- */

#if LIBBPF_MAJOR_VERSION > 1 || (LIBBPF_MAJOR_VERSION == 1 && LIBBPF_MINOR_VERSION >= 2)
#define LIBBPF_TAKES_FIXED 1
#else
#define LIBBPF_TAKES_FIXED 0
#endif

static int shim_extra_log_bits;	/* OR-ed into attr->log_level of BPF_PROG_LOAD */

#if !LIBBPF_TAKES_FIXED
/*
 * libbpf (linked statically, see capture.sh) issues every bpf(2) call through
 * syscall(__NR_bpf, cmd, attr, size). This definition takes precedence over
 * libc's; it forwards everything unchanged except for adding the extra log
 * bits to BPF_PROG_LOAD requests that already ask for a log.
 */
long syscall(long nr, ...)
{
	static long (*real_syscall)(long, ...);
	long a[6];
	va_list ap;
	int i;

	va_start(ap, nr);
	for (i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);

	if (!real_syscall)
		real_syscall = (long (*)(long, ...))dlsym(RTLD_NEXT, "syscall");

	if (nr == __NR_bpf && a[0] == BPF_PROG_LOAD && shim_extra_log_bits) {
		union bpf_attr *attr = (union bpf_attr *)a[1];

		if (attr->log_level)
			attr->log_level |= shim_extra_log_bits;
	}
	return real_syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
}
#endif

/* ---- helpers ----------------------------------------------------------------- */

static int silent_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level; (void)fmt; (void)ap;
	return 0;
}

static int stderr_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static void usage(const char *argv0)
{
	fprintf(stderr,
		"usage: %s OBJ [--level N] [--log-size BYTES] [--prog NAME]... [--raw] [--fixed] [--each]\n",
		argv0);
	exit(2);
}

static int wanted(const char *name)
{
	int i;

	if (!opt_nprogs)
		return 1;
	for (i = 0; i < opt_nprogs; i++)
		if (!strcmp(opt_progs[i], name))
			return 1;
	return 0;
}

static void report(const char *prog, int err)
{
	char tag[300];

	if (prog)
		snprintf(tag, sizeof(tag), "result[%s]", prog);
	else
		snprintf(tag, sizeof(tag), "result");
	if (!err)
		fprintf(stderr, "%s: ok\n", tag);
	else
		fprintf(stderr, "%s: errno=%d (%s)\n", tag, -err, strerror(-err));
}

static void write_log(const char *buf, size_t size)
{
	size_t len = strnlen(buf, size);
	size_t off = 0;

	while (off < len) {
		size_t n = fwrite(buf + off, 1, len - off, stdout);

		if (!n) {
			perror("write");
			exit(3);
		}
		off += n;
	}
	fflush(stdout);
}

static char *alloc_buf(void)
{
	char *buf = malloc(opt_log_size);

	if (!buf) {
		fprintf(stderr, "cannot allocate %lu bytes of log buffer\n", opt_log_size);
		exit(3);
	}
	buf[0] = '\0';
	return buf;
}

static int kernel_level(void)
{
	if (LIBBPF_TAKES_FIXED)
		return opt_level;
	shim_extra_log_bits = opt_level & BPF_LOG_FIXED;
	return opt_level & ~BPF_LOG_FIXED;
}

static struct bpf_object *open_obj(const char *path)
{
	struct bpf_object *obj = bpf_object__open_file(path, NULL);

	if (!obj) {
		fprintf(stderr, "%s: open failed: %s\n", path, strerror(errno));
		exit(3);
	}
	return obj;
}

/* load all wanted programs in one bpf_object (like bpftool prog loadall) */
static int load_whole(const char *path)
{
	struct bpf_object *obj = open_obj(path);
	struct bpf_program *prog;
	char *bufs[MAX_PROGS] = {0};
	int level = kernel_level(), i = 0, err, n = 0;

	bpf_object__for_each_program(prog, obj) {
		if (i >= MAX_PROGS) {
			fprintf(stderr, "too many programs (max %d), use --each\n", MAX_PROGS);
			exit(3);
		}
		if (!wanted(bpf_program__name(prog))) {
			bpf_program__set_autoload(prog, false);
		} else {
			bufs[i] = alloc_buf();
			bpf_program__set_log_buf(prog, bufs[i], opt_log_size);
			bpf_program__set_log_level(prog, level);
			n++;
		}
		i++;
	}
	if (!n) {
		fprintf(stderr, "no matching program in %s\n", path);
		exit(2);
	}
	err = bpf_object__load(obj);

	/* logs in load order (= object order; libbpf stops at the first failure) */
	i = 0;
	bpf_object__for_each_program(prog, obj) {
		if (bufs[i]) {
			write_log(bufs[i], opt_log_size);
			free(bufs[i]);
		}
		i++;
	}
	report(NULL, err);
	bpf_object__close(obj);
	return err ? 1 : 0;
}

/* load each wanted program from its own bpf_object, streaming the logs */
static int load_each(const char *path)
{
	struct bpf_object *obj = open_obj(path);
	struct bpf_program *prog;
	char *names[MAX_PROGS];
	int level = kernel_level(), n = 0, i, failed = 0;
	char *buf;

	bpf_object__for_each_program(prog, obj) {
		if (!wanted(bpf_program__name(prog)))
			continue;
		if (n >= MAX_PROGS) {
			fprintf(stderr, "too many programs (max %d)\n", MAX_PROGS);
			exit(3);
		}
		names[n++] = strdup(bpf_program__name(prog));
	}
	bpf_object__close(obj);
	if (!n) {
		fprintf(stderr, "no matching program in %s\n", path);
		exit(2);
	}

	buf = alloc_buf();
	for (i = 0; i < n; i++) {
		int err;

		obj = open_obj(path);
		bpf_object__for_each_program(prog, obj) {
			if (strcmp(bpf_program__name(prog), names[i])) {
				bpf_program__set_autoload(prog, false);
				continue;
			}
			buf[0] = '\0';
			bpf_program__set_log_buf(prog, buf, opt_log_size);
			bpf_program__set_log_level(prog, level);
		}
		err = bpf_object__load(obj);
		write_log(buf, opt_log_size);
		report(names[i], err);
		if (err)
			failed = 1;
		bpf_object__close(obj);
		free(names[i]);
	}
	free(buf);
	return failed;
}

int main(int argc, char **argv)
{
	const char *path = NULL;
	int i;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--level") && i + 1 < argc) {
			opt_level = (int)strtol(argv[++i], NULL, 0);
		} else if (!strcmp(a, "--log-size") && i + 1 < argc) {
			opt_log_size = strtoul(argv[++i], NULL, 0);
		} else if (!strcmp(a, "--prog") && i + 1 < argc) {
			if (opt_nprogs >= MAX_PROGS)
				usage(argv[0]);
			opt_progs[opt_nprogs++] = argv[++i];
		} else if (!strcmp(a, "--raw")) {
			opt_raw = 1;
		} else if (!strcmp(a, "--fixed")) {
			opt_level |= BPF_LOG_FIXED;
		} else if (!strcmp(a, "--each")) {
			opt_each = 1;
		} else if (a[0] == '-' || path) {
			usage(argv[0]);
		} else {
			path = a;
		}
	}
	if (!path)
		usage(argv[0]);
	if (opt_level <= 0 || opt_level > 15 || opt_level == BPF_LOG_FIXED) {
		fprintf(stderr, "--level must be 1..15 and not 8 alone\n");
		return 2;
	}
	if (opt_log_size < 128) {
		/* the kernel rejects log_size < 128 with -EINVAL */
		fprintf(stderr, "--log-size must be >= 128\n");
		return 2;
	}
	if (opt_log_size > (0xffffffffUL >> 2)) {
		fprintf(stderr, "--log-size must be < 1 GiB (kernel limit)\n");
		return 2;
	}

	libbpf_set_print(opt_raw ? silent_print : stderr_print);

	return opt_each ? load_each(path) : load_whole(path);
}
