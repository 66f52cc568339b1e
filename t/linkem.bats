#!/usr/bin/env bats
# The link emulator of the network benchmarks (bench/linkem.c, set up by
# bench/netlink.sh): two TUN devices in two network namespaces, a rate, a
# delay, a drop-tail queue of one bandwidth-delay product and random loss.
# The benchmarks' figures are only as good as these checks.  Needs root.

load test_helper

setup() {
	setup_tmp
	[ "$(id -u)" -eq 0 ] || skip "needs root for ip netns and TUN devices"
	[ -c /dev/net/tun ] || skip "no /dev/net/tun"
	LINK="lk$$"
	PIDS=()
}

teardown() {
	local p
	for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
	"$TOP/bench/netlink.sh" down "$LINK" >/dev/null 2>&1 || true
}

# link_up RATE_MBIT RTT_MS [LOSS_PCT [BURST]]
link_up() {
	"$TOP/bench/netlink.sh" wan "$LINK" "$@"
}

# ping_summary COUNT INTERVAL: ping's last two lines, A to B.
ping_a_to_b() {
	ip netns exec "$LINK-a" ping -n -q -c "$1" -i "$2" 10.79.0.2
}

@test "ping's round trip is the setting, within 1 ms" {
	link_up 100 40
	run ping_a_to_b 10 0.1
	# rtt min/avg/max/mdev = 40.1/40.3/40.6/0.1 ms
	local avg
	avg=$(sed -n 's|^rtt [^=]*= [0-9.]*/\([0-9.]*\)/.*|\1|p' <<<"$output")
	[ -n "$avg" ] || { echo "$output"; false; }
	[ "$(echo "$avg >= 40 && $avg <= 41" | bc)" = 1 ] || { echo "avg $avg ms"; false; }
}

@test "TCP reaches 90% of the rate at 0% loss; a full queue adds at most one RTT" {
	link_up 50 20
	random_file "$T/in" 24000000
	ip netns exec "$LINK-b" sh -c "exec nc -l 10.79.0.2 5001 >'$T/out'" &
	PIDS+=($!)
	sleep 0.3
	ip netns exec "$LINK-a" ping -n -i 0.05 -w 4 10.79.0.2 >"$T/ping" &
	PIDS+=($!)
	local t0 t1 frac
	t0=$(date +%s.%N)
	ip netns exec "$LINK-a" nc -N 10.79.0.2 5001 <"$T/in"
	t1=$(date +%s.%N)
	wait "${PIDS[0]}"
	cmp "$T/in" "$T/out"
	frac=$(echo "24000000 * 8 / ($t1 - $t0) / 50000000" | bc -l)
	[ "$(echo "$frac >= 0.90" | bc)" = 1 ] || { echo "TCP at $frac of the rate"; false; }
	wait "${PIDS[1]}" || true
	# The queue is one bandwidth-delay product: 20 ms more at most.
	run awk -F'time=' '/time=/ { split($2, t, " "); if (t[1] > m) m = t[1] } END { print m }' "$T/ping"
	[ "$(echo "$output > 20 && $output <= 42" | bc)" = 1 ] || { echo "max RTT $output"; false; }
	run "$TOP/bench/netlink.sh" down "$LINK"
	# (A write into a busy namespace may fail now and then: not checked.)
	assert_output --regexp 'a->b: carried=[0-9]+ lost=0 queue_drops=[0-9]+ ring_drops=0 '
}

@test "random loss is the setting's, within sampling error" {
	LINKEM_SEED=$RANDOM link_up 50 10 10
	run ping_a_to_b 400 0.005
	# 10% each way: 19% of round trips lost; 4 standard deviations of
	# 400 samples are 7.8 points.
	local lost
	lost=$(sed -n 's/.* \([0-9.]*\)% packet loss.*/\1/p' <<<"$output")
	[ "$(echo "$lost >= 11.2 && $lost <= 26.8" | bc)" = 1 ] || { echo "$lost% lost"; false; }
	run "$TOP/bench/netlink.sh" down "$LINK"
	assert_output --regexp 'a->b: carried=[0-9]+ lost=[1-9]'
}

@test "bad settings are refused" {
	run "$TOP/build/bench/linkem" a b 0 10
	assert_failure 2
	run "$TOP/build/bench/linkem" a b 10 10 100
	assert_failure 2
	run "$TOP/bench/netlink.sh" wan
	assert_failure 1
}

@test "when its namespaces go first, linkem exits instead of spinning" {
	link_up 10 10
	local pid i
	pid=$(cat "/run/rcp-netlink/$LINK.pid")
	ip netns delete "$LINK-a"
	ip netns delete "$LINK-b"
	for ((i = 0; i < 40; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	run kill -0 "$pid"
	assert_failure
	run cat "/run/rcp-netlink/$LINK.log"
	assert_output --partial "the device is gone"
}
