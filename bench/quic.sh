#!/usr/bin/env bash
# bench/quic.sh: rcp-quic-send | rcp-quic-recv over loopback against
# ssh -c aes128-gcm@openssh.com localhost 'cat > /dev/null' (SPEC §7),
# the same input from /dev/shm, through a throwaway sshd on a loopback
# port with its own host and user keys (never ~/.ssh).  A and B runs
# alternate; each figure is a median.  Also prints the throughput of both
# and one --stats line.
#
#   BENCH_SIZE_MB (default 1024)  BENCH_RUNS (default 5; 3 is enough)
set -euo pipefail
cd "$(dirname "$0")/.."
TOP=$PWD
PATH="$TOP/bin:$PATH"
. bench/lib.sh

in=$(bench_input in-$BENCH_SIZE_MB "$BENCH_SIZE_MB")
W=$(mktemp -d "$BENCH_DIR/quic.XXXXXX")
GTLS_PID=
cleanup() {
	sshd_stop
	[ -z "$GTLS_PID" ] || kill "$GTLS_PID" 2>/dev/null || true
	rm -rf "$W"
}
trap cleanup EXIT

# The throwaway sshd of the tests: its own host key, user key, config and
# HOME, on a free loopback port (never the user's ~/.ssh).
. scripts/throwaway-sshd.bash
sshd_start "$W" >/dev/null
SSH="ssh -F '$HOME/.ssh/config' -o BatchMode=yes -c aes128-gcm@openssh.com"

# One transfer, start to end (bench/pair.sh): both must exit 0.
PAIR="bash bench/pair.sh"

compare "rcp-quic-send | rcp-quic-recv (loopback)" 1.00 \
	"$PAIR '$in' /dev/null '$W'" \
	"$SSH testhost 'cat > /dev/null' < '$in'"
if [ -n "${BENCH_OURS:-}" ]; then
	# MiB/s, the unit of --stats and --progress; BENCH_SIZE_MB is MiB.
	printf '%-44s %8.0f MiB/s %6.0f MiB/s\n' "  throughput (quic, ssh)" \
		"$(echo "$BENCH_SIZE_MB / $BENCH_OURS" | bc -l)" \
		"$(echo "$BENCH_SIZE_MB / $BENCH_ANCHOR" | bc -l)"
fi
$PAIR "$in" /dev/null "$W" --stats
sed 's/^/  /' "$W/send.err"

# A second anchor: ngtcp2's own GnuTLS example server and client
# (packages ngtcp2-server, ngtcp2-client), HTTP/3 GET of the same file.
if command -v gtlsserver >/dev/null && command -v gtlsclient >/dev/null; then
	mkdir -p "$W/htdocs"
	ln -s "$in" "$W/htdocs/in"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$W/gtls.key" -out "$W/gtls.crt" -days 1 -subj /CN=localhost 2>/dev/null
	gport=$(free_port udp)
	gtlsserver -q -d "$W/htdocs" 127.0.0.1 "$gport" "$W/gtls.key" "$W/gtls.crt" \
		>/dev/null 2>&1 &
	GTLS_PID=$!
	sleep 0.3
	compare "  rcp-quic pair vs ngtcp2 gtls example" - \
		"$PAIR '$in' /dev/null '$W'" \
		"gtlsclient -q --exit-on-all-streams-close 127.0.0.1 $gport https://127.0.0.1:$gport/in >/dev/null"
fi

# --limit-rate (SPEC §7): 10 MiB/s for 10 s must hold within 5%.
rate_in=$(bench_input in-100 100)
$PAIR "$rate_in" /dev/null "$W" --stats "--limit-rate 10M"
# The sender's own span: from the handshake to the confirmation.
secs=$(sed -n 's/.* seconds=\([0-9.]*\) .*/\1/p' "$W/send.err")
got=$(echo "100 / $secs" | bc -l)
verdict=met
[ "$(echo "$got >= 9.5 && $got <= 10.5" | bc -l)" = 1 ] || verdict=MISSED
printf '%-44s %8.2f MiB/s (10 MiB/s, within 5%%)    %s\n' \
	"--limit-rate 10M, 100 MiB" "$got" "$verdict"
