#!/usr/bin/env bash
# Build the selftests corpus: real verifier logs of the kernel's own BPF selftests
# (ownership families: lists, rbtrees, kptrs, refcounts, percpu objects; and kfuncs
# that acquire/release kernel objects, trusted args, exceptions), captured on the
# running kernel or on a Debian kernel booted under QEMU, with what the selftests
# expect beside what the kernel did.
#
#   sudo npm run corpus [-- --release R] [-- OPTIONS]
#   sudo bash scripts/corpus/build-corpus.sh [OPTIONS]
#
#   --release R      corpus release (default: major.minor of the running kernel).
#                    The running kernel's release loads on this machine; a release
#                    of GUEST_FOR below (7.3) loads inside a QEMU guest booted with
#                    that Debian kernel (scripts/corpus/guest-load.ts); others are
#                    refused
#   --source V       selftests source version (default: from the table below,
#                    6.18 -> 6.12; else the release itself)
#   --src DIR        an extracted kernel source tree to use (else looked up, else
#                    downloaded: see "source" below); also $KPTRSCOPE_LINUX_SRC
#   --fetch          ignore source trees already on this machine: use (or make) the
#                    cache's own download of linux-source-V
#   --cache DIR      download/extract cache (default $XDG_CACHE_HOME/kptrscope/corpus
#                    or ~/.cache/kptrscope/corpus); also $KPTRSCOPE_CORPUS_CACHE
#   --out DIR        output root (default test/corpus); writes DIR/<release>/
#   --families "A B" only these families (default: all of FAMILIES below)
#   --jobs N         parallel loads (default: number of CPUs); in a guest build the
#                    number of guests booted side by side (default: min(CPUs, 2))
#   --memory MB      guest memory (default 2048, at least 1024)
#   --guest-timeout S  seconds a guest may run (default: from the number of loads)
#   --compile-only   stop after compiling (implies --keep-work): objects, job list
#   --keep-work      keep the temp work dir (compiled objects, raw captures)
#
# Output (test/corpus/<release>/, see test/corpus/README.md): per family
# <family>/<prog>.L1.log.gz and .L2.log.gz (raw kernel log at log_level 1|4 and
# 2|4), <family>/<family>.btf.gz (bpftool btf dump, raw text), <family>.bpf.o.gz
# (llvm-strip -g, if small), manifest.json and README.md. Only captured logs, BTF
# and objects: never the selftests' C sources.
#
# Source: the Debian package linux-source-V. Looked up in --src,
# $KPTRSCOPE_LINUX_SRC, /usr/src/linux-source-V, /work/src/linux-source-V and the
# cache; else fetched with a PRIVATE apt configuration under the cache (its own
# sources list, lists, archives and status; the system's apt state is not touched):
#   apt-get -c CACHE/apt/apt.conf update; apt-get -c ... download linux-source-V
# and only the parts the build needs are extracted. Suites: see SUITE_FOR below;
# the mirror is the one the system's apt uses ($KPTRSCOPE_DEBIAN_MIRROR overrides).
#
# Compile: clang-NN (19 preferred) with the selftests Makefile's BPF_CFLAGS (read
# from the Makefile: 6.12's and 7.3's differ), CLANG_SYS_INCLUDES,
# -DENABLE_ATOMICS_TESTS, -O2, the Makefile's --target (bpf; bpfel from 7.x) and
# -mcpu=v3 and its per-object progs/X.c-CFLAGS, against vmlinux.h of the kernel
# that loads them (host: /sys/kernel/btf/vmlinux with this bpftool; guest: the
# guest kernel's BTF from the capture cache, dumped by the guest userland's
# bpftool 7.8, which adds the kfunc prototypes 7.x selftests need) and the
# source's own libbpf (tools/lib/bpf, built static here together with its
# bpf_helper_defs.h). Load: scripts/loader.c (unchanged) linked with that libbpf
# and scripts/corpus/autoload-shim.c (fully static for a guest); every program
# alone (others autoload off). A family that does not compile is recorded in the
# manifest, not fatal.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)

