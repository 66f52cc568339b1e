#!/usr/bin/env bats
# rcp-launch (SPEC §6) between hosts that are separate network stacks:
# network namespaces A and B, each with its own sshd, joined through a
# router namespace L where rcp-launch runs, so that every byte between
# hosts crosses interfaces and nft counters in L can tell which way the
# data went.  Needs root, ip netns and nft; skipped otherwise.
#
#   A 10.98.1.2 --veth-- 10.98.1.1  L  10.98.2.1 --veth-- 10.98.2.2 B
#
# The namespaces share the file system, so a file written on B is read
# here.  Nothing of the root namespace (interfaces, routes, sysctls) is
# touched.

bats_require_minimum_version 1.5.0
load test_helper
load ../scripts/throwaway-sshd

# The tests share L's nft counters: never run two of them at once.
BATS_NO_PARALLELIZE_WITHIN_FILE=true

# nsx NS CMD...: CMD inside namespace NS.
nsx() {
	ip netns exec "$@"
}

# netns_sshd NS ADDR NAME: an sshd in NS listening on ADDR:22, waited for
# until it answers; its pid goes into SSHD_PID_NAME.
netns_sshd() {
	local rc=0
	sshd_netns_start "$1" "$2" "$NET_DIR/sshd-$3" "$3" \
	    "$NET_DIR/authorized_keys" || rc=$?
	printf -v "SSHD_PID_$3" '%s' "$SSHD_NETNS_PID"
	export "SSHD_PID_$3"
	return "$rc"
}

# net_counter NAME: the bytes counted so far by nft counter NAME in L.
net_counter() {
	nsx "$NS_L" nft list counter inet rcpnet "$1" |
	    awk '{ for (i = 1; i < NF; i++) if ($i == "bytes") print $(i + 1) }'
}

net_reset() {
	local c
	for c in udp_from_a udp_a_to_b; do
		nsx "$NS_L" nft reset counter inet rcpnet "$c" >/dev/null
	done
}

setup_file() {
	export NS_L="" NS_A="" NS_B="" NET_SKIP=""
	# Bats 1.8 cannot skip from setup_file: say why here, skip in setup.
	if [ "$(id -u)" -ne 0 ]; then
		NET_SKIP="needs root for ip netns, nft and sshd"
	elif ! command -v nft >/dev/null; then
		NET_SKIP="nft not installed"
	elif [ ! -x /usr/sbin/sshd ]; then
		NET_SKIP="no /usr/sbin/sshd"
	elif ! ip netns add "rcpL$$" 2>/dev/null; then
		NET_SKIP="cannot create a network namespace"
	fi
	[ -z "$NET_SKIP" ] || return 0
	NS_L="rcpL$$"
	ip netns add "rcpA$$"
	NS_A="rcpA$$"
	ip netns add "rcpB$$"
	NS_B="rcpB$$"

	local ns
	for ns in "$NS_L" "$NS_A" "$NS_B"; do
		ip -n "$ns" link set lo up
	done
	# The veth pairs are made inside L, their far ends moved to A and B.
	ip -n "$NS_L" link add toA type veth peer name eth0 netns "$NS_A"
	ip -n "$NS_L" link add toB type veth peer name eth0 netns "$NS_B"
	ip -n "$NS_L" addr add 10.98.1.1/24 dev toA
	ip -n "$NS_L" addr add 10.98.2.1/24 dev toB
	ip -n "$NS_A" addr add 10.98.1.2/24 dev eth0
	ip -n "$NS_B" addr add 10.98.2.2/24 dev eth0
	ip -n "$NS_L" link set toA up
	ip -n "$NS_L" link set toB up
	ip -n "$NS_A" link set eth0 up
	ip -n "$NS_B" link set eth0 up
	ip -n "$NS_A" route add default via 10.98.1.1
	ip -n "$NS_B" route add default via 10.98.2.1
	nsx "$NS_L" sysctl -qw net.ipv4.ip_forward=1

	# Counters in L: UDP from A delivered to L itself (input), and UDP
	# forwarded from A to B; chain "block" holds test 5's drop rules.
	nsx "$NS_L" nft -f - <<-EOF
	table inet rcpnet {
		counter udp_from_a { }
		counter udp_a_to_b { }
		chain input {
			type filter hook input priority 0;
			ip saddr 10.98.1.2 meta l4proto udp counter name udp_from_a
		}
		chain forward {
			type filter hook forward priority 0;
			ip saddr 10.98.1.2 ip daddr 10.98.2.2 meta l4proto udp counter name udp_a_to_b
		}
		chain block {
			type filter hook forward priority -10;
		}
	}
	EOF

	NET_DIR="$BATS_FILE_TMPDIR/net"
	export NET_DIR
	mkdir -p "$NET_DIR" /run/sshd
	sshd_user_home "$BATS_FILE_TMPDIR/home" "$NET_DIR/authorized_keys"
	: >"$HOME/.ssh/known_hosts"
	cat >"$HOME/.ssh/config" <<-EOF
	Host hosta
	    HostName 10.98.1.2
	Host hostb
	    HostName 10.98.2.2
	Host hosta hostb
	    Port 22
	    User root
	    IdentityFile $HOME/.ssh/id_ed25519
	    UserKnownHostsFile $HOME/.ssh/known_hosts
	EOF
	netns_sshd "$NS_A" 10.98.1.2 hosta
	netns_sshd "$NS_B" 10.98.2.2 hostb

	BIG="$BATS_FILE_TMPDIR/big"
	random_file "$BIG" 20000000	# 20 MB
	export BIG
}

