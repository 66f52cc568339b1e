# Shared by t/quic.bats and t/quic-faults.bats: background programs with a
# ready line on fd 3, and bounded waits for them.  The caller's setup()
# calls quic_setup and its teardown() calls quic_teardown.

# quic_setup: what every QUIC test's setup() does first.
quic_setup() {
	setup_tmp
	PIDS=()
	NETNS=""
}

# bg NAME CMD...: runs CMD in the background, fd 3 (the ready line) to
# $T/NAME.ready, stderr to $T/NAME.err; its pid goes into NAME_pid.
bg() {
	local name=$1
	shift
	# The child truncates it only once it runs: a ready line left by
	# an earlier NAME must not be read as this one's.
	rm -f "$T/$name.ready"
	"$@" 3>"$T/$name.ready" 2>"$T/$name.err" &
	PIDS+=($!)
	printf -v "${name}_pid" '%s' "$!"
}

# wait_ready NAME: waits (10 s at most) for NAME's ready line and sets
# ADDR (host:port) and PIN from it.
wait_ready() {
	local got
	got=$(read_ready "$T/$1.ready") || {
		echo "$1 said: $(cat "$T/$1.err")" >&2
		return 1
	}
	read -r ADDR PIN <<<"$got"
}

# wait_exit NAME [SECS]: waits for NAME to end (killing it after SECS,
# default 30) and sets NAME_rc.
wait_exit() {
	local pid_var="${1}_pid" secs=${2:-30} i rc
	local pid=${!pid_var}
	for ((i = 0; i < secs * 10; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -9 "$pid" 2>/dev/null || true
	rc=0
	wait "$pid" || rc=$?
	printf -v "${1}_rc" '%s' "$rc"
}

# quic_teardown: kills what a test left (stopped ones too) and its
# network namespace, if it made one.
quic_teardown() {
	local p
	{
		for p in "${PIDS[@]}"; do
			kill -CONT "$p"
			kill -9 "$p" && wait "$p"
		done
	} 2>/dev/null || true
	if [ -n "${NETNS:-}" ]; then
		ip netns pids "$NETNS" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
		ip netns delete "$NETNS" 2>/dev/null || true
		rm -rf "/etc/netns/$NETNS"
	fi
}
