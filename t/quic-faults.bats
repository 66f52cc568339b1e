#!/usr/bin/env bats
# rcp-quic-send, rcp-quic-recv under network faults (SPEC §5): heavy loss,
# a lost CONNECTION_CLOSE, stalled and vanished peers, and a pinned
# listener besieged by strangers.  Each test runs in a network namespace
# of its own (root, ip netns, nft), so its rules touch nothing else.
# The promise checked everywhere: exact delivery, or a failure with a
# message on both sides and no -o file; never status 0 with wrong data.

load test_helper
load quic_helper

setup() {
	quic_setup
	[ "$(id -u)" -eq 0 ] || skip "needs root for ip netns and nft"
	command -v nft >/dev/null || skip "nft not installed"
	NETNS="rcpf$$_$BATS_TEST_NUMBER"
	ip netns add "$NETNS" 2>/dev/null || {
		NETNS=""
		skip "cannot create a network namespace"
	}
	ip -n "$NETNS" link set lo up
	ip netns exec "$NETNS" nft add table inet t
	ip netns exec "$NETNS" nft add chain inet t out \
	    '{ type filter hook output priority 0 ; }'
}

teardown() {
	quic_teardown
}

# ns CMD...: CMD inside this test's namespace, in the foreground.  bg is
# given `ip netns exec` itself, which execs the program: bg's pid is then
# the program's own (for kill -STOP), not a subshell's.
ns() {
	ip netns exec "$NETNS" "$@"
}

# drop RULE...: adds an nft drop rule to the namespace's output chain.
drop() {
	ns nft add rule inet t out "$@" drop
}

# no_output NAME: neither NAME nor a temporary file beside it exists.
no_output() {
	[ ! -e "$T/$1" ]
	run find "$T" -name ".$1.*"
	assert_output ""
}

# wait_stopped PID: waits (10 s at most) until PID is stopped (by a
# signal: state T).
wait_stopped() {
	local i st
	for ((i = 0; i < 100; i++)); do
		st=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) || st=""
		[ "$st" = T ] && return 0
		sleep 0.1
	done
	echo "process $1 never stopped (state: $st)" >&2
	return 1
}

# start_feed NAME BYTES: a fifo $T/NAME fed BYTES random bytes, then held
# open (the sender is mid-transfer for as long as the test needs).
start_feed() {
	mkfifo "$T/$1"
	{ random_stream "$2" "$1"; exec sleep 60; } >"$T/$1" 3>&- &
	PIDS+=($!)
}

# wait_growing PID: waits (10 s at most) until the receiver's temporary
# output holds more than 100 kB.  The -o file has no name until it is
# published (O_TMPFILE), so look among the process's open files.
wait_growing() {
	local i
	for ((i = 0; i < 100; i++)); do
		output_grown "$1" && return 0
		sleep 0.1
	done
	echo "no output of process $1 growing past 100 kB" >&2
	return 1
}

@test "20% UDP loss: 4 MB arrive exactly, or both sides fail with a message" {
	drop meta l4proto udp numgen random mod 100 '<' 20
	random_file "$T/in" 4000000
	bg r ip netns exec "$NETNS" rcp-quic-recv --listen 127.0.0.1:0 --ready-fd 3 -o "$T/out"
	wait_ready r
	run ns rcp-quic-send --connect "$ADDR" --pin "$PIN" --stats "$T/in" 3>&-
	local s_rc=$status s_out=$output
	wait_exit r 60
	if [ "$s_rc" -eq 0 ]; then
		# Delivered: the receiver agrees and the bytes are the same.
		[ "$r_rc" -eq 0 ]
		[[ $s_out =~ packets_lost=[1-9] ]]
	fi
	if [ "$r_rc" -eq 0 ]; then
		[ "$(sha256sum <"$T/in")" = "$(sha256sum <"$T/out")" ]
	else
		[ "$s_rc" -eq 1 ]
		[[ $s_out == rcp-quic-send:\ * ]]
		grep -q '^rcp-quic-recv: ' "$T/r.err"
		no_output out
	fi
}

