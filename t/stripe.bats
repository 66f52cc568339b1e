#!/usr/bin/env bats
# rcp-quic-send --connections N: one transfer striped over N QUIC
# connections and put back in order by rcp-quic-recv (quic.h, the
# PROTOCOL section of rcp-quic-send(1)).  Loopback, and a veth pair with
# packet loss made by nftables.

load test_helper
load quic_helper

setup() {
	quic_setup
}

teardown() {
	quic_teardown
	if [ -n "${LINK:-}" ]; then
		"$TOP/bench/netlink.sh" down "$LINK" >/dev/null 2>&1 || true
	fi
}

@test "--connections 4: a connecting sender, a listening receiver, -o; both ends count 4" {
	# 13 blocks of 256 KiB and a short one.
	random_file "$T/in" $((13 * 262144 + 777))
	bg r rcp-quic-recv --listen 127.0.0.1:0 --ready-fd 3 --stats -o "$T/out"
	wait_ready r
	run rcp-quic-send --connect "$ADDR" --pin "$PIN" --connections 4 \
	    --stats "$T/in" 3>&-
	assert_success
	assert_output --regexp "bytes=$((13 * 262144 + 777)) .* connections=4$"
	wait_exit r
	[ "$r_rc" -eq 0 ]
	cmp "$T/in" "$T/out"
	run grep -c 'stats: .* connections=4$' "$T/r.err"
	assert_output 1
	# One line about the peer, not one per connection.
	run grep -c 'accepted peer' "$T/r.err"
	assert_output 1
}

@test "by default a short path takes one connection, the data unframed after its header" {
	random_file "$T/in" 3000000
	bg r rcp-quic-recv --listen 127.0.0.1:0 --ready-fd 3 --stats -o "$T/out"
	wait_ready r
	run rcp-quic-send --connect "$ADDR" --pin "$PIN" --stats "$T/in" 3>&-
	assert_success
	assert_output --regexp "bytes=3000000 .* connections=1$"
	wait_exit r
	[ "$r_rc" -eq 0 ]
	cmp "$T/in" "$T/out"
	grep -q 'bytes=3000000 .* connections=1$' "$T/r.err"
}

