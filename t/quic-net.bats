#!/usr/bin/env bats
# rcp-quic-send/recv on a path with real packets: two network namespaces
# joined by a veth pair, MTU 1500, as between two hosts on a LAN
# (loopback's 64 KiB MTU hides per-packet behaviour).

load test_helper
load quic_helper

setup() {
	quic_setup
	[ "$(id -u)" -eq 0 ] || skip "needs root for ip netns"
	NS_A="rcpa$$" NS_B="rcpb$$"
	ip netns add "$NS_A" || skip "cannot create a network namespace"
	ip netns add "$NS_B"
	ip link add "va$$" type veth peer name "vb$$"
	ip link set "va$$" netns "$NS_A"
	ip link set "vb$$" netns "$NS_B"
	ip -n "$NS_A" addr add 10.77.0.1/24 dev "va$$"
	ip -n "$NS_B" addr add 10.77.0.2/24 dev "vb$$"
	ip -n "$NS_A" link set "va$$" mtu 1500 up
	ip -n "$NS_B" link set "vb$$" mtu 1500 up
}

teardown() {
	quic_teardown
	ip netns pids "$NS_A" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
	ip netns pids "$NS_B" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
	ip netns delete "$NS_A" 2>/dev/null || true
	ip netns delete "$NS_B" 2>/dev/null || true
}

@test "on a 1500-byte path no data packet is lost to a path-MTU probe" {
	random_file "$T/in" 20000000
	bg r ip netns exec "$NS_B" rcp-quic-recv --listen 10.77.0.2:0 \
	    --ready-fd 3 -o "$T/out"
	wait_ready r
	run ip netns exec "$NS_A" rcp-quic-send --connect "$ADDR" --pin "$PIN" \
	    --stats "$T/in" 3>&-
	assert_success
	wait_exit r
	[ "$r_rc" -eq 0 ]
	cmp "$T/in" "$T/out"
	# The probe (larger than 1500 bytes) was refused by the kernel; had
	# it shared a GSO sendmsg with data packets, they were lost with it.
	assert_output --regexp "packets_lost=0( |$)"
	# And the path's packets are its size, not loopback's.
	local sent
	sent=$(grep -o 'packets_sent=[0-9]*' <<<"$output" | cut -d= -f2)
	[ "$sent" -ge $((20000000 / 1500)) ]
}
