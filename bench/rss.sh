#!/usr/bin/env bash
# Peak RSS of every program on an input at the format's limit (SPEC §1:
# 4294967294 bytes must not raise any tool above 64 MiB).  The input is a
# sparse file, so it costs no memory of its own; each stage of the real
# pipelines runs under /usr/bin/time.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
PATH="$PWD/bin:$PATH"

w=$(mktemp -d "$BENCH_DIR/rss.XXXXXX")
trap 'rm -rf "$w"' EXIT
big="$w/big"
truncate -s 4294967294 "$big"
aescbc-keygen "$w/key" "$w/iv"
kf=(-k "$w/key" -i "$w/iv")
t() { local name=$1; shift; /usr/bin/time -f %M -o "$w/rss.$name" "$@"; }

# Frames over QUIC, as the README's main job runs it.
t entropy-frame entropy-frame "$big" |
	t aescbc-enc aescbc-enc --frames "${kf[@]}" |
	t rcp-quic-send rcp-quic-send --listen 127.0.0.1:0 --ready-fd 3 3>"$w/ready" 2>/dev/null &
ready=$(read_ready "$w/ready")
read -r addr pin <<<"$ready"
t rcp-quic-recv rcp-quic-recv --connect "$addr" --pin "$pin" 2>/dev/null |
	t aescbc-dec aescbc-dec --frames "${kf[@]}" |
	t entropy-unframe entropy-unframe >/dev/null
wait
# Stream mode, the whole 4 GiB as one CBC chain.
t aescbc-enc-stream aescbc-enc "${kf[@]}" "$big" |
	t aescbc-dec-stream aescbc-dec "${kf[@]}" >/dev/null

worst=0
for f in "$w"/rss.*; do
	kb=$(cat "$f")
	[ "$kb" -gt "$worst" ] && worst=$kb
	printf '  peak RSS %-36s %6.1f MiB\n' "${f##*/rss.} (4 GiB)" "$(echo "$kb / 1024" | bc -l)"
done
verdict=met
[ "$worst" -le $((64 * 1024)) ] || verdict=MISSED
printf '%-44s %8.1f MiB %21s <= 64 MiB %s\n' "peak RSS, worst tool (4 GiB input)" \
	"$(echo "$worst / 1024" | bc -l)" "" "$verdict"