@test "the sender's CONNECTION_CLOSE lost: both exit 0, the receiver warns" {
	# The shim stops the receiver at its output's fsync, which comes
	# once it holds and wrote the whole input and the FIN, before its
	# confirmation.  Then every packet to it is dropped, so it never
	# sees the sender's close after the confirmation, only the ICMP
	# unreachable once the sender has exited.
	random_file "$T/in" 1500000
	bg r ip netns exec "$NETNS" env LD_PRELOAD="$(fault_preload rcp-quic-recv)" \
	    FAULT_STOP_CALL=fsync \
	    rcp-quic-recv --listen 127.0.0.1:0 --ready-fd 3 -o "$T/out"
	wait_ready r
	bg s ip netns exec "$NETNS" rcp-quic-send --connect "$ADDR" --pin "$PIN" "$T/in"
	wait_stopped "$r_pid"
	drop udp dport "${ADDR##*:}"
	kill -CONT "$r_pid"
	wait_exit s 30
	wait_exit r 30
	[ "$s_rc" -eq 0 ] && [ "$r_rc" -eq 0 ] ||
	    { head -5 "$T/s.err" "$T/r.err" >&2; false; }
	grep -q "rcp-quic-recv: warning: sender 127.0.0.1:[0-9]* went away before acknowledging the confirmation; the output is complete" "$T/r.err"
	run grep -c "rcp-quic-recv: peer.*is gone" "$T/r.err"
	assert_output 0
	cmp "$T/in" "$T/out"
}

# stall WHO: SIGSTOP the receiver (WHO=r) or the sender (WHO=s) past the
# other side's --idle-timeout 2, mid-transfer.
stall() {
	local who=$1 other
	[ "$who" = r ] && other=s || other=r
	start_feed feed 1000000
	bg r ip netns exec "$NETNS" rcp-quic-recv --listen 127.0.0.1:0 --ready-fd 3 --idle-timeout 2 -o "$T/out"
	wait_ready r
	bg s ip netns exec "$NETNS" rcp-quic-send --connect "$ADDR" --pin "$PIN" --idle-timeout 2 "$T/feed"
	wait_growing "$r_pid"
	local pid_var="${who}_pid"
	kill -STOP "${!pid_var}"
	# The other side notices within its idle timeout (2 s, or 3 PTOs).
	wait_exit "$other" 15
	local rc_var="${other}_rc"
	[ "${!rc_var}" -eq 1 ]
	grep -Eq "connection timed out: nothing from 127.0.0.1:[0-9]+ for [2-9] s \(idle timeout 2 s, --idle-timeout\)" "$T/$other.err"
	kill -CONT "${!pid_var}"
	wait_exit "$who" 15
	rc_var="${who}_rc"
	[ "${!rc_var}" -eq 1 ]
	grep -q "^rcp-quic-$([ "$who" = r ] && echo recv || echo send): " "$T/$who.err"
	no_output out
}

@test "receiver stopped past --idle-timeout: the sender fails, then the receiver; no -o file" {
	stall r
}

@test "sender stopped past --idle-timeout: the receiver fails, then the sender; no -o file" {
	stall s
}

@test "the peer's shorter --idle-timeout is the one in force, and named as such" {
	start_feed feed 1000000
	bg r ip netns exec "$NETNS" rcp-quic-recv --listen 127.0.0.1:0 --ready-fd 3 --idle-timeout 2 -o "$T/out"
	wait_ready r
	bg s ip netns exec "$NETNS" rcp-quic-send --connect "$ADDR" --pin "$PIN" "$T/feed"
	wait_growing "$r_pid"
	kill -STOP "$r_pid"
	wait_exit s 15
	[ "$s_rc" -eq 1 ]
	grep -Eq "connection timed out: nothing from 127.0.0.1:[0-9]+ for [2-9] s \(idle timeout 2 s, the peer's --idle-timeout\)" "$T/s.err"
	kill -CONT "$r_pid"
	wait_exit r 15
	no_output out
}

