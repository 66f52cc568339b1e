#!/usr/bin/env bash
# aescbc-enc/-dec against openssl enc on the same input (SPEC §7): stream
# mode both ways, and frames mode on 2 threads against a single openssl.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
PATH="$PWD/bin:$PATH"

in=$(bench_input in-$BENCH_SIZE_MB "$BENCH_SIZE_MB")
keys=$(mktemp -d "$BENCH_DIR/aescbc.XXXXXX")
trap 'rm -rf "$keys"' EXIT
aescbc-keygen --format hex "$keys/key" "$keys/iv"
K=$(cat "$keys/key")
IV=$(cat "$keys/iv")
kf="-k '$keys/key' -i '$keys/iv'"
openssl enc -aes-128-cbc -K "$K" -iv "$IV" -in "$in" -out "$keys/cipher"
entropy-frame "$in" >"$keys/framed"

compare "aescbc-enc" 1.05 \
	"aescbc-enc $kf '$in' >/dev/null" \
	"openssl enc -aes-128-cbc -K $K -iv $IV -in '$in' >/dev/null"
compare "aescbc-dec" 1.05 \
	"aescbc-dec $kf '$keys/cipher' >/dev/null" \
	"openssl enc -d -aes-128-cbc -K $K -iv $IV -in '$keys/cipher' >/dev/null"
compare "aescbc-enc --frames -j 2 (vs openssl enc)" 0.60 \
	"aescbc-enc --frames -j 2 $kf '$keys/framed' >/dev/null" \
	"openssl enc -aes-128-cbc -K $K -iv $IV -in '$in' >/dev/null"
