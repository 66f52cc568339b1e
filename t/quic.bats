#!/usr/bin/env bats
# rcp-quic-send, rcp-quic-recv (SPEC §5).  Loopback, and for packet loss a
# network namespace made here.  Every wait is bounded; teardown kills
# whatever a test left running.

load test_helper
load quic_helper

setup() {
	quic_setup
}

teardown() {
	quic_teardown
}

@test "-h and -V on both programs" {
	for p in rcp-quic-send rcp-quic-recv; do
		run "$p" -h
		assert_success
		assert_output --partial "usage: $p [OPTIONS] --listen [ADDR:]PORT"
		run "$p" --version
		assert_success
		assert_output "$p 0.1.0"
	done
}

@test "usage errors: status 2 and a sentence naming the option" {
	run rcp-quic-send --connect 127.0.0.1:4433 /dev/null
	assert_failure 2
	assert_output --partial "--connect needs --pin sha256:HEX"
	run rcp-quic-recv
	assert_failure 2
	assert_output --partial "one of --listen or --connect is needed"
	run rcp-quic-recv --listen 0 --connect 127.0.0.1:1 --pin "sha256:$(printf '%064d' 0)"
	assert_failure 2
	assert_output --partial "--listen and --connect exclude each other"
	run rcp-quic-send --connect 127.0.0.1:4433 --pin sha256:abc
	assert_failure 2
	assert_output --partial "--pin sha256:abc: expected sha256: and 64 hex digits"
	run rcp-quic-send --listen 127.0.0.1:4433 --port-range 5000-5010
	assert_failure 2
	assert_output --partial "--port-range needs port 0"
	run rcp-quic-send --listen 0 --port-range 5010-5000
	assert_failure 2
	assert_output --partial "--port-range 5010-5000: expected LO-HI"
	run rcp-quic-recv --listen 0 --cc vegas
	assert_failure 2
	assert_output --partial "--cc vegas: must be cubic, bbr or reno"
	run rcp-quic-recv --listen 0 --idle-timeout 0
	assert_failure 2
	assert_output --partial "--idle-timeout 0: must be 1..86400 seconds"
	run rcp-quic-recv --listen ::1:4433
	assert_failure 2
	assert_output --partial "put an IPv6 address in brackets"
	run rcp-quic-recv --listen 0 --ready-fd 9
	assert_failure 2
	assert_output --partial "--ready-fd 9: Bad file descriptor"
	run rcp-quic-send --listen 0 a b
	assert_failure 2
	assert_output --partial "at most one FILE"
}

@test "30 MB, receiver listening on 127.0.0.1, -o FILE, sha256 equal" {
	random_file "$T/in" 31457280
	bg r rcp-quic-recv --listen 127.0.0.1:0 --ready-fd 3 -o "$T/out"
	wait_ready r
	[[ $ADDR == 127.0.0.1:* ]]
	run rcp-quic-send --connect "$ADDR" --pin "$PIN" "$T/in" 3>&-
	assert_success
	wait_exit r
	[ "$r_rc" -eq 0 ]
	grep -q "warning: no --peer-pin: accepting any peer" "$T/r.err"
	[ "$(sha256sum <"$T/in")" = "$(sha256sum <"$T/out")" ]
}

@test "30 MB, sender listening on [::1], stdin to stdout" {
	random_file "$T/in" 31457280
	bg s rcp-quic-send --listen '[::1]:0' --ready-fd 3 "$T/in"
	wait_ready s
	[[ $ADDR == \[::1\]:* ]]
	run_pipe "rcp-quic-recv --connect '$ADDR' --pin '$PIN' --stats 3>&- > '$T/out'"
	assert_success
	assert_output --regexp "rcp-quic-recv: stats: bytes=31457280 seconds=[0-9.]+ throughput=[0-9.]+MiB/s rtt="
	wait_exit s
	[ "$s_rc" -eq 0 ]
	cmp "$T/in" "$T/out"
}

# stats_field NAME KEY: the value of KEY in the --stats line of $T/NAME.err.
stats_field() {
	grep -o ' stats: .*' "$T/$1.err" | grep -oE " $2=[^ ]*" | cut -d= -f2
}