# ------------------------------------------------------------------ tables ----
# selftests source for a corpus release (the running kernel's major.minor)
declare -A SOURCE_FOR=([6.18]=6.12 [7.3]=7.3)
# Debian suite that has linux-source-V
declare -A SUITE_FOR=([6.1]=bookworm [6.12]=trixie [7.2]=trixie-backports [7.3]=trixie-backports)
# corpus releases loaded in a QEMU guest: the kernel spec of src-main/capture/kernel-cache.ts
declare -A GUEST_FOR=([7.3]=7.3-cloud)
# families: ownership (graph collections, kptrs, refcounts, percpu objects) ...
FAMILIES_OWN="linked_list linked_list_fail local_kptr_stash local_kptr_stash_fail
 rbtree rbtree_fail rbtree_btf_fail__* refcounted_kptr refcounted_kptr_fail
 map_kptr map_kptr_fail percpu_alloc_fail percpu_alloc_array percpu_alloc_cgrp_local_storage"
# ... and other families: kfuncs acquiring/releasing kernel objects, trusted args, exceptions
FAMILIES_OTHER="task_kfunc_success task_kfunc_failure cgrp_kfunc_success cgrp_kfunc_failure
 cpumask_success cpumask_failure exceptions exceptions_fail exceptions_assert exceptions_ext
 iters_task iters_task_failure iters_task_vma kptr_xchg_inline"
LEVEL_L1=5	# BPF_LOG_LEVEL1 | BPF_LOG_STATS
LEVEL_L2=6	# BPF_LOG_LEVEL2 | BPF_LOG_STATS
OBJ_MAX=262144	# keep <family>.bpf.o.gz only if the gzip is at most this many bytes

release=""
source_ver=""
src=${KPTRSCOPE_LINUX_SRC:-}
cache=${KPTRSCOPE_CORPUS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kptrscope/corpus}
out_base="$repo/test/corpus"
families=""
jobs=$(nproc 2>/dev/null || echo 2)
keep_work=0
fetch_only=0
compile_only=0
guest_memory=2048
guest_timeout=""
jobs_given=0

while [ $# -gt 0 ]; do
	case "$1" in
	--release) release=$2; shift 2 ;;
	--source) source_ver=$2; shift 2 ;;
	--src) src=$2; shift 2 ;;
	--cache) cache=$2; shift 2 ;;
	--out) out_base=$2; shift 2 ;;
	--families) families=$2; shift 2 ;;
	--jobs) jobs=$2; jobs_given=1; shift 2 ;;
	--memory) guest_memory=$2; shift 2 ;;
	--guest-timeout) guest_timeout=$2; shift 2 ;;
	--compile-only) compile_only=1; keep_work=1; shift ;;
	--keep-work) keep_work=1; shift ;;
	--fetch) fetch_only=1; shift ;;
	-h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d'; exit 0 ;;
	*) echo "build-corpus: unknown argument $1 (see --help)" >&2; exit 2 ;;
	esac
done

die() { echo "build-corpus: $*" >&2; exit 1; }
say() { echo "build-corpus: $*" >&2; }

start_time=$(date +%s)
host_release=$(uname -r)
host_series=$(echo "$host_release" | cut -d. -f1,2)
release=${release:-$host_series}
guest_spec=""
if [ "$release" != "$host_series" ]; then
	guest_spec=${GUEST_FOR[$release]:-}
	[ -n "$guest_spec" ] || die "release $release needs a $release kernel, this one is $host_release, and GUEST_FOR names no Debian kernel to boot for it (known: ${!GUEST_FOR[*]})"
fi
source_ver=${source_ver:-${SOURCE_FOR[$release]:-$release}}
run_ts() { node "$repo/bin/run-ts.mjs" "$@"; }

if [ -z "$guest_spec" ]; then
	[ "$(id -u)" -eq 0 ] || die "must run as root (it loads BPF programs into the kernel); try: sudo npm run corpus"
	[ -r /sys/kernel/btf/vmlinux ] || die "/sys/kernel/btf/vmlinux missing: the kernel needs CONFIG_DEBUG_INFO_BTF=y"
else
	[ $jobs_given -eq 1 ] || jobs=$(( jobs > 2 ? 2 : jobs ))
fi