# vanish ICMP: SIGKILL the receiver mid-transfer; with ICMP=drop the
# sender hears no "port unreachable" and must rely on its idle timeout.
vanish() {
	[ "$1" = drop ] && drop meta l4proto icmp
	start_feed feed 1000000
	bg r ip netns exec "$NETNS" rcp-quic-recv --listen 127.0.0.1:0 --ready-fd 3 -o "$T/out"
	wait_ready r
	bg s ip netns exec "$NETNS" rcp-quic-send --connect "$ADDR" --pin "$PIN" --idle-timeout 2 "$T/feed"
	wait_growing "$r_pid"
	{ kill -9 "$r_pid"; wait "$r_pid"; } 2>/dev/null || true
	wait_exit s 15
	[ "$s_rc" -eq 1 ]
	if [ "$1" = drop ]; then
		grep -Eq "rcp-quic-send: connection timed out: nothing from 127.0.0.1:[0-9]+ for [2-9] s \(idle timeout 2 s" "$T/s.err"
	else
		grep -Eq "rcp-quic-send: peer 127.0.0.1:[0-9]+ is gone \(connection refused\)" "$T/s.err"
	fi
	[ ! -e "$T/out" ]
}

@test "receiver killed mid-transfer: the sender fails at once (ICMP unreachable)" {
	vanish icmp
}

@test "receiver killed mid-transfer, ICMP dropped: the sender fails at its idle timeout" {
	vanish drop
}

# strangers_then_pinned BATCHES: BATCHES of 10 strangers at once are
# refused (status 4) by a --peer-pin listener, which then serves the
# pinned peer.
strangers_then_pinned() {
	rcp-quic-send --gen-identity "$T/good.pem" >"$T/good.pin"
	local k b
	for k in 1 2 3 4 5; do
		rcp-quic-send --gen-identity "$T/stranger$k.pem" >/dev/null
	done
	random_file "$T/in" 2000000
	# Generous timeouts: under make check VALGRIND=1 one handshake takes
	# seconds, and the listener serves four at a time from one address.
	bg r ip netns exec "$NETNS" rcp-quic-recv --listen 127.0.0.1:0 --ready-fd 3 --peer-pin "$(cat "$T/good.pin")" --accept-timeout 1800 -o "$T/out"
	wait_ready r
	# 10 batches of 10 at once: half with identities of their own, half
	# with ephemeral ones.  The listener takes four handshakes at a time
	# from one address, so the others retransmit their Initial: well
	# inside --connect-timeout.  Under make check VALGRIND=1 a handshake takes
	# seconds: 2 batches, and a stranger may be cut short (its silence
	# makes its handshake give way) or starve behind the others.
	local batches=$1 slow=0 refused
	[ "${VALGRIND:-0}" = 1 ] && batches=$((batches < 2 ? batches : 2)) slow=1
	for ((b = 0; b < batches; b++)); do
		local pids=()
		for ((k = 0; k < 10; k++)); do
			if ((k % 2)); then
				ns rcp-quic-send --connect "$ADDR" --pin "$PIN" \
				    --connect-timeout 300 --idle-timeout 300 \
				    --identity "$T/stranger$((k / 2 + 1)).pem" /dev/null \
				    2>"$T/st$b.$k.err" 3>&- &
			else
				ns rcp-quic-send --connect "$ADDR" --pin "$PIN" \
				    --connect-timeout 300 --idle-timeout 300 \
				    /dev/null 2>"$T/st$b.$k.err" 3>&- &
			fi
			pids+=($!)
			PIDS+=($!)
		done
		for k in "${pids[@]}"; do
			local rc=0
			wait "$k" || rc=$?
			[ "$rc" -eq 4 ] || { [ "$slow" = 1 ] && [ "$rc" -eq 1 ]; }
		done
	done
	cat "$T"/st*.err | sort | uniq -c >&2 || true
	refused=$(cat "$T"/st*.err | grep -c '^rcp-quic-send: peer refused our certificate (TLS alert 42)$' || true)
	[ "$slow" = 1 ] || [ "$refused" -eq $((batches * 10)) ]
	[ "$refused" -ge 1 ]
	kill -0 "$r_pid"
	[ ! -e "$T/out" ]
	run ns rcp-quic-send --connect "$ADDR" --pin "$PIN" --identity "$T/good.pem" "$T/in" 3>&-
	assert_success
	wait_exit r
	[ "$r_rc" -eq 0 ]
	# Each refusal, as the listener saw it.
	run grep -c "client certificate fingerprint mismatch: expected $(cat "$T/good.pin")" "$T/r.err"
	assert_output "$refused"
	cmp "$T/in" "$T/out"
}