teardown_file() {
	local p ns
	for p in ${SSHD_PID_hosta:-} ${SSHD_PID_hostb:-}; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	for ns in ${NS_A:-} ${NS_B:-} ${NS_L:-}; do
		ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
		ip netns delete "$ns" 2>/dev/null || true
	done
	return 0
}

setup() {
	[ -z "$NET_SKIP" ] || skip "$NET_SKIP"
	setup_tmp
	MARK="rcp_netns_${BATS_TEST_NUMBER}_$$_$RANDOM"
	B=(--remote-bin "$TOP/bin")
	net_reset
}

teardown() {
	local ns
	[ -n "$NS_L" ] || return 0
	nsx "$NS_L" nft flush chain inet rcpnet block 2>/dev/null || true
	for ns in "$NS_A" "$NS_B"; do
		quic_pids "$ns" | xargs -r kill -9 2>/dev/null || true
	done
}

# quic_pids NS: the rcp-quic-* processes running in namespace NS.
quic_pids() {
	local p
	for p in $(ip netns pids "$1" 2>/dev/null); do
		case "$(cat "/proc/$p/comm" 2>/dev/null)" in
		rcp-quic-*) echo "$p" ;;
		esac
	done
}

# launch ARGS...: rcp-launch inside L.
launch() {
	ip netns exec "$NS_L" rcp-launch "$@"
}

@test "plain mode across the router: status and stdout of the remote command" {
	run launch hosta 'exit 7'
	assert_failure 7
	# The command ran in A, with A's address, and its output is exact.
	run launch hosta "printf 'x\\n\\ty %s\\n' $MARK; ip -o -4 addr show dev eth0 | awk '{print \$4}'"
	assert_success
	assert_output "$(printf 'x\n\ty %s\n10.98.1.2/24' "$MARK")"
	run launch hostb 'ip -o -4 addr show dev eth0 | awk "{print \$4}"; exit 3'
	assert_failure 3
	assert_output '10.98.2.2/24'
}

@test "--pull from A: 20 MB exact, and it came by UDP from A" {
	launch --pull "${B[@]}" hosta "cat '$BIG'" >"$T/out"
	cmp "$BIG" "$T/out"
	local in
	in=$(net_counter udp_from_a)
	echo "UDP bytes from A into L: $in" >&2
	(( in >= 20000000 ))
}

@test "--push to B: 20 MB exact" {
	launch --push "${B[@]}" hostb "cat > '$T/out'" <"$BIG"
	cmp "$BIG" "$T/out"
}

@test "--from A --to B: 20 MB exact, forwarded host to host through L" {
	launch "${B[@]}" --from hosta --to hostb "cat '$BIG'" "cat > '$T/out'"
	cmp "$BIG" "$T/out"
	local fwd in
	fwd=$(net_counter udp_a_to_b)
	in=$(net_counter udp_from_a)
	echo "UDP bytes forwarded A->B: $fwd; from A into L: $in" >&2
	(( fwd >= 20000000 ))
	(( in < 1000000 ))
}

@test "--from A --to B when B cannot reach A by UDP: fails, says so, leaves nothing" {
	nsx "$NS_L" nft add rule inet rcpnet block \
	    ip saddr 10.98.2.2 ip daddr 10.98.1.2 meta l4proto udp drop
	nsx "$NS_L" nft add rule inet rcpnet block \
	    ip saddr 10.98.1.2 ip daddr 10.98.2.2 meta l4proto udp drop
	local t0=$SECONDS
	run launch "${B[@]}" --connect-timeout 5 --from hosta --to hostb \
	    "cat '$BIG'; : $MARK" "cat > '$T/out'; : $MARK"
	echo "rcp-launch took $((SECONDS - t0)) s, status $status: $output" >&2
	# The failing rcp-quic-recv's status, and its message, prefixed with
	# the host it ran on.
	assert_failure 1
	assert_line --regexp '^hostb: rcp-quic-recv: handshake with 10\.98\.1\.2:[0-9]+ timed out after 5 s'
	assert [ "$((SECONDS - t0))" -lt 20 ]
	# No data reached the consumer (cat may have made an empty file).
	if [ -e "$T/out" ]; then
		assert_equal "$(stat -c %s "$T/out")" 0
	fi
	# No rcp-quic-* is left in A or B within 10 s.
	local i left
	for ((i = 0; i < 100; i++)); do
		left="$(quic_pids "$NS_A") $(quic_pids "$NS_B")"
		[ -z "${left// /}" ] && break
		sleep 0.1
	done
	for i in $left; do
		echo "left in a host: $i $(tr '\0' ' ' <"/proc/$i/cmdline")" >&2
	done
	assert [ -z "${left// /}" ]
	run pgrep -f "$MARK"
	assert_failure
}