@test "--stats: both ends count the same seconds, a slow producer's wait included, in MiB/s" {
	local pin s r
	random_file "$T/in" 262144
	bg r rcp-quic-recv --listen 127.0.0.1:0 --ready-fd 3 --stats -o "$T/out"
	wait_ready r
	pin=$PIN
	# 250 ms each way.  The sender's closing period after the
	# confirmation (three PTOs, over 1.5 s on this path) once counted
	# in its seconds and not in the receiver's.
	bg p perl "$TOP/t/udp_delay_proxy.pl" 250 "${ADDR##*:}"
	wait_ready p
	# One connection: the relay forwards one UDP flow (auto would take 8).
	run_pipe "{ sleep 2; cat '$T/in'; } | rcp-quic-send --connect '$ADDR' --pin '$pin' --connections 1 --stats 2>'$T/s.err' 3>&-"
	assert_success
	wait_exit r
	[ "$r_rc" -eq 0 ]
	cmp "$T/in" "$T/out"
	grep -Eq '^rcp-quic-send: stats: bytes=262144 seconds=[0-9]+\.[0-9]{3} throughput=[0-9]+\.[0-9]MiB/s rtt=' "$T/s.err"
	grep -Eq '^rcp-quic-recv: stats: bytes=262144 seconds=[0-9]+\.[0-9]{3} throughput=[0-9]+\.[0-9]MiB/s rtt=' "$T/r.err"
	s=$(stats_field s seconds)
	r=$(stats_field r seconds)
	echo "# seconds: sender $s, receiver $r" >&2
	# Within 0.5 s + 20% (they differ by a round trip), and both take
	# in most of the producer's 2 s.
	awk -v s="$s" -v r="$r" 'BEGIN { d = s - r; if (d < 0) d = -d
		m = s < r ? s : r; exit !(d <= 0.5 + 0.2 * m && m >= 1) }'
}

@test "sender reads a pipe; the ready line goes to stderr by default" {
	random_file "$T/in" 3000000
	cat "$T/in" >"$T/copy"
	bg r rcp-quic-recv --listen 127.0.0.1:0 -o "$T/out"
	local i
	for ((i = 0; i < 100; i++)); do
		grep -q '^RCP_QUIC ' "$T/r.err" && break
		sleep 0.1
	done
	read -r _ ADDR PIN < <(grep '^RCP_QUIC ' "$T/r.err")
	run_pipe "cat '$T/copy' | rcp-quic-send --connect '$ADDR' --pin '$PIN' 3>&-"
	assert_success
	wait_exit r
	[ "$r_rc" -eq 0 ]
	cmp "$T/in" "$T/out"
}

@test "an empty input is delivered as an empty file" {
	bg r rcp-quic-recv --listen 127.0.0.1:0 --ready-fd 3 -o "$T/out"
	wait_ready r
	run rcp-quic-send --connect "$ADDR" --pin "$PIN" /dev/null 3>&-
	assert_success
	wait_exit r
	[ "$r_rc" -eq 0 ]
	[ -f "$T/out" ] && [ ! -s "$T/out" ]
}

@test "wrong pin: status 4 and both fingerprints; the listener keeps waiting" {
	random_file "$T/in" 100000
	bg r rcp-quic-recv --listen 127.0.0.1:0 --ready-fd 3 -o "$T/out"
	wait_ready r
	local wrong="sha256:$(printf '%064d' 0)"
	run rcp-quic-send --connect "$ADDR" --pin "$wrong" "$T/in" 3>&-
	assert_failure 4
	assert_output "rcp-quic-send: server certificate fingerprint mismatch: expected $wrong, got $PIN"
	# Upper-case hex is the same pin.
	run rcp-quic-send --connect "$ADDR" --pin "sha256:${PIN#sha256:}" "$T/in" 3>&-
	assert_success
	wait_exit r
	[ "$r_rc" -eq 0 ]
	cmp "$T/in" "$T/out"
}

