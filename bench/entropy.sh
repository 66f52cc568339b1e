#!/usr/bin/env bash
# entropy-frame | entropy-unframe against cat | cat (SPEC §7).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
PATH="$PWD/bin:$PATH"

in=$(bench_input in-$BENCH_SIZE_MB "$BENCH_SIZE_MB")
compare "entropy-frame | entropy-unframe" 1.10 \
	"entropy-frame '$in' | entropy-unframe >/dev/null" \
	"cat '$in' | cat >/dev/null"
