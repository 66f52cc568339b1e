#!/usr/bin/env bash
# bench/compare-entropy.sh OLD_BIN [NEW_BIN]: `entropy-frame F |
# entropy-unframe >/dev/null` of two builds, and of the new one with
# RCP_NO_SPLICE=1 (read and write only), against `cat F | cat >/dev/null`,
# the four alternated within each of BENCH_RUNS rounds, on
# BENCH_SIZE_MB MiB (bench/lib.sh).  Prints each median and its ratio
# to the anchor's.  Build the old tree with:
#   git archive REV | tar -x -C /tmp/old && make -C /tmp/old
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
OLD=$1
NEW=${2:-$PWD/bin}

in=$(bench_input in-$BENCH_SIZE_MB "$BENCH_SIZE_MB")
names=(cat old new new-no-splice)
cmds=("cat '$in' | cat >/dev/null"
	"'$OLD/entropy-frame' '$in' | '$OLD/entropy-unframe' >/dev/null"
	"'$NEW/entropy-frame' '$in' | '$NEW/entropy-unframe' >/dev/null"
	"export RCP_NO_SPLICE=1; '$NEW/entropy-frame' '$in' | '$NEW/entropy-unframe' >/dev/null")
declare -A t
for ((r = 0; r < BENCH_RUNS; r++)); do
	for i in "${!cmds[@]}"; do
		t[$i]+=" $(seconds "${cmds[$i]}")"
	done
done
anchor=$(median ${t[0]})
for i in "${!cmds[@]}"; do
	m=$(median ${t[$i]})
	printf '%s MiB %-14s %8.3f s  ratio %6.3f  (runs:%s)\n' "$BENCH_SIZE_MB" \
		"${names[$i]}" "$m" "$(echo "$m / $anchor" | bc -l)" "${t[$i]}"
done