@test "--peer-pin: 10 strangers refused (status 4) while waiting, then the pinned peer is served" {
	strangers_then_pinned 1
}

@test "slow: --peer-pin: 100 strangers refused (status 4) while waiting, then the pinned peer is served" {
	slow_test
	strangers_then_pinned 10
}

# pinned_receiver BYTES OPTION...: $T/in of BYTES random bytes, and a
# receiver into $T/out that accepts only $T/good.pem's owner (made
# here), with these options; sets ADDR and PIN.
pinned_receiver() {
	local bytes=$1
	shift
	rcp-quic-send --gen-identity "$T/good.pem" >"$T/good.pin"
	random_file "$T/in" "$bytes"
	bg r ip netns exec "$NETNS" rcp-quic-recv --listen 127.0.0.1:0 --ready-fd 3 --peer-pin "$(cat "$T/good.pin")" "$@" -o "$T/out"
	wait_ready r
}

# pinned_sender_served SECS: the pinned peer sends $T/in within its own
# --connect-timeout SECS, and the receiver delivers it whole.
pinned_sender_served() {
	run ns rcp-quic-send --connect "$ADDR" --pin "$PIN" --identity "$T/good.pem" --connect-timeout "$1" "$T/in" 3>&-
	assert_success
	wait_exit r
	[ "$r_rc" -eq 0 ]
	cmp "$T/in" "$T/out"
}

# stalled_strangers N: N strangers from 127.0.0.1, each stopped once its
# handshake is under way (its Initial in, the listener's Retry out, its
# answers dropped), so that each holds a handshake of the listener's.
stalled_strangers() {
	local k i
	drop udp sport "${ADDR##*:}" udp length gt 400 counter
	for ((k = 1; k <= $1; k++)); do
		bg "x$k" ip netns exec "$NETNS" rcp-quic-send --connect "$ADDR" --pin "$PIN" --connect-timeout 30 "$T/in"
		for ((i = 0; i < 200; i++)); do
			ns nft list chain inet t out |
			    grep -Eq "packets ([$k-9]|[1-9][0-9])" && break
			sleep 0.1
		done
		local v="x${k}_pid"
		kill -STOP "${!v}"
	done
	ns nft flush chain inet t out
}

@test "stalled strangers at the listener's limit for one address give way to the pinned peer" {
	pinned_receiver 100000 --connect-timeout 30
	# Four: all the handshakes one address may hold at once.
	stalled_strangers 4
	sleep 2
	# The pinned peer, from the same address, is served inside its own
	# 10 s --connect-timeout: the stalest stranger gives way.
	pinned_sender_served 10
	run grep -Ec "handshake with 127.0.0.1:[0-9]+ failed, still listening: no progress for [0-9.]+ s, [0-9.]+ s into the handshake, and 127.0.0.1:[0-9]+ is waiting" "$T/r.err"
	assert_output 1
	# Woken up, each stranger fails at once: told so by the close the
	# listener sent, or by the port it finds closed.
	local k v
	for k in 1 2 3 4; do
		kill -CONT "$(v="x${k}_pid"; echo "${!v}")"
		wait_exit "x$k" 5
		v="x${k}_rc"
		[ "${!v}" -eq 1 ]
		grep -Eq "rcp-quic-send: (peer closed the connection: transport error 0x2: (handshake too slow|another peer was accepted)|peer 127.0.0.1:[0-9]+ is gone)" "$T/x$k.err"
	done
}

@test "a stalled stranger does not delay the pinned peer: handshakes run side by side" {
	pinned_receiver 100000 --connect-timeout 30
	stalled_strangers 1
	# Inside 2 s, less than a stalled handshake's 3 s before it yields.
	pinned_sender_served 2
	run grep -c 'no progress for' "$T/r.err"
	assert_output 0
	kill -CONT "$x1_pid"
	wait_exit x1 5
	[ "$x1_rc" -eq 1 ]
	grep -Eq "rcp-quic-send: (peer closed the connection: transport error 0x2: another peer was accepted|peer 127.0.0.1:[0-9]+ is gone)" "$T/x1.err"
}

