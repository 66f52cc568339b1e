#!/usr/bin/env bash
# bench/net.sh: the network rows of SPEC §7, on paths with real packets.
# Two network namespaces, A (10.79.0.1) sending and B (10.79.0.2)
# receiving, joined by bench/netlink.sh:
#
#   LAN  a veth pair, MTU 1500 and 9000: rcp-quic-send | rcp-quic-recv vs
#        ssh -c aes128-gcm@openssh.com B 'cat > out' vs plain TCP (nc),
#        and rcp-launch --pull B cat F vs ssh B cat F; time ratios,
#        medians of BENCH_RUNS, tools alternated within each round.
#   WAN  the project's link emulator (bench/linkem.c; these kernels have
#        no netem): rate, RTT, random loss, a drop-tail queue of one
#        bandwidth-delay product.  Goodput as a fraction of the link rate
#        for rcp-quic (default, and --connections 1), ssh with the host's
#        default congestion control (the column says which), and TCP
#        with cubic and with bbr; medians of BENCH_NET_RUNS
#        (default 1), each run cut at BENCH_NET_CUT seconds (default 40),
#        when the goodput is what arrived by then.  The emulator's CPU is
#        printed beside each row: near 100%, the row measures it, not us.
#
# Outputs are checked byte for byte whenever a run was not cut.  Needs
# root (namespaces, TUN devices).  BENCH_NET=lan or wan runs one part;
# BENCH_NET_MB (default 512) sizes the LAN input; BENCH_NET_ROWS and
# BENCH_NET_TOOLS replace the WAN rows and columns (see below).
set -euo pipefail
cd "$(dirname "$0")/.."
TOP=$PWD
PATH="$TOP/bin:$PATH"
. bench/lib.sh

if [ "$(id -u)" -ne 0 ]; then
	printf '%-44s SKIPPED (needs root for namespaces)\n' "network rows"
	exit 0
fi
NET_MB=${BENCH_NET_MB:-512}
NET_RUNS=${BENCH_NET_RUNS:-1}
CUT=${BENCH_NET_CUT:-40}
LINK="rcpbench$$"
A=10.79.0.1 B=10.79.0.2
W=$(mktemp -d "$BENCH_DIR/net.XXXXXX")
cleanup() {
	bash bench/netlink.sh down "$LINK" >/dev/null 2>&1 || true
	rm -rf "$W"
}
trap cleanup EXIT

. scripts/throwaway-sshd.bash
# Our own user key and HOME (never ~/.ssh); one sshd per topology in B.
sshd_user_home "$W/home" "$W/authorized_keys" >/dev/null
SSH_OPTS="-o BatchMode=yes -o UserKnownHostsFile=$HOME/.ssh/known_hosts -i $HOME/.ssh/id_ed25519"
SSH="ssh $SSH_OPTS -c aes128-gcm@openssh.com root@$B"
LAUNCH="rcp-launch --known-hosts $HOME/.ssh/known_hosts -i $HOME/.ssh/id_ed25519 --remote-bin $TOP/bin root@$B"

inA() { ip netns exec "$LINK-a" "$@"; }

topology() {
	[ -z "${SSHD_NETNS_PID:-}" ] || kill "$SSHD_NETNS_PID" 2>/dev/null || true
	bash bench/netlink.sh down "$LINK" >/dev/null 2>&1 || true
	rm -rf "$W/sshd"
	: >"$HOME/.ssh/known_hosts"
	bash bench/netlink.sh "$@"
	sshd_netns_start "$LINK-b" "$B" "$W/sshd" bench "$W/authorized_keys"
	disown "$SSHD_NETNS_PID"	# killed with its namespace, quietly
}

# The three ways of moving F from A to B's OUT, as shell commands run in
# the root namespace: rcp-quic (bench/pair.sh), ssh, and plain TCP.
# The TCP sender picks its congestion control for its own socket
# (TCP_CONGESTION, allowed to root whatever the host's allowed list):
# nothing of the host's settings changes.
cat >"$W/tcp.sh" <<'EOF'
set -euo pipefail
link=$1 in=$2 out=$3 cc=${4:-cubic}
ip netns exec "$link-b" sh -c "exec nc -l 10.79.0.2 5001 >'$out'" &
r=$!
for _ in $(seq 200); do
	ip netns exec "$link-b" ss -Htln 'sport = :5001' | grep -q . && break
	sleep 0.01
