#!/usr/bin/env bash
# make bench: the performance table of SPEC §7, each figure beside its
# anchor measured in the same run, as a time ratio (medians, A/B alternated).
# BENCH_RUNS (default 5) and BENCH_SIZE_MB (default 1024) scale it down.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh

echo "rcp-entropy bench, $(date -u +%Y-%m-%d), $(nproc) cores," \
	"$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
echo "input ${BENCH_SIZE_MB} MiB on $BENCH_DIR, median of $BENCH_RUNS runs"
compare_header
# A row that cannot be measured says so in the table: nothing is hidden.
status=0
for area in entropy aescbc quic launch rss net resume; do
	if [ ! -f "bench/$area.sh" ]; then
		printf '%-44s MISSING (no bench/%s.sh)\n' "$area" "$area"
		status=1
	elif ! bash "bench/$area.sh"; then
		printf '%-44s FAILED (bench/%s.sh)\n' "$area" "$area"
		status=1
	fi
done
exit "$status"
