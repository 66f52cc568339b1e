#!/usr/bin/env bash
# entropy-frame | entropy-unframe against cat | cat (SPEC §7), and the peak
# RSS of each on a 4 GiB input (SPEC §1).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
PATH="$PWD/bin:$PATH"

in=$(bench_input in-$BENCH_SIZE_MB "$BENCH_SIZE_MB")
compare "entropy-frame | entropy-unframe" 1.10 \
	"entropy-frame '$in' | entropy-unframe >/dev/null" \
	"cat '$in' | cat >/dev/null"

# Peak RSS on the format's limit, a sparse file read as zeros.
big="$BENCH_DIR/sparse-4g"
truncate -s 4294967294 "$big"
frame_rss=$(peak_rss_kb "entropy-frame '$big'")
unframe_rss=$(/usr/bin/time -f '%M' -o "$BENCH_DIR/rss2.$$" \
	bash -c "entropy-frame '$big' | entropy-unframe >/dev/null"; cat "$BENCH_DIR/rss2.$$")
printf '%-44s %8s MiB\n' "peak RSS entropy-frame (4 GiB)" $((frame_rss / 1024))
printf '%-44s %8s MiB\n' "peak RSS entropy-unframe (4 GiB)" $((unframe_rss / 1024))
rm -f "$big" "$BENCH_DIR"/rss*.$$
