# Shared by the bench/*.sh scripts: timing, medians, report lines.
# Figures are always ratios against an anchor measured in the same run,
# with A and B runs alternated, because these machines are noisy.

. "$(dirname "${BASH_SOURCE[0]}")/../scripts/common.bash"

BENCH_DIR=${BENCH_DIR:-/dev/shm/rcp-bench}
BENCH_RUNS=${BENCH_RUNS:-5}
BENCH_SIZE_MB=${BENCH_SIZE_MB:-1024}
mkdir -p "$BENCH_DIR"

# bench_input NAME MB: a random file of MB MiB on tmpfs, made once.
bench_input() {
	local f="$BENCH_DIR/$1"
	if [ ! -f "$f" ] || [ "$(stat -c %s "$f")" -ne $(($2 * 1048576)) ]; then
		head -c $(($2 * 1048576)) /dev/urandom >"$f"
	fi
	echo "$f"
}

# seconds 'SHELL COMMAND': wall-clock seconds of one run, failing loudly.
seconds() {
	local t0 t1
	t0=$(date +%s.%N)
	bash -o pipefail -c "$1" || { echo "bench: failed: $1" >&2; return 1; }
	t1=$(date +%s.%N)
	echo "$t1 - $t0" | bc -l
}

# median N1 N2 ...: the median of the numbers.
median() {
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
		if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# compare LABEL TARGET 'OURS' 'ANCHOR': alternates runs, prints one row:
# label, our median seconds, anchor median seconds, ratio, target, verdict.
compare() {
	local label=$1 target=$2 ours=$3 anchor=$4 a=() b=() i ma mb ratio verdict
	for ((i = 0; i < BENCH_RUNS; i++)); do
		b+=("$(seconds "$anchor")") || return 1
		a+=("$(seconds "$ours")") || return 1
	done
	ma=$(median "${a[@]}")
	mb=$(median "${b[@]}")
	ratio=$(echo "$ma / $mb" | bc -l)
	verdict=met
	if [ "$target" = - ]; then
		verdict="(reported)"
	elif [ "$(echo "$ratio <= $target" | bc -l)" != 1 ]; then
		verdict=MISSED
	fi
	printf '%-44s %8.3f s %8.3f s %6.3f  <= %-5s %s\n' "$label" "$ma" "$mb" \
		"$ratio" "$target" "$verdict"
	BENCH_OURS=$ma BENCH_ANCHOR=$mb
}

compare_header() {
	printf '%-44s %10s %10s %6s  %-8s %s\n' "ours vs anchor" "ours" "anchor" \
		"ratio" "target" ""
}

# peak_rss_kb 'SHELL COMMAND': the largest max RSS of the processes in it.
# Each stage is wrapped by /usr/bin/time through a bash function.
peak_rss_kb() {
	/usr/bin/time -f '%M' -o "$BENCH_DIR/rss.$$" bash -c "$1" >/dev/null
	cat "$BENCH_DIR/rss.$$"
}