@test "by default a path of 20 ms takes 8 connections for a pipe, one per 8 MiB of a file" {
	[ "$(id -u)" -eq 0 ] || skip "needs root for ip netns and TUN devices"
	[ -c /dev/net/tun ] || skip "no /dev/net/tun"
	LINK="st$$"
	"$TOP/bench/netlink.sh" wan "$LINK" 200 20
	random_file "$T/in" 6000000
	bg r ip netns exec "$LINK-b" rcp-quic-recv --listen 10.79.0.2:0 \
	    --ready-fd 3 -o "$T/out"
	wait_ready r
	run_pipe "cat '$T/in' | ip netns exec '$LINK-a' rcp-quic-send \
	    --connect '$ADDR' --pin '$PIN' --stats 3>&-"
	assert_success
	assert_output --regexp "bytes=6000000 .* connections=8$"
	wait_exit r
	[ "$r_rc" -eq 0 ]
	cmp "$T/in" "$T/out"
	# A listening sender with a file: 6 MB takes one, 20 MB two.
	local size n
	for size in 6000000:1 20000000:2; do
		n=${size#*:}
		random_file "$T/in" "${size%:*}"
		rm -f "$T/out" "$T/s.ready"
		bg s ip netns exec "$LINK-b" rcp-quic-send --listen \
		    10.79.0.2:0 --ready-fd 3 --stats "$T/in"
		wait_ready s
		ip netns exec "$LINK-a" rcp-quic-recv --connect "$ADDR" \
		    --pin "$PIN" >"$T/out" 3>&-
		wait_exit s
		[ "$s_rc" -eq 0 ]
		cmp "$T/in" "$T/out"
		grep -q "connections=$n\$" "$T/s.err"
	done
}

@test "--connections 3: a listening sender, a connecting receiver to stdout" {
	random_file "$T/in" $((3 * 1048576 + 1))
	bg s rcp-quic-send --listen 127.0.0.1:0 --ready-fd 3 --connections 3 \
	    "$T/in"
	wait_ready s
	rcp-quic-recv --connect "$ADDR" --pin "$PIN" --stats >"$T/out" \
	    2>"$T/recv.err" 3>&-
	wait_exit s
	[ "$s_rc" -eq 0 ]
	cmp "$T/in" "$T/out"
	grep -q 'connections=3$' "$T/recv.err"
}

@test "--connections 4 with nothing, less than a block, and exactly one block per connection" {
	local size
	for size in 0 1 $((4 * 262144)); do
		random_file "$T/in" "$size"
		bg r rcp-quic-recv --listen 127.0.0.1:0 --ready-fd 3 -o "$T/out"
		wait_ready r
		rcp-quic-send --connect "$ADDR" --pin "$PIN" --connections 4 \
		    "$T/in" 3>&-
		wait_exit r
		[ "$r_rc" -eq 0 ]
		cmp "$T/in" "$T/out"
		rm -f "$T/out" "$T/r.ready"
	done
}

@test "a striped receiver whose reader is slow waits for it, then confirms" {
	# Every connection's stream ends while the blocks still wait for a
	# reader that has not started: not a missing block.
	random_file "$T/in" 8000000
	bg r sh -c 'rcp-quic-recv --listen 127.0.0.1:0 --ready-fd 3 |
	    { sleep 3; cat >"$1"; }' sh "$T/out"
	wait_ready r
	run rcp-quic-send --connect "$ADDR" --pin "$PIN" --connections 4 \
	    "$T/in" 3>&-
	assert_success
	wait_exit r
	[ "$r_rc" -eq 0 ]
	cmp "$T/in" "$T/out"
}

@test "--connections takes auto or a number from 1 to 16" {
	local bad
	for bad in 0 17 x 2.5 '' 4k; do
		run rcp-quic-send --connect 127.0.0.1:1 \
		    --pin "sha256:$(printf '%064d' 0)" --connections "$bad" /dev/null
		assert_failure 2
		assert_output --partial "--connections $bad: not auto or a number from 1 to 16"
	done
}

@test "a receiver whose output fails stops every connection; both ends say why" {
	mknod "$T/full" c 1 7
	random_file "$T/in" 4000000
	bg r rcp-quic-recv --listen 127.0.0.1:0 --ready-fd 3 -o "$T/full"
	wait_ready r
	run rcp-quic-send --connect "$ADDR" --pin "$PIN" --connections 4 \
	    "$T/in" 3>&-
	assert_failure 1
	assert_output --partial "peer failed: receiver output failed: write: No space left on device"
	wait_exit r
	[ "$r_rc" -eq 1 ]
	run cat "$T/r.err"
	assert_output --partial "rcp-quic-recv: $T/full: write error: No space left on device"
	refute_output --partial "another connection of the transfer failed"
}

@test "a striped sender killed mid-way: the receiver fails and publishes nothing" {
	bg r rcp-quic-recv --listen 127.0.0.1:0 --ready-fd 3 --idle-timeout 2 \
	    -o "$T/out"
	wait_ready r
	{ head -c 3000000 /dev/zero; sleep 30; } |
	    rcp-quic-send --connect "$ADDR" --pin "$PIN" --connections 4 3>&- &
	local s=$!
	PIDS+=($s)
	# Wait until the receiver is under way with all four.
	for i in $(seq 100); do
		[ "$(ss -Hun state connected "sport = :${ADDR##*:}" | wc -l)" -ge 4 ] &&
			break
		sleep 0.1
	done
	# $! of a pipeline is its last command: this sender, no other.
	kill -9 "$s"
	wait_exit r 20
	[ "$r_rc" -eq 1 ]
	[ ! -e "$T/out" ]
	ls "$T" | { ! grep -q '^\.\?out\.'; }
}

@test "a striped receiver stopped by SIGTERM inside a block dies of it, cleanly" {
	# Blocks are in flight on every connection: one of them is half
	# read when the signal comes (it once freed that slot, not its own).
	bg r rcp-quic-recv --listen 127.0.0.1:0 --ready-fd 3 -o "$T/out"
	wait_ready r
	head -c 200000000 /dev/zero |
	    rcp-quic-send --connect "$ADDR" --pin "$PIN" --connections 4 \
	    --limit-rate 20M 2>"$T/s.err" 3>&- &
	PIDS+=($!)
	sleep 1.5
	kill -TERM "$r_pid"
	wait_exit r
	[ "$r_rc" -eq 143 ]
	run cat "$T/r.err"
	refute_output --partial "free()"
	[ ! -e "$T/out" ]
}

@test "while a striped transfer holds its port, another listener still finds it in use" {
	bg r rcp-quic-recv --listen 127.0.0.1:0 --ready-fd 3 -o "$T/out"
	wait_ready r
	# The producer holds the transfer open well past the check.
	{ head -c 3000000 /dev/zero; sleep 8; } |
	    rcp-quic-send --connect "$ADDR" --pin "$PIN" --connections 4 3>&- &
	PIDS+=($!)
	local i
	for i in $(seq 50); do
		[ "$(ss -Hun state connected "sport = :${ADDR##*:}" | wc -l)" -ge 4 ] &&
			break
		sleep 0.1
	done
	# The listening socket joined SO_REUSEPORT after its bind: a second
	# listener (ours, without the option) is refused, as before.
	run rcp-quic-recv --listen "$ADDR" --accept-timeout 1
	assert_failure 1
	assert_output --partial "bind $ADDR: Address already in use"
	wait_exit r
	[ "$r_rc" -eq 0 ]
	cmp <(head -c 3000000 /dev/zero) "$T/out"
}

@test "--peer-pin: a striped sender with another certificate is refused, status 4" {
	rcp-quic-send --gen-identity "$T/id" >/dev/null
	random_file "$T/in" 2000000
	bg r rcp-quic-recv --listen 127.0.0.1:0 --ready-fd 3 \
	    --peer-pin "sha256:$(printf '%064d' 1)" -o "$T/out" --accept-timeout 5
	wait_ready r
	run rcp-quic-send --connect "$ADDR" --pin "$PIN" --connections 4 \
	    --identity "$T/id" "$T/in" 3>&-
	assert_failure 4
	wait_exit r
	[ ! -e "$T/out" ]
}

@test "striped over a lossy 1500-byte path (nftables drops 3% each way): exact" {
	[ "$(id -u)" -eq 0 ] || skip "needs root for ip netns"
	command -v nft >/dev/null || skip "needs nft"
	LINK="sl$$"
	"$TOP/bench/netlink.sh" veth "$LINK" 1500 ||
		skip "cannot create network namespaces"
	local ns
	for ns in "$LINK-a" "$LINK-b"; do
		ip netns exec "$ns" nft -f - <<-'NFT'
		table inet loss {
			chain in {
				type filter hook input priority 0;
				udp length > 100 numgen random mod 100 < 3 counter drop
			}
		}
		NFT
	done
	random_file "$T/in" 20000000
	bg r ip netns exec "$LINK-b" rcp-quic-recv --listen 10.79.0.2:0 \
	    --ready-fd 3 -o "$T/out"
	wait_ready r
	run ip netns exec "$LINK-a" rcp-quic-send --connect "$ADDR" \
	    --pin "$PIN" --connections 4 --stats "$T/in" 3>&-
	assert_success
	assert_output --regexp 'packets_lost=[1-9][0-9]* .* connections=4$'
	wait_exit r
	[ "$r_rc" -eq 0 ]
	cmp "$T/in" "$T/out"
}
