#!/bin/bash
# netlink.sh: two network namespaces, NAME-a (10.79.0.1) and NAME-b
# (10.79.0.2), joined by a link, for the network benchmarks and tests.
# Needs root.
#
#   netlink.sh veth NAME MTU                     a veth pair
#   netlink.sh wan NAME RATE_MBIT RTT_MS [LOSS_PCT [BURST [QUEUE]]]
#                                                the project's emulator
#                                                (bench/linkem.c) between
#                                                two TUN devices, MTU 1500
#   netlink.sh down NAME                         removes both; for a wan,
#                                                prints linkem's counters
#
# The emulator's pid and log are in /run/rcp-netlink/NAME.*.
set -euo pipefail

TOP="$(cd "$(dirname "$0")/.." && pwd)"
LINKEM="${LINKEM:-$TOP/build/bench/linkem}"
RUN=/run/rcp-netlink
A_ADDR=10.79.0.1
B_ADDR=10.79.0.2

die() {
	echo "netlink.sh: $*" >&2
	exit 1
}

make_namespaces() {
	ip netns add "$1-a"
	ip netns add "$1-b"
	ip -n "$1-a" link set lo up
	ip -n "$1-b" link set lo up
}

# Device names are at most 15 bytes: a short hash of NAME.
dev_base() {
	printf 'rl%s' "$(printf '%s' "$1" | sha256sum | cut -c1-8)"
}

up_veth() {
	local name=$1 mtu=$2 d
	d=$(dev_base "$name")
	make_namespaces "$name"
	ip link add "${d}a" type veth peer name "${d}b"
	ip link set "${d}a" netns "$name-a"
	ip link set "${d}b" netns "$name-b"
	ip -n "$name-a" addr add "$A_ADDR/24" dev "${d}a"
	ip -n "$name-b" addr add "$B_ADDR/24" dev "${d}b"
	ip -n "$name-a" link set "${d}a" mtu "$mtu" up
	ip -n "$name-b" link set "${d}b" mtu "$mtu" up
}

up_wan() {
	local name=$1 d ready
	shift
	d=$(dev_base "$name")
	[ -x "$LINKEM" ] || die "$LINKEM: not built (make build/bench/linkem)"
	mkdir -p "$RUN"
	make_namespaces "$name"
	# linkem makes the devices and holds them; they move afterwards.  A
	# real-time priority keeps its deadlines on a loaded machine (it
	# sleeps in ppoll between packets, never spins).
	local rt=()
	chrt -f 20 true 2>/dev/null && rt=(chrt -f 20)
	"${rt[@]}" "$LINKEM" "${d}a" "${d}b" "$@" >"$RUN/$name.out" \
	    2>"$RUN/$name.log" &
	echo $! >"$RUN/$name.pid"
	for _ in $(seq 50); do
		ready=$(cat "$RUN/$name.out" 2>/dev/null || true)
		[ "$ready" = "linkem ready" ] && break
		kill -0 "$(cat "$RUN/$name.pid")" 2>/dev/null ||
			die "linkem: $(cat "$RUN/$name.log")"
		sleep 0.05
	done
	[ "$ready" = "linkem ready" ] || die "linkem did not start"
	ip link set "${d}a" netns "$name-a"
	ip link set "${d}b" netns "$name-b"
	ip -n "$name-a" addr add "$A_ADDR" peer "$B_ADDR" dev "${d}a"
	ip -n "$name-b" addr add "$B_ADDR" peer "$A_ADDR" dev "${d}b"
	# A long device queue: linkem's queue is the one that drops.
	ip -n "$name-a" link set "${d}a" mtu 1500 txqueuelen 10000 up
	ip -n "$name-b" link set "${d}b" mtu 1500 txqueuelen 10000 up
}

down() {
	local name=$1 pid
	# The emulator first: its devices vanish with the namespaces.
	if [ -f "$RUN/$name.pid" ]; then
		pid=$(cat "$RUN/$name.pid")
		kill -TERM "$pid" 2>/dev/null || true
		for _ in $(seq 50); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.05
		done
		kill -KILL "$pid" 2>/dev/null || true
		cat "$RUN/$name.log" 2>/dev/null || true
		rm -f "$RUN/$name.pid" "$RUN/$name.out" "$RUN/$name.log"
	fi
	for ns in "$name-a" "$name-b"; do
		ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
		ip netns delete "$ns" 2>/dev/null || true
	done
}

[ $# -ge 2 ] || die "usage: netlink.sh veth|wan|down NAME ..."
cmd=$1
shift
case $cmd in
veth)	[ $# -eq 2 ] || die "usage: netlink.sh veth NAME MTU"
	up_veth "$@" ;;
wan)	[ $# -ge 3 ] || die "usage: netlink.sh wan NAME RATE_MBIT RTT_MS [LOSS_PCT [BURST [QUEUE]]]"
	up_wan "$@" ;;
down)	down "$1" ;;
*)	die "unknown command: $cmd" ;;
esac