@test "--gen-identity writes a 0600 key file and prints its pin; --identity uses it" {
	run rcp-quic-send --gen-identity "$T/id.pem"
	assert_success
	assert_output --regexp '^sha256:[0-9a-f]{64}$'
	local gpin=$output
	[ "$(stat -c %a "$T/id.pem")" = 600 ]
	grep -q -- '-----BEGIN PRIVATE KEY-----' "$T/id.pem"
	grep -q -- '-----BEGIN CERTIFICATE-----' "$T/id.pem"
	# A listener with that identity announces the same pin.
	random_file "$T/in" 100000
	bg s rcp-quic-send --listen 127.0.0.1:0 --ready-fd 3 --identity "$T/id.pem" "$T/in"
	wait_ready s
	[ "$PIN" = "$gpin" ]
	run rcp-quic-recv --connect "$ADDR" --pin "$gpin" -o "$T/out" 3>&-
	assert_success
	wait_exit s
	[ "$s_rc" -eq 0 ]
	cmp "$T/in" "$T/out"
}

@test "an --identity file others can read is refused (2), as ssh refuses such a key" {
	rcp-quic-send --gen-identity "$T/id.pem" >"$T/id.pin"
	chmod 640 "$T/id.pem"
	run rcp-quic-send --listen 0 --identity "$T/id.pem" /dev/null
	assert_failure 2
	assert_output "rcp-quic-send: $T/id.pem: identity file is accessible by group or others (mode 0640): chmod 600 it"
	run rcp-quic-recv --connect 127.0.0.1:9 --pin "sha256:$(printf '%064d' 0)" --identity "$T/id.pem"
	assert_failure 2
	# Handed over as a descriptor, it is the caller's business.
	bg s rcp-quic-send --listen 127.0.0.1:0 --ready-fd 3 --identity /dev/fd/5 /dev/null 5<"$T/id.pem"
	wait_ready s
	assert_equal "$PIN" "$(cat "$T/id.pin")"
}

@test "--gen-identity onto an existing file: status 2 and a hint; --force replaces it" {
	run rcp-quic-send --gen-identity "$T/id.pem"
	assert_success
	local pin=$output
	run rcp-quic-recv --gen-identity "$T/id.pem"
	assert_failure 2
	assert_output "rcp-quic-recv: $T/id.pem: file exists (use --force to replace it)"
	run rcp-quic-recv --gen-identity "$T/id.pem" --force
	assert_success
	[ "$output" != "$pin" ]
	[ "$(stat -c %a "$T/id.pem")" = 600 ]
	run ls -A "$T"
	assert_output 'id.pem'
	run rcp-quic-send --force --listen 0
	assert_failure 2
	assert_line --index 0 'rcp-quic-send: --force goes with --gen-identity only'
}

@test "a malformed --identity file is a usage error (2)" {
	echo "not a key" >"$T/bad.pem"
	chmod 600 "$T/bad.pem"
	run rcp-quic-send --listen 0 --identity "$T/bad.pem" /dev/null
	assert_failure 2
	assert_output --partial "$T/bad.pem: no usable private key"
	run rcp-quic-send --listen 0 --identity "$T/missing.pem" /dev/null
	assert_failure 2
	assert_output --partial "$T/missing.pem: No such file or directory"
	# Key of one identity, certificate of another.
	rcp-quic-send --gen-identity "$T/a.pem" >/dev/null
	rcp-quic-send --gen-identity "$T/b.pem" >/dev/null
	{ sed -n '/BEGIN PRIVATE KEY/,/END PRIVATE KEY/p' "$T/a.pem"
	  sed -n '/BEGIN CERTIFICATE/,/END CERTIFICATE/p' "$T/b.pem"; } >"$T/mix.pem"
	chmod 600 "$T/mix.pem"
	run rcp-quic-recv --connect 127.0.0.1:9 --pin "sha256:$(printf '%064d' 0)" --identity "$T/mix.pem"
	assert_failure 2
	assert_output --partial "the private key does not belong to the certificate"
}

@test "--peer-pin refuses a stranger (status 4), then serves the right peer" {
	rcp-quic-send --gen-identity "$T/good.pem" >"$T/good.pin"
	random_file "$T/in" 2000000
	bg r rcp-quic-recv --listen 127.0.0.1:0 --ready-fd 3 --peer-pin "$(cat "$T/good.pin")" -o "$T/out"
	wait_ready r
	run rcp-quic-send --connect "$ADDR" --pin "$PIN" "$T/in" 3>&-
	assert_failure 4
	assert_output --partial "peer refused our certificate"
	run rcp-quic-send --connect "$ADDR" --pin "$PIN" --identity /dev/fd/5 "$T/in" 3>&- 5<"$T/good.pem"
	assert_success
	wait_exit r
	[ "$r_rc" -eq 0 ]
	grep -q "client certificate fingerprint mismatch: expected $(cat "$T/good.pin")" "$T/r.err"
	run grep -c "accepting any peer" "$T/r.err"
	assert_output 0
	cmp "$T/in" "$T/out"
}