# ------------------------------------------------------------------- tools ----
export DEBIAN_FRONTEND=noninteractive LC_ALL=C
apt_updated=0
apt_install() {
	command -v apt-get >/dev/null || die "missing packages ($*) and no apt-get to install them"
	if [ $apt_updated -eq 0 ]; then
		say "apt-get update"
		apt-get update -qq || die "apt-get update failed"
		apt_updated=1
	fi
	say "apt-get install -y $*"
	apt-get install -y -qq "$@" >/dev/null || die "apt-get install $* failed"
}
llvm=${CLANG_VERSION:-19}
missing=()
command -v "clang-$llvm" >/dev/null || missing+=("clang-$llvm")
command -v "llvm-strip-$llvm" >/dev/null || missing+=("llvm-$llvm")
command -v bpftool >/dev/null || missing+=(bpftool)
command -v gcc >/dev/null || missing+=(gcc)
command -v make >/dev/null || missing+=(make)
command -v python3 >/dev/null || missing+=(python3)
command -v xz >/dev/null || missing+=(xz-utils)
[ -e /usr/include/gelf.h ] || missing+=(libelf-dev)
[ -e /usr/include/zlib.h ] || missing+=(zlib1g-dev)
if [ -n "$guest_spec" ]; then
	command -v qemu-system-x86_64 >/dev/null || missing+=(qemu-system-x86)
	command -v busybox >/dev/null || missing+=(busybox-static)
	command -v node >/dev/null || die "node is needed to boot the guest (npm ci first)"
fi
[ ${#missing[@]} -eq 0 ] || apt_install "${missing[@]}"
CLANG=clang-$llvm
STRIP=llvm-strip-$llvm
command -v node >/dev/null || die "node is needed for the manifest step (npm ci first)"
[ -n "$guest_spec" ] || mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf || true

# ------------------------------------------------------------------ source ----
# parts of the source tree the build reads (libbpf's Makefile wants tools/scripts,
# tools/build and tools/arch; bpf_helper_defs.h is made by scripts/bpf_doc.py)
SRC_PARTS="Makefile tools/testing/selftests/bpf tools/lib/bpf tools/include tools/arch/x86/include
 tools/scripts tools/build include/uapi scripts/bpf_doc.py"

have_tree() { [ -d "$1/tools/testing/selftests/bpf/progs" ] && [ -f "$1/tools/lib/bpf/libbpf.c" ] && [ -f "$1/scripts/bpf_doc.py" ]; }

debian_mirror() {
	if [ -n "${KPTRSCOPE_DEBIAN_MIRROR:-}" ]; then echo "$KPTRSCOPE_DEBIAN_MIRROR"; return; fi
	local u
	# deb822 sources first, then one-line sources; the first archive URI ending in /debian
	u=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null | sed -n 's/^URIs:[[:space:]]*//p' | tr ' ' '\n' | grep -E '/debian/?$' | head -1 || true)
	[ -n "$u" ] || u=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
		awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^(https?|file):/) { print $i; break } }' | grep -E '/debian/?$' | head -1 || true)
	[ -n "$u" ] || die "no Debian mirror found in /etc/apt; set KPTRSCOPE_DEBIAN_MIRROR"
	echo "${u%/}"
}

