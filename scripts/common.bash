# Helpers shared by the tests (t/), the benchmarks (bench/) and the demo:
# one port picker and one bounded reader of a listener's ready line.

# free_port tcp|udp: a port on 127.0.0.1 that nothing uses at this moment.
# Another process may take it before the caller binds: callers retry.
free_port() {
	local p flags=-Htln
	[ "${1:-tcp}" = udp ] && flags=-Huln
	for _ in $(seq 100); do
		p=$((20000 + RANDOM % 40000))
		ss "$flags" "sport = :$p" | grep -q . || { echo "$p"; return 0; }
	done
	return 1
}

# read_ready FILE [SECS]: waits (SECS, default 10, in steps of 20 ms) for
# the ready line a listener writes with --ready-fd into the regular file
# FILE ("RCP_QUIC ADDR:PORT sha256:HEX") and prints "ADDR PIN".  Fails,
# saying what FILE held, when none came in time.
read_ready() {
	local i line tag addr pin steps=$((${2:-10} * 50))
	for ((i = 0; i < steps; i++)); do
		if [ -s "$1" ] && IFS= read -r line <"$1" &&
		    read -r tag addr pin <<<"$line" &&
		    [ "$tag" = RCP_QUIC ] && [[ $pin == sha256:* ]]; then
			echo "$addr $pin"
			return 0
		fi
		sleep 0.02
	done
	echo "no ready line in $1 after ${2:-10} s: '$(head -c 200 "$1" 2>/dev/null)'" >&2
	return 1
}