@test "two senders fail the handshake instead of waiting for each other" {
	bg s rcp-quic-send --listen 127.0.0.1:0 --ready-fd 3 /dev/null
	wait_ready s
	run rcp-quic-send --connect "$ADDR" --pin "$PIN" /dev/null 3>&-
	assert_failure 1
	assert_output --partial "two senders or two receivers?"
}

@test "receiver writing to /dev/full: receiver and sender both fail" {
	random_file "$T/in" 5000000
	bg r sh -c 'exec rcp-quic-recv --listen 127.0.0.1:0 --ready-fd 3 >/dev/full'
	wait_ready r
	run rcp-quic-send --connect "$ADDR" --pin "$PIN" "$T/in" 3>&-
	assert_failure 1
	assert_output --partial "peer failed: receiver output failed: write: No space left on device"
	wait_exit r
	[ "$r_rc" -eq 1 ]
	# Our own message names our output; the sender's says whose it was.
	grep -q "rcp-quic-recv: stdout: write error: No space left on device" "$T/r.err"
}

@test "sender input failing: both fail, the receiver says why, no -o file" {
	mkdir "$T/dir"
	bg r rcp-quic-recv --listen 127.0.0.1:0 --ready-fd 3 -o "$T/out"
	wait_ready r
	# A directory opens, then read(2) fails with EISDIR.
	run rcp-quic-send --connect "$ADDR" --pin "$PIN" "$T/dir" 3>&-
	assert_failure 1
	assert_output "rcp-quic-send: $T/dir: read error: Is a directory"
	wait_exit r
	[ "$r_rc" -eq 1 ]
	grep -q "rcp-quic-recv: peer failed: sender input failed: read: Is a directory" "$T/r.err"
	[ ! -e "$T/out" ]
	run find "$T" -name '.out.*'
	assert_output ""
}

# under_way [CMD...]: a transfer into -o $T/out under way, the sender's
# input a FIFO held open: r and s are started (bg) with CMD before each
# program, and RECV_OPTS among the receiver's options; returns once the
# receiver's output (perhaps unnamed: O_TMPFILE) has grown.
under_way() {
	mkfifo "$T/fifo"
	bg r "$@" rcp-quic-recv --listen 127.0.0.1:0 --ready-fd 3 \
	    ${RECV_OPTS:-} -o "$T/out"
	wait_ready r
	bg s "$@" rcp-quic-send --connect "$ADDR" --pin "$PIN" "$T/fifo"
	{ random_stream 1000000 fifo; exec sleep 20; } >"$T/fifo" 3>&- &
	PIDS+=($!)
	local i
	for ((i = 0; i < 100; i++)); do
		output_grown "$r_pid" && break
		sleep 0.1
	done
}

@test "sender killed mid-transfer: receiver fails, no -o file, no temporary file" {
	RECV_OPTS="--idle-timeout 3" under_way
	# Braces: bash reports the killed job on the stderr of the wait.
	{ kill -9 "$s_pid"; wait "$s_pid"; } 2>/dev/null || true
	wait_exit r 15
	[ "$r_rc" -eq 1 ]
	run cat "$T/r.err"
	assert_output --regexp "peer 127.0.0.1:[0-9]+ is gone|connection timed out"
	[ ! -e "$T/out" ]
	run find "$T" -name '.out.*'
	assert_output ""
}

# interrupt WHO SIG: a transfer with -o under way (the sender's input
# held open), then SIG to the sender (WHO=s) or the receiver (WHO=r).
# A non-interactive shell starts background jobs with SIGINT ignored
# (and the programs leave an ignored signal ignored, as nohup needs):
# env gives them the default back, as a terminal's foreground job has.
interrupt() {
	under_way env --default-signal=INT
	local pid_var="${1}_pid"
	kill -"$2" "${!pid_var}"
}

