#!/usr/bin/env bash
# bench/launch.sh: rcp-launch against ssh(1), both through a throwaway
# sshd on a loopback port (never the user's own ~/.ssh).
#
#   throughput  rcp-launch [--pull] testhost cat FILE > /dev/null
#               vs ssh testhost cat FILE > /dev/null          (SPEC §7)
#   set-up      rcp-launch [--pull] testhost true  vs ssh testhost true
#
# --pull is used when this build has it; otherwise plain mode is measured
# (the report says which).  FILE is BENCH_SIZE bytes (default 1G) of
# random data on /dev/shm.  A and B runs alternate; each figure is the
# median of BENCH_RUNS (default 5) runs.
set -euo pipefail
cd "$(dirname "$0")/.."
TOP=$PWD
PATH="$TOP/bin:$PATH"
SIZE=${BENCH_SIZE:-1G}
RUNS=${BENCH_RUNS:-5}
SETUP_RUNS=${BENCH_SETUP_RUNS:-9}

WORK=$(mktemp -d /dev/shm/rcp-bench-launch.XXXXXX)
cleanup() {
	sshd_stop
	rm -rf "$WORK"
}
BATS_FILE_TMPDIR=$WORK
. "$TOP/t/sshd_helper.bash"
trap cleanup EXIT
sshd_start "$WORK" >/dev/null

FILE=$WORK/input
head -c "$SIZE" /dev/urandom >"$FILE"
SSH=(ssh -F "$HOME/.ssh/config" -o BatchMode=yes)
MODE=plain
LAUNCH=(rcp-launch)
if rcp-launch --pull --remote-bin "$TOP/bin" testhost true \
    >/dev/null 2>&1; then
	MODE=pull
	LAUNCH=(rcp-launch --pull --remote-bin "$TOP/bin")
fi

now() { date +%s.%N; }
timeit() {		# timeit CMD...: seconds on stdout
	local t0 t1
	t0=$(now)
	"$@" >/dev/null
	t1=$(now)
	echo "$t1 - $t0" | bc -l
}
median() { sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

measure() {		# measure RUNS label-a label-b: alternate A and B
	local runs=$1 i
	shift
	: >"$WORK/a" && : >"$WORK/b"
	for i in $(seq 1 "$runs"); do
		timeit "${A[@]}" >>"$WORK/a"
		timeit "${B[@]}" >>"$WORK/b"
	done
	TA=$(median <"$WORK/a")
	TB=$(median <"$WORK/b")
}

printf '%-44s %10s %10s %7s %7s\n' "rcp-launch ($MODE) vs ssh" ours anchor ratio target

A=("${LAUNCH[@]}" testhost cat "$FILE")
B=("${SSH[@]}" testhost cat "$FILE")
measure "$RUNS"
printf '%-44s %9.3fs %9.3fs %7.2f %7s\n' "cat $SIZE > /dev/null" \
    "$TA" "$TB" "$(echo "$TA / $TB" | bc -l)" '<= 0.80'

A=("${LAUNCH[@]}" testhost true)
B=("${SSH[@]}" testhost true)
measure "$SETUP_RUNS"
printf '%-44s %9.3fs %9.3fs %7.2f %7s\n' "set-up (zero bytes)" \
    "$TA" "$TB" "$(echo "$TA / $TB" | bc -l)" '-'
