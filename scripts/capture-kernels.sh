#!/usr/bin/env bash
# Capture the fixture programs on Debian kernels under QEMU (the 6.1, 6.12, 7.2 and 7.3 fixtures).
#
#   bash scripts/capture-kernels.sh [KERNEL...]        default: 6.1 6.12 7.2 7.3-cloud
#
# Uses `kptrscope capture` (src-main/hosts/cli/run-capture.ts: the same command): every
# test/fixtures/logs/6.18/NAME.bpf.o of a program in test/fixtures/progs/ (the objects scripts/capture.sh
# built and loaded on 6.18, so the kernels are compared on identical bytes) is loaded with
# `bpftool -d prog loadall` plus scripts/loader.c raw logs at levels 1, 2 and 7, and written to
# test/fixtures/logs/<major.minor>/ (NAME.bpftool.log, NAME.verdict, NAME.L1/L2/L7.log when the
# verifier ran, NAME.bpf.o, KERNEL, kfuncs.json, capture.json). 6.1 also keeps the guest's serial
# transcript (serial.txt) for the demultiplexer test. Runs as root or not (nothing is loaded on the
# host); installs qemu-system-x86 and busybox-static from Debian when missing and root.
# Kernels are cached in ~/.cache/kptrscope (see README); a first run downloads them (~180 MB).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
kernels=("$@")
[ ${#kernels[@]} -gt 0 ] || kernels=(6.1 6.12 7.2 7.3-cloud)

missing=()
command -v qemu-system-x86_64 >/dev/null || missing+=(qemu-system-x86)
[ -x /usr/bin/busybox ] && ! ldd /usr/bin/busybox >/dev/null 2>&1 || missing+=(busybox-static)
command -v bpftool >/dev/null || missing+=(bpftool)
[ -r /usr/include/bpf/libbpf.h ] || missing+=(libbpf-dev)
command -v gcc >/dev/null || missing+=(gcc)
if [ ${#missing[@]} -gt 0 ]; then
	[ "$(id -u)" -eq 0 ] || { echo "capture-kernels.sh: missing ${missing[*]} (apt-get install ${missing[*]})" >&2; exit 1; }
	echo "capture-kernels.sh: apt-get install ${missing[*]}" >&2
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

objs=()
for src in "$repo"/test/fixtures/progs/*.bpf.c; do
	name=$(basename "$src" .bpf.c)
	obj="$repo/test/fixtures/logs/6.18/$name.bpf.o"
	[ -f "$obj" ] || { echo "capture-kernels.sh: $obj missing (run scripts/capture.sh on the host first)" >&2; exit 1; }
	objs+=("$obj")
done

args=()
for k in "${kernels[@]}"; do args+=(--kernel "$k"); done
db=$(mktemp -d /tmp/kptrscope-capture-kernels.XXXXXX)
trap 'rm -rf "$db"' EXIT
cd "$repo"
node bin/run-ts.mjs src-main/hosts/cli/run-capture.ts "${objs[@]}" "${args[@]}" \
	--raw-levels 1,2,7 --out test/fixtures/logs --transcript --db "$db/capture.db"
# One transcript is enough for the tests (6.1's, the smallest): drop the others.
find test/fixtures/logs -name serial.txt ! -path '*/logs/6.1/*' -delete