# interrupted WHO: for SIGINT then SIGTERM, interrupt WHO (s or r) and
# check that it dies of the signal and that its peer fails at once (not
# at its 30 s idle timeout), naming it, with no -o file left.
interrupted() {
	local sig who other msg
	if [ "$1" = s ]; then
		who=s other=r msg='rcp-quic-recv: peer failed: sender interrupted'
	else
		who=r other=s msg='rcp-quic-send: peer failed: receiver interrupted'
	fi
	for sig in INT TERM; do
		interrupt "$who" "$sig"
		wait_exit "$who" 2
		local rc_var="${who}_rc" orc_var="${other}_rc"
		[ "${!rc_var}" -eq $((128 + $(kill -l "$sig"))) ]
		wait_exit "$other" 2
		[ "${!orc_var}" -eq 1 ]
		# The receiver may have said more before; the sender not.
		if [ "$other" = r ]; then
			run tail -1 "$T/r.err"
		else
			run cat "$T/s.err"
		fi
		assert_output "$msg"
		[ ! -e "$T/out" ]
		run find "$T" -name '.out.*'
		assert_output ""
		rm -f "$T/fifo"
	done
}

@test "SIGINT or SIGTERM on the sender: the receiver fails at once, naming it" {
	interrupted s
}

@test "SIGINT or SIGTERM on the receiver: the sender fails at once, naming it; no -o file" {
	interrupted r
}

@test "a producer silent longer than --idle-timeout still delivers (keep-alives)" {
	random_file "$T/in" 500000
	bg r rcp-quic-recv --listen 127.0.0.1:0 --ready-fd 3 --idle-timeout 2 -o "$T/out"
	wait_ready r
	run_pipe "{ sleep 5; cat '$T/in'; } | rcp-quic-send --connect '$ADDR' --pin '$PIN' --idle-timeout 2 3>&-"
	assert_success
	wait_exit r
	[ "$r_rc" -eq 0 ]
	cmp "$T/in" "$T/out"
}

@test "a consumer stalled longer than --idle-timeout still gets every byte" {
	# 40 MB: more than the flow-control window, so the sender waits too.
	random_file "$T/in" 40000000
	bg r bash -c "rcp-quic-recv --listen 127.0.0.1:0 --ready-fd 3 --idle-timeout 2 | { sleep 5; cat; } >'$T/out'; echo \${PIPESTATUS[0]} >'$T/r.rc'"
	wait_ready r
	run rcp-quic-send --connect "$ADDR" --pin "$PIN" --idle-timeout 2 "$T/in" 3>&-
	assert_success
	wait_exit r
	assert_equal "$(cat "$T/r.rc")" 0
	cmp "$T/in" "$T/out"
}

@test "a named FIFO's reader stalled longer than --idle-timeout still gets every byte" {
	# A FIFO opened by name takes no RWF_NOWAIT writes: the receiver
	# must still never block on it, or it stops answering its peer.
	random_file "$T/in" 40000000
	mkfifo "$T/fifo"
	# The reader opens it at once, then reads nothing for 5 s.
	(exec <"$T/fifo"; sleep 5; exec cat >"$T/out") &
	PIDS+=($!)
	bg r sh -c 'exec rcp-quic-recv --listen 127.0.0.1:0 --ready-fd 3 --idle-timeout 2 >"$1"' sh "$T/fifo"
	wait_ready r
	run rcp-quic-send --connect "$ADDR" --pin "$PIN" --idle-timeout 2 "$T/in" 3>&-
	assert_success
	wait_exit r
	[ "$r_rc" -eq 0 ]
	cmp "$T/in" "$T/out"
}

@test "-o onto a device, a symbolic link, another user's file: as entropy-unframe does" {
	[ "$(id -u)" -eq 0 ] || skip "needs root for mknod and chown"
	random_file "$T/in" 300000
	mknod "$T/null" c 1 3
	mkdir "$T/data"
	: >"$T/data/dump.rdb"
	chown nobody:nogroup "$T/data/dump.rdb"
	chmod 0640 "$T/data/dump.rdb"
	ln -s data/dump.rdb "$T/link"
	local o
	for o in null link; do
		bg r rcp-quic-recv --listen 127.0.0.1:0 --ready-fd 3 -o "$T/$o"
		wait_ready r
		run rcp-quic-send --connect "$ADDR" --pin "$PIN" "$T/in" 3>&-
		assert_success
		wait_exit r
		[ "$r_rc" -eq 0 ]
	done
	[ -c "$T/null" ] && [ -L "$T/link" ]
	cmp "$T/in" "$T/data/dump.rdb"
	[ "$(stat -c %U:%G:%a "$T/data/dump.rdb")" = nobody:nogroup:640 ]
	run ls -A "$T" "$T/data"
	assert_output --regexp 'dump\.rdb$'
	refute_output --partial '.dump'
}

