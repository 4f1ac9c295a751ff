#!/usr/bin/env bash
# Generate a very large, real verifier log for benchmarks (never committed).
#
#   sudo bash scripts/gen-big-log.sh OUT_FILE [N_PROGRAMS]
#
# Compiles test/fixtures/progs/bench/big_loop.bpf.c (24 tc programs, each a
# bounded loop the verifier walks iteration by iteration) and loads the first
# N_PROGRAMS (default 24) one at a time with scripts/loader.c at log level 2
# and a 128 MiB log buffer. The raw kernel logs are written to OUT_FILE
# concatenated, each as soon as its program is verified, so memory stays at
# one buffer. On a 6.18 kernel: ~27 MB / ~385k lines per program, ~650 MB /
# ~9.2M lines for 24.
#
# Environment: BIG_ITERS (loop iterations, default 5000), LOG_LEVEL (default 2),
# LOG_SIZE (bytes per program, default 134217728), KEEP_OBJ (copy the compiled object there).
# Tools and bpffs are set up through `capture.sh --tools-only` (root needed).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
src="$repo/test/fixtures/progs/bench/big_loop.bpf.c"

die() { echo "gen-big-log.sh: $*" >&2; exit 1; }
[ $# -ge 1 ] && [ $# -le 2 ] || die "usage: gen-big-log.sh OUT_FILE [N_PROGRAMS]"
out=$1
n=${2:-24}
[[ "$n" =~ ^[0-9]+$ ]] && [ "$n" -ge 1 ] && [ "$n" -le 24 ] || die "N_PROGRAMS must be 1..24"
[ "$(id -u)" -eq 0 ] || die "must run as root (it loads BPF programs into the kernel)"

iters=${BIG_ITERS:-5000}
level=${LOG_LEVEL:-2}
size=${LOG_SIZE:-134217728}

llvm=$(bash "$here/capture.sh" --tools-only)
work=$(mktemp -d /tmp/kptrscope-biglog.XXXXXX)
trap 'rm -rf "$work"' EXIT

bpftool btf dump file /sys/kernel/btf/vmlinux format c > "$work/vmlinux.h"
gcc -O2 -Wall -o "$work/loader" "$here/loader.c" -Wl,-Bstatic -lbpf -Wl,-Bdynamic -lelf -lz -ldl 2>/dev/null ||
	gcc -O2 -Wall -o "$work/loader" "$here/loader.c" -lbpf -lelf -lz -ldl
"clang-$llvm" -g -O2 -target bpf -D__TARGET_ARCH_x86 -DBIG_ITERS="$iters" \
	-I"$work" -I"$repo/test/fixtures/progs" -I/usr/include/$(uname -m)-linux-gnu \
	-c "$src" -o "$work/big_loop.bpf.o"

args=()
for ((i = 0; i < n; i++)); do args+=(--prog "$(printf 'big_%02d' "$i")"); done

mkdir -p "$(dirname "$out")"
start=$(date +%s.%N)
rc=0
"$work/loader" "$work/big_loop.bpf.o" --raw --each --level "$level" --log-size "$size" "${args[@]}" \
	> "$out" 2> "$work/results" || rc=$?
end=$(date +%s.%N)

ok=$(grep -c ': ok$' "$work/results" || true)
if [ "$rc" -ne 0 ] || [ "$ok" -ne "$n" ]; then
	cat "$work/results" >&2
	die "only $ok of $n programs loaded cleanly (ENOSPC means LOG_SIZE is too small)"
fi
[ -n "${KEEP_OBJ:-}" ] && cp "$work/big_loop.bpf.o" "$KEEP_OBJ"
bytes=$(stat -c %s "$out")
lines=$(wc -l < "$out")
awk -v b="$bytes" -v l="$lines" -v n="$n" -v s="$start" -v e="$end" -v f="$out" 'BEGIN {
	printf "%s: %d programs, %.1f MB (%d bytes), %d lines, %.1f s\n", f, n, b / 1e6, b, l, e - s }'