done
ip netns exec "$link-a" perl -MIO::Socket::INET -MSocket=IPPROTO_TCP -e '
	my $s = IO::Socket::INET->new(PeerAddr => "10.79.0.2:5001") or die "connect: $!";
	setsockopt($s, IPPROTO_TCP, 13, $ARGV[0]) or die "TCP_CONGESTION $ARGV[0]: $!";
	binmode STDIN; my $buf;
	while (my $n = sysread(STDIN, $buf, 1 << 20)) {
		my $off = 0;
		while ($off < $n) { $off += syswrite($s, $buf, $n - $off, $off) // die "write: $!"; }
	}
	shutdown($s, 1);' "$cc" <"$in"
wait "$r"
EOF
QUIC="env PAIR_NS=$LINK PAIR_LISTEN=$B bash bench/pair.sh"
TCP="bash $W/tcp.sh $LINK"

lan() {
	local mtu=$1 in=$2 ours anchor tcp
	topology veth "$LINK" "$mtu"
	local target=- label="rcp-quic pair, veth MTU $mtu"
	[ "$mtu" = 1500 ] && target=0.70
	compare "$label (vs ssh)" "$target" \
		"$QUIC '$in' /dev/null '$W'" \
		"inA $SSH 'cat > /dev/null' < '$in'"
	ours=$BENCH_OURS anchor=$BENCH_ANCHOR
	compare "  plain TCP vs ssh, MTU $mtu" - \
		"$TCP '$in' /dev/null" \
		"inA $SSH 'cat > /dev/null' < '$in'"
	tcp=$BENCH_OURS
	printf '%-44s %6.0f %6.0f %6.0f MB/s\n' "  throughput: quic, ssh, tcp" \
		"$(echo "$NET_MB * 1.048576 / $ours" | bc -l)" \
		"$(echo "$NET_MB * 1.048576 / $anchor" | bc -l)" \
		"$(echo "$NET_MB * 1.048576 / $tcp" | bc -l)"
	# One more run with --stats and the output kept: checked, and its line.
	$QUIC "$in" "$W/out" "$W" --stats
	cmp "$in" "$W/out"
	rm -f "$W/out"
	sed 's/^/  /' "$W/send.err"
	if [ "$mtu" = 1500 ]; then
		compare "rcp-launch --pull B cat F, MTU 1500 (vs ssh)" - \
			"inA $LAUNCH cat '$in' >/dev/null" \
			"inA $SSH cat '$in' >/dev/null"
	fi
}

export -f inA
export LINK

# cpu_ticks PID: user + system clock ticks of PID so far.
cpu_ticks() {
	awk '{ print $14 + $15 }' "/proc/$1/stat"
}

# wan_run TOOL IN RATE: one cut-off run; prints "fraction" or "fraction*"
# (cut), and the emulator's share of a CPU during it into $W/cpu.
wan_run() {
	local tool=$1 in=$2 rate=$3 t0 t1 c0 c1 secs bytes cmd cut= rc=0
	local pid
	pid=$(cat "/run/rcp-netlink/$LINK.pid")
	rm -f "$W/out"
	case $tool in
	quic)	cmd="$QUIC '$in' '$W/out' '$W'" ;;
	quic-cubic) cmd="$QUIC '$in' '$W/out' '$W' '--cc cubic'" ;;
	quic-x*) cmd="$QUIC '$in' '$W/out' '$W' '' '--connections ${tool#quic-x}'" ;;
	ssh)	cmd="inA $SSH 'cat > $W/out' < '$in'" ;;
	tcp-cubic|tcp-bbr) cmd="$TCP '$in' '$W/out' ${tool#tcp-}" ;;
	esac
	c0=$(cpu_ticks "$pid")
	t0=$(date +%s.%N)
	timeout -s KILL "$CUT" bash -o pipefail -c "$cmd" >/dev/null 2>"$W/err" || rc=$?
	case $rc in
	0)	;;
	137)	cut='*' ;;
	*)	echo "bench: $tool failed ($rc): $(tail -3 "$W/err")" >&2
		return 1 ;;
	esac
	t1=$(date +%s.%N)
	c1=$(cpu_ticks "$pid")
	# Whatever the cut left behind must not leak into the next run.
	ip netns pids "$LINK-a" | xargs -r kill -9 2>/dev/null || true
	ip netns pids "$LINK-b" | grep -vx "$(cat "$W/sshd/sshd.pid" 2>/dev/null || echo x)" |
	    xargs -r kill -9 2>/dev/null || true
	secs=$(echo "$t1 - $t0" | bc -l)
	bytes=$(stat -c %s "$W/out" 2>/dev/null || echo 0)
	if [ -z "$cut" ] && ! cmp -s "$in" "$W/out"; then
		echo "bench: $tool: the output differs from the input" >&2
		return 1
	fi
	echo "($c1 - $c0) / $(getconf CLK_TCK) / $secs" | bc -l >>"$W/cpu"
	printf '%.2f%s\n' "$(echo "$bytes * 8 / $secs / ($rate * 1000000)" | bc -l)" "$cut"
}