fetch_source() {
	local ver=$1 dest=$2 suite=${SUITE_FOR[$1]:-}
	[ -n "$suite" ] || die "no Debian suite known for linux-source-$ver (add it to SUITE_FOR)"
	local aptd="$cache/apt" pkg="linux-source-$ver" mirror keyring=/usr/share/keyrings/debian-archive-keyring.gpg
	[ -r "$keyring" ] || apt_install debian-archive-keyring
	mirror=$(debian_mirror)
	mkdir -p "$aptd/lists/partial" "$aptd/archives/partial" "$aptd/state" "$aptd/dl" "$aptd/sources.list.d" "$aptd/preferences.d"
	touch "$aptd/status" "$aptd/preferences"
	cat > "$aptd/sources.list" <<-EOF
	deb [signed-by=$keyring] $mirror $suite main
	EOF
	cat > "$aptd/apt.conf" <<-EOF
	Dir::Etc::sourcelist "$aptd/sources.list";
	Dir::Etc::sourceparts "$aptd/sources.list.d";
	Dir::Etc::preferences "$aptd/preferences";
	Dir::Etc::preferencesparts "$aptd/preferences.d";
	Dir::State "$aptd/state";
	Dir::State::Lists "$aptd/lists";
	Dir::State::status "$aptd/status";
	Dir::Cache "$aptd";
	Dir::Cache::archives "$aptd/archives";
	Debug::NoLocking "true";
	APT::Sandbox::User "root";
	APT::Architecture "$(dpkg --print-architecture 2>/dev/null || echo amd64)";
	EOF
	say "fetching $pkg from $suite (private apt config $aptd/apt.conf)"
	apt-get -c "$aptd/apt.conf" -qq update || die "apt-get -c $aptd/apt.conf update failed"
	(cd "$aptd/dl" && rm -f "$pkg"_*.deb && apt-get -c "$aptd/apt.conf" -qq download "$pkg") ||
		die "apt-get download $pkg failed"
	local deb tarball tmp
	deb=$(ls "$aptd/dl/$pkg"_*.deb | head -1)
	tmp=$(mktemp -d "$cache/extract.XXXXXX")
	say "extracting $(basename "$deb") (only: $(echo $SRC_PARTS))"
	dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$tmp" --wildcards "./usr/src/$pkg.tar.*"
	tarball=$(ls "$tmp/usr/src/$pkg".tar.* | head -1)
	local members=()
	for p in $SRC_PARTS; do members+=("$pkg/$p"); done
	tar -x -C "$tmp" -f "$tarball" "${members[@]}"
	rm -f "$tarball"
	# the version (Makefile's first lines) and the package version, for the manifest
	dpkg-deb -f "$deb" Version > "$tmp/$pkg/.debian-version"
	rm -rf "$dest"
	mkdir -p "$(dirname "$dest")"
	mv "$tmp/$pkg" "$dest"
	rm -rf "$tmp" "$deb"
}

if [ -n "$src" ]; then
	have_tree "$src" || die "--src $src: not a kernel source tree with the selftests and libbpf"
else
	cands=("$cache/src/linux-source-$source_ver")
	[ $fetch_only -eq 1 ] || cands=("/usr/src/linux-source-$source_ver" "/work/src/linux-source-$source_ver" "${cands[@]}")
	for cand in "${cands[@]}"; do
		if have_tree "$cand"; then src=$cand; break; fi
	done
	if [ -z "$src" ]; then
		mkdir -p "$cache/src"
		fetch_source "$source_ver" "$cache/src/linux-source-$source_ver"
		src="$cache/src/linux-source-$source_ver"
		have_tree "$src" || die "extracted source in $src is incomplete"
	fi
fi
st="$src/tools/testing/selftests/bpf"
src_version=$(awk '/^VERSION =/ {v=$3} /^PATCHLEVEL =/ {p=$3} /^SUBLEVEL =/ {s=$3} END {if (v != "") print v "." p "." s}' "$src/Makefile" 2>/dev/null || true)
if [ -z "$src_version" ]; then
	# partial extraction has no top Makefile: take the version from the package
	src_version=$(cat "$src/.debian-version" 2>/dev/null | sed 's/-.*//' || true)
fi
deb_version=$(cat "$src/.debian-version" 2>/dev/null || true)
if [ -n "$guest_spec" ]; then
	say "release $release (guest kernel $guest_spec under QEMU), selftests from linux-source-$source_ver ${src_version:+($src_version)} in $src"
else
	say "release $release (kernel $host_release), selftests from linux-source-$source_ver ${src_version:+($src_version)} in $src"
fi

# -------------------------------------------------------------------- work ----
work=$(mktemp -d /tmp/kptrscope-corpus.XXXXXX)
cleanup() { if [ $keep_work -eq 1 ]; then say "work dir kept: $work"; else rm -rf "$work"; fi; }
trap cleanup EXIT
mkdir -p "$work/libbpf" "$work/include" "$work/obj" "$work/raw"

say "building libbpf from $src/tools/lib/bpf"
make -s -C "$src/tools/lib/bpf" OUTPUT="$work/libbpf/" DESTDIR="$work" prefix= BUILD_STATIC_ONLY=1 \
	-j"$jobs" "$work/libbpf/libbpf.a" install_headers > "$work/libbpf.log" 2>&1 ||
	{ tail -20 "$work/libbpf.log" >&2; die "libbpf build failed"; }
libbpf_version=$(awk '/LIBBPF_MAJOR_VERSION/ {M=$3} /LIBBPF_MINOR_VERSION/ {m=$3} END {print M "." m}' "$work/include/bpf/libbpf_version.h")

