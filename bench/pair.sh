#!/usr/bin/env bash
# bench/pair.sh IN OUT WORKDIR [OPTS [SEND_OPTS]]: one rcp-quic transfer,
# start to end, both ends exiting 0: the receiver listens and writes OUT,
# the sender connects with the pin of its ready line and sends IN.  OPTS
# go to both ends, SEND_OPTS to the sender alone; stderr of each goes to
# WORKDIR/recv.err and WORKDIR/send.err.  With PAIR_NS=NAME the receiver
# runs in namespace NAME-b and the sender in NAME-a (bench/netlink.sh);
# PAIR_LISTEN is the receiver's address (default 127.0.0.1).
set -euo pipefail
. "$(dirname "$0")/../scripts/common.bash"
in=$1 out=$2 w=$3 opts=${4:-} send_opts=${5:-}
recv_ns=() send_ns=()
if [ -n "${PAIR_NS:-}" ]; then
	recv_ns=(ip netns exec "$PAIR_NS-b")
	send_ns=(ip netns exec "$PAIR_NS-a")
fi
rm -f "$w/ready"
# shellcheck disable=SC2086
"${recv_ns[@]}" rcp-quic-recv --listen "${PAIR_LISTEN:-127.0.0.1}:0" \
    --ready-fd 3 $opts 3>"$w/ready" >"$out" 2>"$w/recv.err" &
r=$!
read -r addr pin <<<"$(read_ready "$w/ready")"
# shellcheck disable=SC2086
"${send_ns[@]}" rcp-quic-send --connect "$addr" --pin "$pin" $opts \
    $send_opts "$in" 2>"$w/send.err"
wait "$r"