@test "a stranger replaying an Initial every second costs no handshake; the pinned peer is served" {
	# A connector's first datagram, its Initial, caught at a sink.
	bg sink ns perl -MIO::Socket::INET -e '
		my $s = IO::Socket::INET->new(LocalAddr => "127.0.0.1",
		    LocalPort => 0, Proto => "udp") or die "socket: $!";
		open(my $p, ">&=", 3) or die;
		print $p "RCP_QUIC 127.0.0.1:", $s->sockport, " sha256:\n"; close $p;
		$s->recv(my $d, 65535) or die "recv: $!";
		open(my $f, ">", $ARGV[0]) or die; binmode $f; print $f $d;' \
	    "$T/initial"
	read -r SINK _ < <(read_ready "$T/sink.ready")
	run ns rcp-quic-send --connect "$SINK" \
	    --pin "sha256:$(printf %064d 0)" --connect-timeout 1 /dev/null 3>&-
	assert_failure 1
	wait_exit sink 5
	[ "$(stat -c %s "$T/initial")" -ge 1200 ]
	pinned_receiver 100000 --connect-timeout 30
	bg replay ns perl -MIO::Socket::INET -e '
		open(my $f, "<", $ARGV[0]) or die; binmode $f; local $/; my $d = <$f>;
		my $s = IO::Socket::INET->new(PeerAddr => $ARGV[1], Proto => "udp")
		    or die "socket: $!";
		while (1) { $s->send($d); sleep 1 }' "$T/initial" "$ADDR"
	sleep 2.5
	# Served within its own 5 s --connect-timeout.
	pinned_sender_served 5
	# Each replay was answered with a Retry; none started a handshake.
	run grep -c 'handshake with' "$T/r.err"
	assert_output 0
}

@test "slow: 100 strangers at once while the pinned peer connects: it is served, they are refused" {
	slow_test
	pinned_receiver 1000000 --accept-timeout 600
	local k pids=() rc t0
	for ((k = 0; k < 100; k++)); do
		ns rcp-quic-send --connect "$ADDR" --pin "$PIN" \
		    --connect-timeout 300 /dev/null 2>"$T/st$k.err" 3>&- &
		pids+=($!)
		PIDS+=($!)
	done
	sleep 1	# they are all at the door
	t0=$SECONDS
	run ns rcp-quic-send --connect "$ADDR" --pin "$PIN" --identity "$T/good.pem" --connect-timeout 60 "$T/in" 3>&-
	assert_success
	echo "# the pinned peer was served after $((SECONDS - t0)) s" >&3
	for k in "${pids[@]}"; do
		rc=0
		wait "$k" || rc=$?
		[ "$rc" -eq 4 ] || [ "$rc" -eq 1 ]
	done
	wait_exit r
	[ "$r_rc" -eq 0 ]
	cmp "$T/in" "$T/out"
}

@test "a name with two addresses: the connector tries the second when the first refuses" {
	# ip netns exec bind-mounts /etc/netns/NAME/hosts on /etc/hosts.
	mkdir -p "/etc/netns/$NETNS"
	printf '::1 twoaddr\n127.0.0.1 twoaddr\n' >"/etc/netns/$NETNS/hosts"
	run ns getent ahosts twoaddr
	[ "${lines[0]%% *}" = ::1 ] || skip "::1 does not resolve first here"
	random_file "$T/in" 100000
	bg r ip netns exec "$NETNS" rcp-quic-recv --listen 127.0.0.1:0 --ready-fd 3 -o "$T/out"
	wait_ready r
	run ns rcp-quic-send --connect "twoaddr:${ADDR##*:}" --pin "$PIN" "$T/in" 3>&-
	assert_success
	wait_exit r
	[ "$r_rc" -eq 0 ]
	cmp "$T/in" "$T/out"
	# With no listener on either, the last refusal is the one reported.
	run ns rcp-quic-send --connect "twoaddr:${ADDR##*:}" --pin "$PIN" "$T/in" 3>&-
	assert_failure 1
	assert_output "rcp-quic-send: 127.0.0.1:${ADDR##*:}: connection refused (nothing listening?)"
}
