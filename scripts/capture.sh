#!/usr/bin/env bash
# Capture real BPF verifier logs for the fixture programs on the running kernel.
#
#   sudo bash scripts/capture.sh [--out DIR] [NAME...]      (npm run capture)
#   sudo bash scripts/capture.sh --tools-only    install/mount only, print LLVM version
#
# For every test/fixtures/progs/NAME.bpf.c (or only the NAMEs given):
#   compile (clang -g -O2 -target bpf, DWARF stripped, BTF kept) and load it with
#   `bpftool -d prog loadall`, plus the raw-log loader (scripts/loader.c) at
#   several log levels and with real log truncation. Output goes to
#   test/fixtures/logs/<major.minor>/ (see test/fixtures/README.md), with a
#   KERNEL file holding the full `uname -r`.
#
# Installs what it needs with apt-get on Debian (clang, llvm, bpftool,
# libbpf-dev, gcc, make) and mounts bpffs. Must run as root: it loads BPF
# programs. vmlinux.h is generated into a temp dir and never kept.
#
# Every program's source declares what the kernel must say:
#   /* accepted: ... */            -> load must succeed
#   /* rejected: ... */            -> load must fail ...
#   /* expect: <error line> */     -> ... with this exact line in the log
# The script exits non-zero if a verdict or an expected line does not match.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
progs="$repo/test/fixtures/progs"
out_base="$repo/test/fixtures/logs"
names=()
tools_only=0

while [ $# -gt 0 ]; do
	case "$1" in
	--out) out_base=$2; shift 2 ;;
	--tools-only) tools_only=1; shift ;;
	-h|--help) sed -n '2,23p' "$0"; exit 0 ;;
	-*) echo "capture.sh: unknown option $1" >&2; exit 2 ;;
	*) names+=("$1"); shift ;;
	esac
done