LIBINC=(-I"$work/include" -I"$src/tools/include/uapi")
# a guest's initramfs has no libraries: link the loader fully static there
static=(); [ -z "$guest_spec" ] || static=(-static)
gcc -O2 -Wall "${static[@]}" "${LIBINC[@]}" -o "$work/loader" "$repo/scripts/loader.c" "$here/autoload-shim.c" \
	-Wl,--wrap=bpf_program__set_log_level "$work/libbpf/libbpf.a" -lelf -lz -ldl ||
	die "cannot build scripts/loader.c"
gcc -O2 -Wall "${LIBINC[@]}" -o "$work/list-progs" "$here/list-progs.c" "$work/libbpf/libbpf.a" -lelf -lz ||
	die "cannot build list-progs.c"

if [ -n "$guest_spec" ]; then
	# the guest kernel's BTF (capture cache) with kfunc prototypes (the guest userland's bpftool)
	run_ts "$here/guest-load.ts" vmlinux-h --kernel "$guest_spec" --out "$work/include/vmlinux.h" --info "$work/guest-kernel.json" ||
		die "cannot make vmlinux.h for $guest_spec"
	vmlinux_from="BTF of $(node -p "require('$work/guest-kernel.json').package"), $(node -p "require('$work/guest-kernel.json').bpftool")"
else
	bpftool btf dump file /sys/kernel/btf/vmlinux format c > "$work/include/vmlinux.h"
	vmlinux_from="/sys/kernel/btf/vmlinux, $(bpftool version 2>/dev/null | head -1)"
fi

# the selftests Makefile's flags for test_progs' BPF objects: its BPF_CFLAGS (the make variables
# replaced by this build's directories; the installed-headers dir $(OUTPUT)/../usr/include is not
# made here: APIDIR, tools/include/uapi, has the same headers), CLANG_SYS_INCLUDES, the
# TRUNNER_BPF_CFLAGS' -DENABLE_ATOMICS_TESTS, and the CLANG_BPF_BUILD_RULE's --target
makefile_bpf_cflags() {
	local txt
	txt=$(awk '/^BPF_CFLAGS[[:space:]]*:?=/ { grab = 1 }
		grab { l = $0; sub(/#.*/, "", l); c = (l ~ /\\[[:space:]]*$/); sub(/\\[[:space:]]*$/, "", l); print l; if (!c) exit }' "$st/Makefile" |
		sed 's/^BPF_CFLAGS[[:space:]]*:\?=//' | tr '\n\t' '  ')
	txt=$(echo "$txt" | sed -e 's|-I$(abspath $(OUTPUT)/../usr/include)||g' \
		-e "s|\$(SRCARCH)|x86|g; s|\$(MENDIAN)|-mlittle-endian|g; s|\$(INCLUDE_DIR)|$work/include|g" \
		-e "s|\$(CURDIR)|$st|g; s|\$(APIDIR)|$src/tools/include/uapi|g; s|\$(TOOLSINCDIR)|$src/tools/include|g")
	case "$txt" in *'$('*|'') return 1 ;; esac
	echo "$txt"
}
bpf_cflags=$(makefile_bpf_cflags) || die "cannot read BPF_CFLAGS from $st/Makefile (a make variable this script does not know?)"
if awk '/^define CLANG_BPF_BUILD_RULE/ { g = 1 } g && /^endef/ { exit } g' "$st/Makefile" | grep -q 'BPF_TARGET_ENDIAN'; then
	bpf_target=--target=bpfel
else
	bpf_target=--target=bpf
fi
sys_includes=$("$CLANG" -v -E - </dev/null 2>&1 | sed -n '/<...> search starts here:/,/End of search list./{ s| \(/.*\)|-idirafter \1|p }')
# shellcheck disable=SC2206
BPF_CFLAGS=($bpf_cflags $sys_includes -DENABLE_ATOMICS_TESTS)
per_object_cflags() { sed -n "s|^progs/$1\.c-CFLAGS[[:space:]]*:\?=[[:space:]]*||p" "$st/Makefile" | head -1; }

# expand the family list (globs such as rbtree_btf_fail__* against progs/)
replace=--replace	# the default list rebuilds the whole release dir; --families merges
[ -n "$families" ] && replace= || families="$FAMILIES_OWN $FAMILIES_OTHER"
fam_list=()
for f in $families; do
	case "$f" in
	*'*'*) for c in "$st"/progs/$f.c; do [ -e "$c" ] && fam_list+=("$(basename "$c" .c)"); done ;;
	*) fam_list+=("$f") ;;
	esac
