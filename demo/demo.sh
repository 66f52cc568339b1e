#!/usr/bin/env bash
# make demo (SPEC §8): a real Redis snapshot carried end to end on this
# machine, first through the pipeline of filters, then via rcp-launch
# against a throwaway sshd.  Narrates each step; cleans up everything it
# started, also on failure or interrupt, and then says which step failed.
set -euo pipefail
cd "$(dirname "$0")/.."
TOP=$PWD
. "$TOP/scripts/common.bash"
export PATH="$TOP/bin:$PATH"
KEYS=${DEMO_KEYS:-40000}

work=$(mktemp -d "${TMPDIR:-/tmp}/rcp-demo.XXXXXX")
pids=()
step="setting up"

cleanup() {
	local rc=$?
	# Whatever fails here (a server already gone), the rest must run
	# and the step be said: errexit would stop the trap halfway.
	set +e
	declare -F sshd_stop >/dev/null && sshd_stop
	for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
	for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
	rm -rf "$work"
	if [ "$rc" -ne 0 ]; then
		echo "demo: FAILED while $step (status $rc)" >&2
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

say() { printf '==> %s\n' "$*"; }

now() { date +%s.%N; }
rate() { # rate BYTES T0 T1
	echo "$1 $2 $3" | awk '{ s = $3 - $2; printf "%.2f s, %.1f MiB/s", s, $1 / 1048576 / (s > 0 ? s : 1e-9) }'
}

# start_redis NAME DIR: a redis-server on a free loopback port, serving
# DIR/dump.rdb if there is one; sets REDIS_PORT.  A port taken between
# the pick and the bind (tests run side by side) means another try; the
# server that answers must be ours (its pid), never a neighbour's.  (Not
# run in $(...): the server would hold the substitution's pipe open.)
start_redis() {
	local name=$1 dir=$2 port pid
	mkdir -p "$dir"
	for _ in 1 2 3 4 5; do
		port=$(free_port tcp)
		redis-server --port "$port" --bind 127.0.0.1 --dir "$dir" \
			--dbfilename dump.rdb --save '' --appendonly no --daemonize no \
			--enable-debug-command local --logfile "$work/$name.log" </dev/null >/dev/null 2>&1 &
		pid=$!
		pids+=("$pid")
		for _ in $(seq 100); do
			kill -0 "$pid" 2>/dev/null || break	# bind failed: next port
			# PONG once it has loaded DIR/dump.rdb; then its pid.
			if redis-cli -p "$port" ping 2>/dev/null | grep -q PONG &&
			    redis-cli -p "$port" info server 2>/dev/null |
			    tr -d '\r' | grep -qx "process_id:$pid"; then
				REDIS_PORT=$port
				return
			fi
			sleep 0.1
		done
		kill -0 "$pid" 2>/dev/null && break	# alive but silent: give up
	done
	echo "redis-server $name did not start; see its log:" >&2
	cat "$work/$name.log" >&2
	return 1
}

# fingerprint PORT: what both servers must agree on: the number of keys
# and DEBUG DIGEST, a hash over every key and value.
fingerprint() {
	local keys digest
	keys=$(redis-cli -p "$1" dbsize)
	digest=$(redis-cli -p "$1" debug digest)
	[[ $keys =~ ^[0-9]+$ && $digest =~ ^[0-9a-f]{40}$ ]] || {
		echo "demo: redis on port $1 answered: $keys / $digest" >&2
		return 1
	}
	echo "keys=$keys digest=$digest"
}

step="starting the source redis-server"
start_redis source "$work/source"
src_port=$REDIS_PORT
say "source redis-server on 127.0.0.1:$src_port"

step="writing the data set"
{
	for ((i = 0; i < KEYS / 4; i++)); do
		printf 'SET str:%d value-%d-%s\r\n' "$i" "$i" "$RANDOM$RANDOM"
		printf 'HSET hash:%d name user%d age %d city c%d\r\n' "$i" "$i" $((i % 90)) $((i % 17))
		printf 'RPUSH list:%d a%d b%d c%d\r\n' "$i" "$i" "$RANDOM" "$i"
		printf 'SADD set:%d m%d n%d o%d\r\n' "$i" "$i" "$RANDOM" $((i * 7))
	done
} | redis-cli -p "$src_port" --pipe >/dev/null
say "wrote $(redis-cli -p "$src_port" dbsize) keys (strings, hashes, lists, sets)"

step="taking the snapshot (BGSAVE)"
redis-cli -p "$src_port" bgsave >/dev/null
for _ in $(seq 300); do
	redis-cli -p "$src_port" info persistence | grep -q 'rdb_bgsave_in_progress:0' &&
		[ -s "$work/source/dump.rdb" ] && break
	sleep 0.1
done
dump="$work/source/dump.rdb"
size=$(stat -c %s "$dump")
say "BGSAVE wrote dump.rdb: $size bytes; source $(fingerprint "$src_port")"

step="generating the key and IV"
aescbc-keygen "$work/key.pem" "$work/iv.pem"
say "fresh key and IV in $work (mode $(stat -c %a "$work/key.pem"))"

step="making the receiver's identity"
recv_pin=$(rcp-quic-recv --gen-identity "$work/recv.identity")
say "receiver identity $recv_pin: the sender will accept no other peer"

step="carrying the snapshot over QUIC"
mkdir -p "$work/restored"
t0=$(now)
entropy-frame "$dump" |
	aescbc-enc --frames -k "$work/key.pem" -i "$work/iv.pem" |
	rcp-quic-send --listen 127.0.0.1:0 --peer-pin "$recv_pin" --ready-fd 3 \
		3>"$work/ready" 2>"$work/send.log" &
send_pid=$!
pids+=("$send_pid")
ready=$(read_ready "$work/ready")
read -r addr pin <<<"$ready"
say "sender listening on $addr, certificate $pin"
rcp-quic-recv --connect "$addr" --pin "$pin" --identity "$work/recv.identity" |
	aescbc-dec --frames -k "$work/key.pem" -i "$work/iv.pem" |
	entropy-unframe -o "$work/restored/dump.rdb"
wait "$send_pid"
t1=$(now)
say "entropy-frame | aescbc-enc --frames | rcp-quic-send -> rcp-quic-recv |" \
	"aescbc-dec --frames | entropy-unframe -o: $size bytes in $(rate "$size" "$t0" "$t1")"

step="loading the restored snapshot"
start_redis restored "$work/restored"
dst_port=$REDIS_PORT
step="comparing the two servers"
want=$(fingerprint "$src_port")
got=$(fingerprint "$dst_port")
say "restored redis-server on 127.0.0.1:$dst_port: $got"
[ "$want" = "$got" ] || { echo "demo: data differ: $want vs $got" >&2; exit 1; }
say "same keys and same DEBUG DIGEST: the snapshot arrived intact"

step="starting a throwaway sshd"
# Its own host key, a user key made for the demo and a private HOME whose
# ~/.ssh/config names it "testhost": the user's own ~/.ssh is never used.
. scripts/throwaway-sshd.bash
sshd_start "$work" >/dev/null
say "sshd on 127.0.0.1:$SSHD_PORT with its own host key and a demo user key (HOME=$HOME)"

step="pulling the snapshot with rcp-launch"
mkdir -p "$work/pulled"
t0=$(now)
# The remote end finds rcp-quic-send in --remote-bin, and the producer by
# its path, as they are not installed on this "remote" host's PATH.
rcp-launch --pull --remote-bin "$TOP/bin" testhost "'$TOP/bin/entropy-frame' '$dump'" |
	entropy-unframe -o "$work/pulled/dump.rdb"
t1=$(now)
say "rcp-launch --pull testhost 'entropy-frame dump.rdb' | entropy-unframe -o:" \
	"$size bytes in $(rate "$size" "$t0" "$t1")"

step="loading the pulled snapshot"
start_redis pulled "$work/pulled"
pull_port=$REDIS_PORT
got=$(fingerprint "$pull_port")
say "pulled redis-server on 127.0.0.1:$pull_port: $got"
[ "$want" = "$got" ] || { echo "demo: data differ: $want vs $got" >&2; exit 1; }
say "same keys and same DEBUG DIGEST again"

step="cleaning up"
say "done: stopping $((${#pids[@]} + 1)) processes and removing $work"