@test "--port-range is honoured; --advertise replaces the wildcard address" {
	bg r rcp-quic-recv --listen 0.0.0.0:0 --port-range 40100-40110,40200-40210 --advertise db1.example --ready-fd 3 -o "$T/out"
	wait_ready r
	[[ $ADDR == db1.example:* ]]
	local port=${ADDR##*:}
	[ "$port" -ge 40100 ] && [ "$port" -le 40210 ]
	[ "$port" -le 40110 ] || [ "$port" -ge 40200 ]
	echo hello >"$T/in"
	run rcp-quic-send --connect "127.0.0.1:$port" --pin "$PIN" "$T/in" 3>&-
	assert_success
	wait_exit r
	[ "$r_rc" -eq 0 ]
	cmp "$T/in" "$T/out"
}

@test "a wildcard listener without --advertise prints an address a peer can dial" {
	local l
	for l in 0 0.0.0.0:0; do
		echo hello >"$T/in"
		bg r rcp-quic-recv --listen "$l" --ready-fd 3 --accept-timeout 5 -o "$T/out"
		wait_ready r
		[[ $ADDR != \[::\]:* && $ADDR != 0.0.0.0:* ]]
		# The host's own address (or, with no route out, its name).
		if [[ $ADDR =~ ^[0-9.]+:[0-9]+$ || $ADDR == \[*\]:* ]]; then
			run rcp-quic-send --connect "$ADDR" --pin "$PIN" "$T/in" 3>&-
			assert_success
			wait_exit r
			[ "$r_rc" -eq 0 ]
			cmp "$T/in" "$T/out"
		else
			[ "${ADDR%:*}" = "$(hostname)" ]
			wait_exit r
		fi
		rm -f "$T/out"
	done
}

@test "--accept-timeout 1 with no peer: status 1" {
	run rcp-quic-recv --listen 127.0.0.1:0 --accept-timeout 1 --ready-fd 3 3>/dev/null
	assert_failure 1
	assert_output --partial "no peer within 1 s (--accept-timeout)"
}

@test "connecting to a port where nothing listens: status 1" {
	run rcp-quic-send --connect 127.0.0.1:9 --pin "sha256:$(printf '%064d' 0)" /dev/null
	assert_failure 1
	assert_output --partial "127.0.0.1:9: connection refused"
}

@test "5% UDP packet loss in a network namespace: the transfer is exact" {
	[ "$(id -u)" -eq 0 ] || skip "needs root for ip netns and nft"
	command -v nft >/dev/null || skip "nft not installed"
	NETNS="rcpq$$"
	ip netns add "$NETNS" || skip "cannot create a network namespace"
	ip -n "$NETNS" link set lo up
	ip netns exec "$NETNS" nft add table inet t
	ip netns exec "$NETNS" nft add chain inet t out '{ type filter hook output priority 0 ; }'
	ip netns exec "$NETNS" nft add rule inet t out meta l4proto udp numgen random mod 100 '<' 5 drop
	random_file "$T/in" 10000000
	bg r ip netns exec "$NETNS" rcp-quic-recv --listen 127.0.0.1:0 --ready-fd 3 -o "$T/out"
	wait_ready r
	run ip netns exec "$NETNS" rcp-quic-send --connect "$ADDR" --pin "$PIN" --stats "$T/in" 3>&-
	assert_success
	assert_output --regexp "packets_lost=[1-9]"
	wait_exit r
	[ "$r_rc" -eq 0 ]
	cmp "$T/in" "$T/out"
}

@test "--progress on a file input ends at 100% with a sane ETA" {
	random_file "$T/in" 3000000
	bg r rcp-quic-recv --listen 127.0.0.1:0 --ready-fd 3 -o "$T/out"
	wait_ready r
	rcp-quic-send --connect "$ADDR" --pin "$PIN" --progress "$T/in" 2>"$T/s.err"
	wait_exit r
	[ "$r_rc" -eq 0 ]
	cmp "$T/in" "$T/out"
	run bash -c "tr '\r' '\n' <'$T/s.err' | grep -v '^$' | tail -1"
	assert_output --regexp '100\.0% ETA 0:00:0[0-9] *$'
}

@test "--limit-rate paces the sender at the rate, and is refused without a rate" {
	random_file "$T/in" 3145728
	bg r rcp-quic-recv --listen 127.0.0.1:0 --ready-fd 3 -o "$T/out"
	wait_ready r
	local t0 t1
	t0=$(date +%s.%N)
	rcp-quic-send --connect "$ADDR" --pin "$PIN" --limit-rate 1m \
	    --progress "$T/in" 2>"$T/s.err" 3>&-
	t1=$(date +%s.%N)
	wait_exit r
	[ "$r_rc" -eq 0 ]
	cmp "$T/in" "$T/out"
	# 3 MiB at 1 MiB/s: never faster (the feature); the upper bound is
	# only there to catch a stall.
	[ "$(echo "$t1 - $t0 >= 2.8 && $t1 - $t0 < 8" | bc)" = 1 ] || {
		echo "took $(echo "$t1 - $t0" | bc) s"; false; }
	# The display shows the limited rate, not loopback's: its average
	# over the whole run, start-up included, which a loaded machine
	# (the sanitizers, 8 jobs) slows by up to a tenth or so.
	run bash -c "tr '\r' '\n' <'$T/s.err' | grep -v '^$' | tail -1"
	assert_output --regexp ' ([89][0-9][0-9]\.[0-9] KiB|1\.0 MiB)/s '
	run rcp-quic-send --connect "$ADDR" --pin "$PIN" --limit-rate 10KB "$T/in"
	assert_failure 2
	assert_output --partial "--limit-rate 10KB: not a rate in bytes per second"
	run rcp-quic-recv --listen 127.0.0.1:0 --limit-rate 1m
	assert_failure 2
}

@test "--limit-rate: a tiny rate holds from the first byte; a stalled reader costs no CPU" {
	random_file "$T/in" 2000
	bg r rcp-quic-recv --listen 127.0.0.1:0 --ready-fd 3 -o "$T/out"
	wait_ready r
	local t0 t1
	t0=$(date +%s.%N)
	rcp-quic-send --connect "$ADDR" --pin "$PIN" --limit-rate 800 "$T/in" 3>&-
	t1=$(date +%s.%N)
	wait_exit r
	cmp "$T/in" "$T/out"
	# 2000 bytes at 800 bytes/s: no first burst of a whole bucket.
	[ "$(echo "$t1 - $t0 >= 2.2" | bc)" = 1 ] || { echo "took $(echo "$t1 - $t0" | bc) s"; false; }
	# The receiver's reader sleeps 3 s: the window fills, and the rate
	# is not what holds the sender back; it must sleep, not spin.
	random_file "$T/big" 30000000
	rcp-quic-recv --listen 127.0.0.1:0 --ready-fd 3 3>"$T/r2.ready" \
	    2>"$T/r2.err" | { sleep 3; cat >/dev/null; } &
	PIDS+=($!)
	wait_ready r2
	/usr/bin/time -f '%U %S' -o "$T/cpu" rcp-quic-send --connect "$ADDR" \
	    --pin "$PIN" --limit-rate 20M "$T/big" 3>&-
	wait
	run awk '{ print ($1 + $2 < 1.0) ? "idle" : "spun " $1 + $2 " s" }' "$T/cpu"
	assert_output idle
}

@test "--stats names the congestion control: bbr by default, --cc's otherwise" {
	random_file "$T/in" 200000
	local cc
	for cc in "" cubic; do
		bg r rcp-quic-recv --listen 127.0.0.1:0 --ready-fd 3 -o "$T/out"
		wait_ready r
		run rcp-quic-send --connect "$ADDR" --pin "$PIN" --stats \
		    ${cc:+--cc "$cc"} "$T/in" 3>&-
		assert_success
		assert_output --regexp " cc=${cc:-bbr} connections=1$"
		wait_exit r
		cmp "$T/in" "$T/out"
	done
}
