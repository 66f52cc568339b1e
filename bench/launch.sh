#!/usr/bin/env bash
# bench/launch.sh: rcp-launch --pull against ssh(1) (SPEC §7), both through
# a throwaway sshd on a loopback port (scripts/throwaway-sshd.bash: its own host and
# user keys and HOME, never the user's ~/.ssh), the input from /dev/shm.
#
#   throughput  rcp-launch --pull testhost cat FILE > /dev/null
#               vs ssh testhost cat FILE > /dev/null          (<= 0.80)
#   set-up      rcp-launch --pull testhost true (zero bytes)
#               vs ssh testhost true        (our own bound: <= 1.50)
#
# testhost is 127.0.0.1 with ssh's default cipher.  A and B runs
# alternate (bench/lib.sh's compare); each figure is a median.
#   BENCH_SIZE_MB (default 1024)  BENCH_RUNS (default 5)
#   BENCH_SETUP_RUNS (default 11)
set -euo pipefail
cd "$(dirname "$0")/.."
TOP=$PWD
. bench/lib.sh
PATH="$TOP/bin:$PATH"
SETUP_RUNS=${BENCH_SETUP_RUNS:-11}

in=$(bench_input in-$BENCH_SIZE_MB "$BENCH_SIZE_MB")
W=$(mktemp -d "$BENCH_DIR/launch.XXXXXX")
BATS_FILE_TMPDIR=$W
. "$TOP/scripts/throwaway-sshd.bash"
cleanup() {
	sshd_stop
	rm -rf "$W"
}
trap cleanup EXIT
sshd_start "$W" >/dev/null

# ssh(1) reads ~/.ssh from the password database, not $HOME: name the
# throwaway config (it names the key and known_hosts by absolute path).
SSH="ssh -F '$HOME/.ssh/config' -o BatchMode=yes testhost"
PULL="rcp-launch --pull --remote-bin '$TOP/bin' testhost"

compare "rcp-launch --pull localhost cat FILE" 0.80 \
	"$PULL cat '$in' >/dev/null" \
	"$SSH cat '$in' >/dev/null"
BENCH_RUNS=$SETUP_RUNS compare "  set-up: --pull true vs ssh true" 1.50 \
	"$PULL true >/dev/null" \
	"$SSH true >/dev/null"

# Peak RSS of the local rcp-launch on the format's limit (SPEC §1), a
# sparse 4 GiB file pulled through QUIC.
truncate -s 4294967294 "$W/big"
/usr/bin/time -f %M -o "$W/rss" bash -c "$PULL cat '$W/big' >/dev/null"
printf '  peak RSS %-36s %6.1f MiB\n' "rcp-launch --pull (4 GiB)" \
	"$(echo "$(cat "$W/rss") / 1024" | bc -l)"
