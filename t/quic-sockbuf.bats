#!/usr/bin/env bats
# rcp-quic-send, rcp-quic-recv: one warning naming the sysctl when the
# kernel caps the socket buffer a transfer's data goes through below what
# it needs (PROTOCOL in rcp-quic-send(1)), and none when it does not.
#
# A user without CAP_NET_ADMIN gets at most net.core.rmem_max (wmem_max),
# which is read-only inside a network namespace: the LD_PRELOAD shim
# (t/fault/fault_inject.c, FAULT_RMEM_MAX, FAULT_WMEM_MAX) plays that
# user, refusing SO_RCVBUFFORCE and capping SO_RCVBUF; the kernel's
# doubling is the real one.  A long path is the link emulator between two
# namespaces (bench/netlink.sh wan: 100 Mbit/s, 40 ms round trip).

load test_helper
load quic_helper

setup() {
	quic_setup
	[ -f "$TOP/build/libfault_inject.so" ] ||
	    skip "no build/libfault_inject.so: run the tests through make check"
	random_file "$T/in" 4000000
}

teardown() {
	quic_teardown
	[ -z "${LINK:-}" ] || "$TOP/bench/netlink.sh" down "$LINK" >/dev/null 2>&1 || true
}

# wan_up: the 40 ms path, or skip.
wan_up() {
	[ "$(id -u)" -eq 0 ] || skip "needs root for ip netns and TUN devices"
	[ -c /dev/net/tun ] || skip "no /dev/net/tun"
	[ -x "$TOP/build/bench/linkem" ] || skip "no build/bench/linkem: run the tests through make check"
	LINK="sb$$"
	"$TOP/bench/netlink.sh" wan "$LINK" 100 40 >/dev/null
}

# transfer WHERE RECV_ENV SEND_ENV: 4 MB from sender to receiver, on
# loopback (WHERE lo) or across the 40 ms path (wan), each end with the
# shim and its ENV (FAULT_RMEM_MAX=B ...); both must exit 0 with the data
# exact.  Their stderr is in $T/r.err and $T/s.err.
transfer() {
	local where=$1 renv=$2 senv=$3 listen=127.0.0.1 rns=() sns=()
	if [ "$where" = wan ]; then
		listen=10.79.0.2
		rns=(ip netns exec "$LINK-b")
		sns=(ip netns exec "$LINK-a")
	fi
	# shellcheck disable=SC2086
	bg r env LD_PRELOAD="$(fault_preload rcp-quic-recv)" $renv "${rns[@]}" \
	    rcp-quic-recv --listen "$listen:0" --ready-fd 3 --stats -o "$T/out"
	wait_ready r
	# shellcheck disable=SC2086
	env LD_PRELOAD="$(fault_preload rcp-quic-send)" $senv "${sns[@]}" \
	    rcp-quic-send --connect "$ADDR" --pin "$PIN" --stats "$T/in" \
	    2>"$T/s.err" 3>&-
	wait_exit r
	[ "$r_rc" -eq 0 ] || { cat "$T/r.err" "$T/s.err"; false; }
	cmp "$T/in" "$T/out"
}

# no_warning: neither end said a word about its buffers.
no_warning() {
	run grep -h 'warning: UDP' "$T/r.err" "$T/s.err"
	assert_failure 1
	assert_output ""
}

@test "a receive buffer capped below what a 40 ms path needs: one warning, with the sysctl" {
	# A loaded machine (the sanitizers, another suite) stretches the
	# measured round trip past 50 ms: the figures follow it.
	wan_up
	transfer wan FAULT_RMEM_MAX=212992 ""
	run grep -c 'warning: UDP' "$T/r.err"
	assert_output 1
	grep -Eq "^rcp-quic-recv: warning: UDP receive buffer capped at 208 KiB by net.core.rmem_max, below the [4-9]\.[0-9] MiB that 1 Gbit/s needs at this path's [4-7][0-9]\.[0-9] ms round trip; for full speed: sysctl -w net.core.rmem_max=8388608$" "$T/r.err" ||
	    { cat "$T/r.err"; false; }
	run grep 'warning: UDP' "$T/s.err"
	assert_failure 1
}

@test "the same path with the buffer we asked for: no warning" {
	# As root, SO_RCVBUFFORCE goes past net.core.rmem_max.
	wan_up
	transfer wan "" ""
	grep -q 'min_rtt=4[0-9]\.' "$T/r.err"
	no_warning
}

@test "loopback with Debian's default net.core.rmem_max: no warning, a short path needs little" {
	transfer lo FAULT_RMEM_MAX=212992 FAULT_WMEM_MAX=212992
	no_warning
}

@test "a send buffer capped below two GSO batches: the sender warns once" {
	transfer lo "" FAULT_WMEM_MAX=65536
	run grep 'warning: UDP' "$T/s.err"
	assert_output "rcp-quic-send: warning: UDP send buffer capped at 64 KiB by net.core.wmem_max, below the 126 KiB sending needs; for full speed: sysctl -w net.core.wmem_max=8388608"
	run grep 'warning: UDP' "$T/r.err"
	assert_failure 1
}