# wan RATE_MBIT RTT_MS LOSS_PCT MB TARGET: one row of the WAN table.
wan() {
	local rate=$1 rtt=$2 loss=$3 mb=$4 target=$5 in tool i
	local -A got=()
	in=$(bench_input "wan-$mb" "$mb")
	topology wan "$LINK" "$rate" "$rtt" "$loss"
	: >"$W/cpu"
	for ((i = 0; i < NET_RUNS; i++)); do
		for tool in $WAN_TOOLS; do
			got[$tool]+="$(wan_run "$tool" "$in" "$rate") " || return 1
		done
	done
	local row=() v
	for tool in $WAN_TOOLS; do
		# Median of the runs; a '*' marks a run cut at $CUT s.
		v=$(printf '%s\n' ${got[$tool]} | sort -g | awk '{ v[NR] = $0 } END { print v[int((NR + 1) / 2)] }')
		row+=("$v")
	done
	local verdict=met
	[ "$(echo "${row[0]%\*} >= $target" | bc -l)" = 1 ] || verdict=MISSED
	# The emulator's busiest run: near 100%, it was the bottleneck.
	printf '%-24s' "${rate} Mbit/s ${rtt} ms ${loss}%"
	printf ' %7s' "${row[@]}"
	printf '  >= %-4s %-6s %3.0f%%\n' "$target" "$verdict" \
		"$(sort -g "$W/cpu" | tail -1 | awk '{ print 100 * $1 }')"
}

# BENCH_NET_ROWS="RATE RTT LOSS MB TARGET;..." replaces the WAN table's rows.
# Columns: rcp-quic as a user gets it (--connections auto: 8 on these
# paths) and with one connection (--connections 1; cubic, measured
# before, collapses with any loss), ssh, TCP cubic and bbr.
# BENCH_NET_TOOLS replaces the columns: quic, quic-cubic, quic-xN (N
# connections), ssh, tcp-cubic, tcp-bbr; the verdict is on the first.
WAN_TOOLS=${BENCH_NET_TOOLS:-"quic quic-x1 ssh tcp-cubic tcp-bbr"}
part=${BENCH_NET:-all}
if [ "$part" = all ] || [ "$part" = lan ]; then
	in=$(bench_input "in-$NET_MB" "$NET_MB")
	lan 1500 "$in"
	lan 9000 "$in"
fi
if [ "$part" = all ] || [ "$part" = wan ]; then
	echo "WAN (linkem), goodput / link rate, median of $NET_RUNS, cut at $CUT s (*);" \
		"ssh: the host's $(cat /proc/sys/net/ipv4/tcp_congestion_control)"
	printf '%-24s' "rate RTT loss"
	printf ' %7s' $WAN_TOOLS
	printf '  %-8s %-6s %s\n' target "" "linkem CPU"
	rows=${BENCH_NET_ROWS:-"100 40 0 160 0.93;100 40 1 160 0.85;100 100 1 160 0.85;100 100 3 160 0.70;500 20 0.1 512 0.90;20 250 2 40 0.80"}
	IFS=';' read -ra rows <<<"$rows"
	for row in "${rows[@]}"; do
		# shellcheck disable=SC2086
		wan $row
	done
fi
