#!/usr/bin/env bash
# bench/compare-start.sh OLD_BIN [NEW_BIN]: rcp-launch's start and a short
# --pull, two builds one after the other (run it twice: a figure that
# holds both times is one to keep), through a throwaway sshd on a
# loopback port.  Build
# the old tree with: git worktree add /tmp/old REV && make -C /tmp/old.
#   --pull testhost true          the start: SSH, the remote script, QUIC
#   --pull testhost cat 64 MiB    the same with a little data
set -euo pipefail
cd "$(dirname "$0")/.."
TOP=$PWD
OLD=$1
NEW=${2:-$TOP/bin}
W=$(mktemp -d /tmp/compare-start.XXXXXX)
BATS_FILE_TMPDIR=$W
. "$TOP/scripts/throwaway-sshd.bash"
trap 'sshd_stop; rm -rf "$W"' EXIT
sshd_start "$W" >/dev/null
head -c 67108864 /dev/urandom >"$W/in"
hyperfine -N -w 2 -r "${BENCH_RUNS:-15}" \
	-n old-pull-true "$OLD/rcp-launch --pull --remote-bin $OLD testhost true" \
	-n new-pull-true "$NEW/rcp-launch --pull --remote-bin $NEW testhost true" \
	-n old-pull-64M "$OLD/rcp-launch --pull --remote-bin $OLD testhost cat $W/in" \
	-n new-pull-64M "$NEW/rcp-launch --pull --remote-bin $NEW testhost cat $W/in"