done
own_list=" "; for f in $FAMILIES_OWN; do for c in "$st"/progs/$f.c; do own_list+="$(basename "$c" .c) "; done; done

# ---------------------------------------------------------------- compile ----
printf '%s\n' "${fam_list[@]}" > "$work/families.txt"
: > "$work/jobs.txt"
for fam in "${fam_list[@]}"; do
	d="$work/raw/$fam"
	mkdir -p "$d"
	case "$own_list" in *" $fam "*) echo ownership ;; *) echo other ;; esac > "$d/group"
	if [ ! -f "$st/progs/$fam.c" ]; then
		echo "no such file: progs/$fam.c in linux-source-$source_ver" > "$d/compile.err"
		say "  $fam: not in this source"
		continue
	fi
	extra=$(per_object_cflags "$fam")
	# shellcheck disable=SC2086
	cmd=("$CLANG" "${BPF_CFLAGS[@]}" $extra -O2 "$bpf_target" -c "$st/progs/$fam.c" -mcpu=v3 -o "$work/obj/$fam.full.o")
	echo "${cmd[*]}" | sed "s|$work|\$WORK|g; s|$src|\$SRC|g" > "$d/compile.cmd"
	if ! "${cmd[@]}" 2> "$d/compile.err"; then
		say "  $fam: compile error: $(grep -m1 'error:' "$d/compile.err" | sed "s|$src/||")"
		continue
	fi
	"$STRIP" -g "$work/obj/$fam.full.o" -o "$work/obj/$fam.bpf.o"
	bpftool btf dump file "$work/obj/$fam.bpf.o" > "$d/btf.txt"
	if ! "$work/list-progs" "$work/obj/$fam.bpf.o" > "$d/progs.tsv" 2> "$d/open.err"; then
		say "  $fam: libbpf cannot open the object"
		continue
	fi
	cut -f1 "$d/progs.tsv" | while read -r p; do
		echo "$fam $p L1 $LEVEL_L1"
		echo "$fam $p L2 $LEVEL_L2"
	done >> "$work/jobs.txt"
	say "  $fam: $(wc -l < "$d/progs.tsv") programs"
done

if [ $compile_only -eq 1 ]; then
	say "compiled in $(($(date +%s) - start_time)) s; objects in $work/obj, loads to run in $work/jobs.txt"
	exit 0
fi

# ------------------------------------------------------------------- load ----
# one loader run per program and level: the program alone in a fresh bpf_object;
# stdout = the raw kernel log, stderr = libbpf's warnings + "result: ..."
if [ -n "$guest_spec" ]; then
	# the same loads, inside the guest: WORK/raw/<family>/<prog>.<L1|L2>.{log,err} as below
	say "loading $(($(wc -l < "$work/jobs.txt") / 2)) programs at log levels $LEVEL_L1 and $LEVEL_L2 in $jobs $guest_spec guest(s)"
	run_ts "$here/guest-load.ts" load --kernel "$guest_spec" --work "$work" --loader "$work/loader" \
		--guests "$jobs" --memory "$guest_memory" ${guest_timeout:+--timeout "$guest_timeout"} ||
		{ keep_work=1; die "the guest loads did not finish (work dir kept: $work)"; }
	kernel_release=$(node -p "require('$work/guest.json').kernel")
else
	say "loading $(($(wc -l < "$work/jobs.txt") / 2)) programs at log levels $LEVEL_L1 and $LEVEL_L2 ($jobs at a time)"
	export work
	load_one() {
		local fam=$1 prog=$2 tag=$3 level=$4 d="$work/raw/$1"
		"$work/loader" "$work/obj/$fam.bpf.o" --prog "$prog" --level "$level" \
			> "$d/$prog.$tag.log" 2> "$d/$prog.$tag.err" || true
	}
	export -f load_one
	xargs -P "$jobs" -L 1 bash -c 'load_one "$@"' _ < "$work/jobs.txt"
	kernel_release=$host_release
