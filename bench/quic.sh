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
if [ -f bench/lib.sh ]; then
	. bench/lib.sh
else	# standalone: the same helpers, the same report line
	BENCH_DIR=${BENCH_DIR:-/dev/shm/rcp-bench}
	BENCH_RUNS=${BENCH_RUNS:-5}
	BENCH_SIZE_MB=${BENCH_SIZE_MB:-1024}
	mkdir -p "$BENCH_DIR"
	bench_input() {
		local f="$BENCH_DIR/$1"
		if [ ! -f "$f" ] || [ "$(stat -c %s "$f")" -ne $(($2 * 1048576)) ]; then
			head -c $(($2 * 1048576)) /dev/urandom >"$f"
		fi
		echo "$f"
	}
	seconds() {
		local t0 t1
		t0=$(date +%s.%N)
		bash -o pipefail -c "$1" || { echo "bench: failed: $1" >&2; return 1; }
		t1=$(date +%s.%N)
		echo "$t1 - $t0" | bc -l
	}
	median() {
		printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
			if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
	}
	compare() {
		local label=$1 target=$2 ours=$3 anchor=$4 a=() b=() i ma mb ratio verdict
		for ((i = 0; i < BENCH_RUNS; i++)); do
			b+=("$(seconds "$anchor")") || return 1
			a+=("$(seconds "$ours")") || return 1
		done
		ma=$(median "${a[@]}")
		mb=$(median "${b[@]}")
		ratio=$(echo "$ma / $mb" | bc -l)
		verdict=met
		[ "$(echo "$ratio <= $target" | bc -l)" = 1 ] || verdict=MISSED
		printf '%-44s %8.3f s %8.3f s %6.3f  <= %-5s %s\n' "$label" "$ma" "$mb" \
			"$ratio" "$target" "$verdict"
		BENCH_OURS=$ma BENCH_ANCHOR=$mb
	}
fi

in=$(bench_input in-$BENCH_SIZE_MB "$BENCH_SIZE_MB")
W=$(mktemp -d "$BENCH_DIR/quic.XXXXXX")
SSHD_PID=
cleanup() {
	[ -z "$SSHD_PID" ] || kill "$SSHD_PID" 2>/dev/null || true
	rm -rf "$W"
}
trap cleanup EXIT

# The throwaway sshd: its own host key, user key and config, on a free
# loopback port.
ssh-keygen -q -t ed25519 -N '' -f "$W/host_key"
ssh-keygen -q -t ed25519 -N '' -f "$W/user_key"
cp "$W/user_key.pub" "$W/authorized_keys"
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$W/sshd_config" <<CONF
Port $PORT
ListenAddress 127.0.0.1
HostKey $W/host_key
PidFile $W/sshd.pid
AuthorizedKeysFile $W/authorized_keys
UsePAM no
StrictModes no
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
PermitRootLogin prohibit-password
Ciphers aes128-gcm@openssh.com
CONF
[ "$(id -u)" -ne 0 ] || mkdir -p /run/sshd
/usr/sbin/sshd -D -e -f "$W/sshd_config" 2>"$W/sshd.log" &
SSHD_PID=$!
SSH="ssh -F /dev/null -p $PORT -i '$W/user_key' -o IdentitiesOnly=yes \
-o BatchMode=yes -o UserKnownHostsFile='$W/known_hosts' \
-o StrictHostKeyChecking=accept-new -c aes128-gcm@openssh.com"
for i in $(seq 50); do
	eval "$SSH 127.0.0.1 true" 2>/dev/null && break
	[ "$i" -lt 50 ] || { echo "bench/quic.sh: sshd did not start:" \
	    "$(cat "$W/sshd.log")" >&2; exit 1; }
	sleep 0.1
done

# One transfer, start to end: the receiver listens, the sender connects
# with the pin from the ready line; both must exit 0.
cat >"$W/pair.sh" <<'PAIR'
set -euo pipefail
in=$1 w=$2 stats=${3:-}
rm -f "$w/ready"
rcp-quic-recv --listen 127.0.0.1:0 --ready-fd 3 $stats 3>"$w/ready" \
    >/dev/null 2>"$w/recv.err" &
r=$!
for i in $(seq 100); do
	[ -s "$w/ready" ] && break
	sleep 0.02
done
read -r _ addr pin <"$w/ready"
rcp-quic-send --connect "$addr" --pin "$pin" $stats "$in" 2>"$w/send.err"
wait "$r"
PAIR

compare "rcp-quic-send | rcp-quic-recv (loopback)" 1.00 \
	"bash '$W/pair.sh' '$in' '$W'" \
	"$SSH 127.0.0.1 'cat > /dev/null' < '$in'"
if [ -n "${BENCH_OURS:-}" ]; then
	printf '%-44s %8.0f MB/s %6.0f MB/s\n' "  throughput (quic, ssh)" \
		"$(echo "$BENCH_SIZE_MB * 1.048576 / $BENCH_OURS" | bc -l)" \
		"$(echo "$BENCH_SIZE_MB * 1.048576 / $BENCH_ANCHOR" | bc -l)"
fi
bash "$W/pair.sh" "$in" "$W" --stats
sed 's/^/  /' "$W/send.err"
