#!/bin/sh
# bench/aescbc.sh: aescbc-enc/-dec against openssl enc on the same 1 GiB
# (SPEC §7).  Inputs live on /dev/shm, outputs go to /dev/null, A and B
# runs alternate, each figure is the median of RUNS runs.
#   usage: sh bench/aescbc.sh [SIZE_MiB]    (RUNS=5 by default)
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
bin=$top/bin
mib=${1:-1024}
runs=${RUNS:-5}
dir=$(mktemp -d /dev/shm/aescbc-bench.XXXXXX)
trap 'rm -rf "$dir"' EXIT INT TERM

for p in aescbc-enc aescbc-dec aescbc-keygen entropy-frame; do
	[ -x "$bin/$p" ] || { echo "bench: $bin/$p missing: run make" >&2; exit 1; }
done
command -v openssl >/dev/null || { echo "bench: openssl missing" >&2; exit 1; }

"$bin/aescbc-keygen" --format hex "$dir/key" "$dir/iv"
K=$(cat "$dir/key")
IV=$(cat "$dir/iv")
head -c "$((mib * 1048576))" /dev/urandom >"$dir/plain"
"$bin/entropy-frame" "$dir/plain" >"$dir/framed"
openssl enc -aes-128-cbc -K "$K" -iv "$IV" -in "$dir/plain" -out "$dir/cipher"

# secs CMD...: wall-clock seconds of one run.
secs() {
	s=$(date +%s.%N)
	"$@" >/dev/null
	e=$(date +%s.%N)
	echo "$e - $s" | bc
}

median() {
	sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

# row LABEL TARGET "A cmd" "B cmd": prints medians and the A/B ratio.
row() {
	label=$1 target=$2 a=$3 b=$4
	: >"$dir/a"
	: >"$dir/b"
	i=0
	while [ "$i" -lt "$runs" ]; do
		secs sh -c "$a" >>"$dir/a"
		secs sh -c "$b" >>"$dir/b"
		i=$((i + 1))
	done
	ta=$(median <"$dir/a")
	tb=$(median <"$dir/b")
	printf '%-34s %7.3fs %7.3fs %6.3f  <= %s\n' "$label" "$ta" "$tb" \
	    "$(echo "$ta / $tb" | bc -l)" "$target"
}

kf="-k $dir/key -i $dir/iv"
echo "aescbc: ${mib} MiB on /dev/shm, median of $runs, $(nproc) CPUs"
printf '%-34s %8s %8s %6s  %s\n' "ours vs anchor" "ours" "anchor" "ratio" \
    "target"
row "aescbc-enc" 1.05 \
    "'$bin/aescbc-enc' $kf '$dir/plain'" \
    "openssl enc -aes-128-cbc -K $K -iv $IV -in '$dir/plain'"
row "aescbc-dec" 1.05 \
    "'$bin/aescbc-dec' $kf '$dir/cipher'" \
    "openssl enc -d -aes-128-cbc -K $K -iv $IV -in '$dir/cipher'"
row "aescbc-enc --frames -j 2" 0.60 \
    "'$bin/aescbc-enc' --frames -j 2 $kf '$dir/framed'" \
    "openssl enc -aes-128-cbc -K $K -iv $IV -in '$dir/plain'"