fi

# -------------------------------------------------- prog_tests tables (C) ----
# {prog_name, err_msg} tables in prog_tests/*.c (e.g. linked_list_fail_tests in
# prog_tests/linked_list.c) are compiled as they are and printed, so macros and
# string concatenation come out exactly as test_progs sees them.
mkdir -p "$work/tables"
for t in "$st"/prog_tests/*.c; do
	grep -q 'const char \*prog_name;' "$t" && grep -q 'const char \*err_msg;' "$t" || continue
	base=$(basename "$t" .c)
	awk '
		/^static struct \{/ { buf = $0 "\n"; grab = 1; next }
		grab { buf = buf $0 "\n" }
		grab && /^\};/ { if (buf ~ /prog_name;/ && buf ~ /err_msg;/) { print buf; n++ } grab = 0 }
	' "$t" > "$work/tables/$base.inc"
	[ -s "$work/tables/$base.inc" ] || continue
	name=$(sed -n 's/^} \([a-z_0-9]*\)\[\] = {$/\1/p' "$work/tables/$base.inc" | head -1)
	[ -n "$name" ] || continue
	cat > "$work/tables/$base.main.c" <<-EOF
	#include <stdio.h>
	#include "$base.inc"
	static void esc(const char *s) { for (; *s; s++) { if (*s == '\n') fputs("\\\\n", stdout); else if (*s == '\t') fputs("\\\\t", stdout); else if (*s == '\\\\') fputs("\\\\\\\\", stdout); else putchar(*s); } }
	int main(void) { for (unsigned i = 0; i < sizeof($name) / sizeof($name[0]); i++) { esc($name[i].prog_name); putchar('\t'); esc($name[i].err_msg); putchar('\n'); } return 0; }
	EOF
	if gcc -o "$work/tables/$base" -I"$work/tables" "$work/tables/$base.main.c" 2> "$work/tables/$base.cc.err"; then
		{ echo "# prog_tests/$base.c $name"; "$work/tables/$base"; } > "$work/tables/$base.tsv"
	else
		say "  prog_tests/$base.c: table $name does not compile on its own (skipped)"
	fi
done
# which objects prog_tests run through test_loader (RUN_TESTS: annotations apply)
grep -ho 'RUN_TESTS([a-z_0-9]*)' "$st"/prog_tests/*.c | sed 's/RUN_TESTS(\(.*\))/\1/' | sort -u > "$work/run_tests.txt"

# ------------------------------------------------------------------ write ----
cat > "$work/meta.json" <<-EOF
{
  "release": "$release",
  "kernel": "$kernel_release",
  "selftestsSource": "linux-source-$source_ver",
  "selftestsVersion": "${src_version:-unknown}",
  "debianVersion": "${deb_version:-unknown}",
  "libbpf": "$libbpf_version (from the selftests source, static)",
  "clang": "$("$CLANG" --version | head -1)",
  "bpftool": "$(bpftool version 2>/dev/null | head -1)",
  "vmlinuxH": "$vmlinux_from",
  "logLevels": { "L1": $LEVEL_L1, "L2": $LEVEL_L2 },
  "objMaxBytes": $OBJ_MAX,
  "builtAt": "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
}
EOF
if [ -n "$guest_spec" ]; then
	# where the loads ran: the guest (scripts/corpus/guest-load.ts wrote guest.json)
	node -e '
		const fs = require("fs"), [m, g, spec] = process.argv.slice(1);
		const meta = JSON.parse(fs.readFileSync(m, "utf8")), guest = JSON.parse(fs.readFileSync(g, "utf8"));
		meta.guest = { spec, package: guest.package, version: guest.version, accel: guest.accel, memoryMb: guest.memoryMb, guests: guest.guests, seconds: guest.seconds };
		fs.writeFileSync(m, JSON.stringify(meta, null, 2) + "\n");' "$work/meta.json" "$work/guest.json" "$guest_spec"
fi
node "$repo/bin/run-ts.mjs" "$here/make-manifest.ts" --work "$work" --src "$src" --out "$out_base/$release" \
	--seconds "$(($(date +%s) - start_time))" $replace
say "done in $(($(date +%s) - start_time)) s: $out_base/$release ($(du -sh "$out_base/$release" | cut -f1))"
