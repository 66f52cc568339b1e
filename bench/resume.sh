#!/usr/bin/env bash
# bench/resume.sh: the benchmark of issue 15.  On the emulated WAN of
# bench/net.sh (100 Mbit/s, 40 ms, no loss; bench/netlink.sh), a
# transfer cut at 90% (the sender killed) and resumed with
# rcp-quic-recv --resume: the resumed run's time as a fraction of a
# whole transfer's, each timed from the receiver's start to both ends'
# exit (bench/pair.sh), the inputs a regular file and a pipe.  Medians of
# BENCH_RESUME_RUNS (default 3), the whole and the resumed runs
# alternated.  Target: <= 0.15.  Needs root (namespaces, TUN).
set -euo pipefail
cd "$(dirname "$0")/.."
TOP=$PWD
PATH="$TOP/bin:$PATH"
. bench/lib.sh

if [ "$(id -u)" -ne 0 ]; then
	printf '%-44s SKIPPED (needs root for namespaces)\n' "resume rows"
	exit 0
fi
RUNS=${BENCH_RESUME_RUNS:-3}
MB=${BENCH_RESUME_MB:-160}
LINK="rcpres$$"
W=$(mktemp -d "$BENCH_DIR/resume.XXXXXX")
cleanup() {
	bash bench/netlink.sh down "$LINK" >/dev/null 2>&1 || true
	rm -rf "$W"
}
trap cleanup EXIT

in=$(bench_input "resume-$MB" "$MB")
size=$((MB * 1048576))
bash bench/netlink.sh wan "$LINK" 100 40 0 >/dev/null

# send SRC: the sender's shell command for SRC (file or pipe).
send_cmd() {
	case $1 in
	file)	echo "rcp-quic-send --connect \$1 --pin \$2 < '$in'" ;;
	pipe)	echo "cat '$in' | rcp-quic-send --connect \$1 --pin \$2" ;;
	esac
}

# run SRC OPTS: one transfer into $W/out (OPTS to the receiver); prints
# its seconds.
run() {
	local src=$1 opts=$2 t0 t1 addr pin r
	rm -f "$W/ready"
	t0=$(date +%s.%N)
	# shellcheck disable=SC2086
	ip netns exec "$LINK-b" rcp-quic-recv --listen 10.79.0.2:0 \
	    --ready-fd 3 $opts -o "$W/out" 3>"$W/ready" 2>"$W/recv.err" &
	r=$!
	read -r addr pin <<<"$(read_ready "$W/ready")"
	ip netns exec "$LINK-a" bash -o pipefail -c "$(send_cmd "$src")" \
	    _ "$addr" "$pin" 2>"$W/send.err" || true
	wait "$r" || true
	t1=$(date +%s.%N)
	echo "$t1 - $t0" | bc -l
}

# cut SRC: a --resume transfer whose sender dies once the partial file
# holds 90% of the input.
cut() {
	local src=$1 addr pin r s
	rm -f "$W/ready" "$W/out" "$W/out.rcp-partial"
	ip netns exec "$LINK-b" rcp-quic-recv --listen 10.79.0.2:0 \
	    --ready-fd 3 --resume -o "$W/out" 3>"$W/ready" 2>"$W/recv.err" &
	r=$!
	read -r addr pin <<<"$(read_ready "$W/ready")"
	ip netns exec "$LINK-a" bash -o pipefail -c "$(send_cmd "$src")" \
	    _ "$addr" "$pin" 2>/dev/null &
	s=$!
	while [ "$(stat -c %s "$W/out.rcp-partial" 2>/dev/null || echo 0)" \
	    -lt $((size * 9 / 10)) ]; do
		sleep 0.02
	done
	ip netns pids "$LINK-a" | xargs -r kill -9
	{ wait "$s" "$r"; } 2>/dev/null || true	# "Killed", said by bash
	[ ! -e "$W/out" ] || { echo "bench: published after a cut" >&2; exit 1; }
}

printf '%-44s %10s %10s %6s  %-8s %s\n' "resumed run vs whole (WAN 100/40/0)" \
	resumed whole ratio target ""
for src in file pipe; do
	whole=() resumed=()
	for ((i = 0; i < RUNS; i++)); do
		whole+=("$(run "$src" "")")
		cmp "$in" "$W/out"
		cut "$src"
		resumed+=("$(run "$src" --resume)")
		cmp "$in" "$W/out"
	done
	mw=$(median "${whole[@]}")
	mr=$(median "${resumed[@]}")
	ratio=$(echo "$mr / $mw" | bc -l)
	verdict=met
	[ "$(echo "$ratio <= 0.15" | bc -l)" = 1 ] || verdict=MISSED
	printf '%-44s %8.3f s %8.3f s %6.3f  <= %-5s %s\n' \
	    "  $MB MiB, cut at 90%, input a $src" "$mr" "$mw" "$ratio" 0.15 \
	    "$verdict"
done