die() { echo "capture.sh: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "must run as root (it loads BPF programs into the kernel); try: sudo npm run capture"
[ -r /sys/kernel/btf/vmlinux ] || die "/sys/kernel/btf/vmlinux missing: the kernel needs CONFIG_DEBUG_INFO_BTF=y"

# ---------------------------------------------------------------- tools ----
export DEBIAN_FRONTEND=noninteractive
apt_updated=0
apt_install() {
	command -v apt-get >/dev/null || die "missing packages ($*) and no apt-get to install them"
	if [ $apt_updated -eq 0 ]; then
		echo "capture.sh: apt-get update" >&2
		apt-get update -qq || die "apt-get update failed"
		apt_updated=1
	fi
	echo "capture.sh: apt-get install -y $*" >&2
	apt-get install -y -qq "$@" >/dev/null || die "apt-get install $* failed"
}

# clang/llvm: clang-19 if it is there or installable, else the newest clang-NN
# the package lists offer. CLANG_VERSION=NN overrides.
candidate() { apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ {print $2}' | grep -v '(none)' || true; }
pick_llvm() {
	llvm=${CLANG_VERSION:-}
	[ -z "$llvm" ] || return 0
	if command -v clang-19 >/dev/null && command -v llvm-objcopy-19 >/dev/null; then llvm=19; return 0; fi
	if [ -z "$(candidate clang-19)" ] && [ $apt_updated -eq 0 ]; then
		apt-get update -qq || true
		apt_updated=1
	fi
	if [ -n "$(candidate clang-19)" ]; then llvm=19; return 0; fi
	llvm=$(apt-cache search --names-only '^clang-[0-9]+$' 2>/dev/null |
		sed -n 's/^clang-\([0-9]\+\) .*/\1/p' | sort -n | tail -1)
	[ -n "$llvm" ] || die "no clang-NN package found (apt-cache search '^clang-[0-9]+$')"
}
pick_llvm
CLANG=clang-$llvm
OBJCOPY=llvm-objcopy-$llvm
STRIP=llvm-strip-$llvm

missing=()
command -v "$CLANG" >/dev/null || missing+=("clang-$llvm")
command -v "$OBJCOPY" >/dev/null && command -v "$STRIP" >/dev/null || missing+=("llvm-$llvm")
command -v bpftool >/dev/null || missing+=(bpftool)
[ -r /usr/include/bpf/libbpf.h ] || missing+=(libbpf-dev)
command -v gcc >/dev/null || missing+=(gcc)
command -v make >/dev/null || missing+=(make)
[ ${#missing[@]} -eq 0 ] || apt_install "${missing[@]}"
# libbpf-dev pulls these in; checked for systems where it did not
[ -e /usr/include/gelf.h ] || apt_install libelf-dev
[ -e /usr/include/zlib.h ] || apt_install zlib1g-dev

mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf || die "cannot mount bpffs on /sys/fs/bpf"

# --tools-only (used by gen-big-log.sh): set up, print the LLVM version, stop
if [ $tools_only -eq 1 ]; then
	echo "$llvm"
	exit 0
fi

# ----------------------------------------------------------------- setup ----
work=$(mktemp -d /tmp/kptrscope-capture.XXXXXX)
pins=()
cleanup() {
	local p
	for p in "${pins[@]}"; do rm -rf "$p"; done
	rm -rf "$work"
}
trap cleanup EXIT

release=$(uname -r)
series=$(echo "$release" | cut -d. -f1,2)
out="$out_base/$series"
mkdir -p "$out"
echo "$release" > "$out/KERNEL"

bpftool btf dump file /sys/kernel/btf/vmlinux format c > "$work/vmlinux.h"

# loader: libbpf linked statically (see loader.c for why), dynamic fallback
loader="$work/loader"
gcc -O2 -Wall -o "$loader" "$here/loader.c" -Wl,-Bstatic -lbpf -Wl,-Bdynamic -lelf -lz -ldl 2>"$work/gcc.err" ||
	gcc -O2 -Wall -o "$loader" "$here/loader.c" -lbpf -lelf -lz -ldl ||
	{ cat "$work/gcc.err" >&2; die "cannot build scripts/loader.c"; }

export LC_ALL=C
if [ ${#names[@]} -eq 0 ]; then
	for c in "$progs"/*.bpf.c; do names+=("$(basename "$c" .bpf.c)"); done
fi

# raw loader captures: which programs get which extra logs
LEVEL_PROGS=" local_kptr_stash task_fifo write_after_push use_after_unlock leak_obj list_push_pop multi_ok subprog_ok rbtree_add_remove double_drop "
STATS_PROGS=" list_push_pop leak_obj "
TRUNC_PROGS=" local_kptr_stash use_after_unlock "
TRUNC_SIZE=1024
has() { case "$1" in *" $2 "*) return 0 ;; esac; return 1; }

# compile NAME -> $work/NAME.bpf.o (DWARF stripped: BTF + BTF.ext kept)
compile() {
	local name=$1 src="$progs/$1.bpf.c"
	"$CLANG" -g -O2 -target bpf -D__TARGET_ARCH_x86 \
		-I"$work" -I"$progs" -I/usr/include/$(uname -m)-linux-gnu \
		-c "$src" -o "$work/$name.full.o"
	"$STRIP" -g "$work/$name.full.o" -o "$work/$name.bpf.o"
}

# loader run: NAME SUFFIX ARGS... -> NAME.SUFFIX.log (+ .result for truncations)
raw() {
	local name=$1 suffix=$2; shift 2
	(cd "$work" && "$loader" "$name.bpf.o" --raw "$@" > "$out/$name.$suffix.log" 2> "$work/$name.$suffix.err") || true
}

fail=0
summary=()
for name in "${names[@]}"; do
	src="$progs/$name.bpf.c"
	[ -f "$src" ] || die "no such program: $src"
	want=$(sed -n 's,^/\* \(accepted\|rejected\):.*,\1,p' "$src" | head -1)
	expect=$(sed -n 's|^/\* expect: \(.*\) \*/$|\1|p' "$src")

	if ! compile "$name" 2> "$work/$name.cc.err"; then
		cat "$work/$name.cc.err" >&2
		echo "FAIL $name: compile error" >&2
		fail=1
		continue
	fi
	cp "$work/$name.bpf.o" "$out/$name.bpf.o"

	# bpftool: libbpf debug lines + level 1|2|4 verifier log
	pin=/sys/fs/bpf/kptrscope_$name
	rm -rf "$pin"
	pins+=("$pin")
	if (cd "$work" && bpftool -d prog loadall "$name.bpf.o" "$pin") > "$out/$name.bpftool.log" 2>&1; then
		verdict=accepted
	else
		verdict=rejected
	fi
	rm -rf "$pin"
	echo "$verdict" > "$out/$name.verdict"

	# BTF of the object: text, JSON and the raw .BTF section
	bpftool btf dump file "$work/$name.bpf.o" > "$out/$name.btf.txt"
	bpftool -j btf dump file "$work/$name.bpf.o" > "$out/$name.btf.json"
	"$OBJCOPY" --dump-section ".BTF=$out/$name.btf" "$work/$name.bpf.o" "$work/$name.discard.o"

	# raw kernel logs through the loader
	if has "$LEVEL_PROGS" "$name"; then
		for lv in 1 2 7; do raw "$name" "L$lv" --level "$lv"; done
	fi
	if has "$STATS_PROGS" "$name"; then
		raw "$name" L4 --level 4
	fi
	if has "$TRUNC_PROGS" "$name"; then
		raw "$name" rotated --level 2 --log-size "$TRUNC_SIZE"
		raw "$name" fixed-trunc --level 2 --fixed --log-size "$TRUNC_SIZE"
		for s in rotated fixed-trunc; do
			sed -n 's/^result: //p' "$work/$name.$s.err" > "$out/$name.$s.result"
		done
	fi

	# ------------------------------------------------------------ checks ----
	problems=()
	[ "$verdict" = "$want" ] || problems+=("verdict $verdict, source says ${want:-nothing}")
	if [ "$verdict" = accepted ]; then
		tail -n 30 "$out/$name.bpftool.log" | grep -q '^processed [0-9]* insns' ||
			problems+=("no 'processed N insns' line")
	fi
	if [ -n "$expect" ] && ! grep -qxF -- "$expect" "$out/$name.bpftool.log"; then
		problems+=("expected line not in log: $expect")
	fi
	for f in "$out/$name".L*.log; do
		[ -e "$f" ] || continue
		[ "$(tail -n 1 "$f" | grep -c '^processed [0-9]* insns')" -eq 1 ] || problems+=("$(basename "$f") does not end with 'processed'")
		! grep -q '^libbpf:' "$f" || problems+=("$(basename "$f") has libbpf lines")
	done
	for s in rotated fixed-trunc; do
		[ -e "$out/$name.$s.result" ] || continue
		grep -q '^errno=28 ' "$out/$name.$s.result" || problems+=("$s: expected ENOSPC, got $(cat "$out/$name.$s.result")")
	done
	if [ ${#problems[@]} -eq 0 ]; then
		line=$([ "$verdict" = rejected ] && echo "$expect" || grep '^processed' "$out/$name.bpftool.log" | tail -1 | cut -d' ' -f1-3)
		summary+=("$(printf '%-20s %-9s %s' "$name" "$verdict" "$line")")
	else
		fail=1
		for p in "${problems[@]}"; do echo "FAIL $name: $p" >&2; done
		summary+=("$(printf '%-20s %-9s %s' "$name" "$verdict" "MISMATCH")")
	fi
done

printf '%s\n' "${summary[@]}"
echo "kernel $release -> $out"
[ $fail -eq 0 ] || die "some captures did not match their expectations"
