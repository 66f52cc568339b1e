#!/usr/bin/env bats
# aescbc-enc, aescbc-dec (SPEC §4): stream mode against the openssl CLI,
# key file forms, failures, and frames mode over entropy streams.

load test_helper

# Fixed key and IV: the key bytes are printable, so the same key has a
# raw form, a hex form and a PEM form.
RAWKEY='sixteen byte key'
KEYHEX=7369787465656e2062797465206b6579
IVHEX=000102030405060708090a0b0c0d0e0f

setup() {
	setup_tmp
	printf '%s\n' "$KEYHEX" >"$T/key"
	printf '%s\n' "$IVHEX" >"$T/iv"
	chmod 600 "$T/key" "$T/iv"
	KF=(-k "$T/key" -i "$T/iv")
}

ossl_enc() { openssl enc -aes-128-cbc -K "$KEYHEX" -iv "$IVHEX" "$@"; }
ossl_dec() { openssl enc -d -aes-128-cbc -K "$KEYHEX" -iv "$IVHEX" "$@"; }

# det_file PATH BYTES: deterministic content, so outcomes that depend on
# the data (a pad that happens to be valid) are the same on every run.
det_file() {
	yes 'entropy reconciliation test data 0123456789' | head -c "$2" >"$1"
}

# run_quiet CMD...: like run, but stdout (payload) is thrown away so that
# $output holds the diagnostics only.
run_quiet() {
	run bash -c '"$@" >/dev/null' run_quiet "$@"
}

# A key file with mode 600 holding the given bytes (printf format).
keyfile() {
	local f=$1
	shift
	printf "$@" >"$T/$f"
	chmod 600 "$T/$f"
}

# --- stream mode against openssl ------------------------------------------

@test "stream: aescbc-enc output is byte-identical to openssl enc" {
	for n in 0 1 15 16 17 4194304; do
		random_file "$T/in" "$n"
		aescbc-enc "${KF[@]}" "$T/in" >"$T/ours"
		ossl_enc -in "$T/in" >"$T/ref"
		cmp "$T/ours" "$T/ref"
	done
}

@test "stream: openssl enc -d decrypts what aescbc-enc wrote" {
	for n in 0 1 15 16 17 4194304; do
		random_file "$T/in" "$n"
		aescbc-enc "${KF[@]}" <"$T/in" >"$T/ct"
		ossl_dec -in "$T/ct" >"$T/out"
		cmp "$T/in" "$T/out"
	done
}

@test "stream: aescbc-dec decrypts what openssl enc wrote" {
	for n in 0 1 15 16 17 4194304; do
		random_file "$T/in" "$n"
		ossl_enc -in "$T/in" >"$T/ct"
		aescbc-dec "${KF[@]}" "$T/ct" >"$T/out"
		cmp "$T/in" "$T/out"
	done
}

@test "stream: a pipe in and out, FILE '-' meaning stdin" {
	random_file "$T/in" 100000
	run_pipe "cat '$T/in' | aescbc-enc -k '$T/key' -i '$T/iv' - | aescbc-dec -k '$T/key' -i '$T/iv' | cmp - '$T/in'"
	assert_success
}

@test "stream: -j is accepted and changes nothing" {
	random_file "$T/in" 70000
	aescbc-enc -j 3 "${KF[@]}" "$T/in" >"$T/a"
	aescbc-enc "${KF[@]}" "$T/in" >"$T/b"
	cmp "$T/a" "$T/b"
}

@test "stream: --progress draws on stderr and leaves stdout alone" {
	random_file "$T/in" 300000
	aescbc-enc --progress "${KF[@]}" "$T/in" >"$T/ct" 2>"$T/err"
	ossl_enc -in "$T/in" | cmp - "$T/ct"
	grep -q 'KiB' "$T/err"
	grep -q '100.0%' "$T/err"
}

# --- key file forms -------------------------------------------------------

@test "key forms: raw, raw with CRLF, no newline, hex, PEM give one ciphertext" {
	random_file "$T/in" 5000
	ossl_enc -in "$T/in" >"$T/ref"
	keyfile raw '%s\n' "$RAWKEY"
	keyfile crlf '%s\r\nsecond line ignored\n' "$RAWKEY"
	keyfile bare '%s' "$RAWKEY"
	keyfile upper '%s\n' "${KEYHEX^^}"
	{
		echo '-----BEGIN AES-128 KEY-----'
		printf '%s' "$RAWKEY" | base64
		echo '-----END AES-128 KEY-----'
	} >"$T/pem"
	chmod 600 "$T/pem"
	for k in raw crlf bare upper pem key; do
		aescbc-enc -k "$T/$k" -i "$T/iv" "$T/in" >"$T/ct"
		cmp "$T/ct" "$T/ref"
	done
	# The IV in PEM form, and as /dev/fd/N (a pipe).
	printf '%s' "$IVHEX" | xxd -r -p | base64 |
		sed '1i -----BEGIN AES-128 IV-----' |
		sed '$a -----END AES-128 IV-----' >"$T/ivpem"
	aescbc-enc -k "$T/key" -i "$T/ivpem" "$T/in" | cmp - "$T/ref"
	aescbc-enc -k <(cat "$T/key") -i <(cat "$T/iv") "$T/in" | cmp - "$T/ref"
}

# bad_key SETUP... : runs aescbc-enc with key file $T/bad, expects status 2.
expect_key_refused() {
	run aescbc-enc -k "$T/bad" -i "$T/iv" /dev/null
	assert_failure 2
	assert_output "aescbc-enc: $T/bad: $1"
	# Never the content.
	refute_output --partial 'SECRET'
}

@test "bad key: a 17-byte first line (Dynomite's sample key)" {
	keyfile bad 'SECRETSECRETSECRE\n'
	expect_key_refused 'first line has 17 bytes, expected 16 raw bytes, 32 hex digits or a PEM block'
}

@test "bad key: 31 and 33 hex digits" {
	keyfile bad '%s\n' "${KEYHEX:1}"
	expect_key_refused 'first line has 31 hex digits, expected 16 raw bytes, 32 hex digits or a PEM block'
	keyfile bad '%s0\n' "$KEYHEX"
	expect_key_refused 'first line has 33 hex digits, expected 16 raw bytes, 32 hex digits or a PEM block'
}

@test "bad key: 32 bytes that are not all hex" {
	keyfile bad 'SECRET%s\n' "${KEYHEX:6}"
	expect_key_refused 'first line has 32 bytes but byte 1 is not a hex digit, expected 16 raw bytes, 32 hex digits or a PEM block'
	keyfile bad '%sg\n' "${KEYHEX:1}"
	expect_key_refused 'first line has 32 bytes but byte 32 is not a hex digit, expected 16 raw bytes, 32 hex digits or a PEM block'
}

@test "bad key: PEM blocks of 15 and 17 bytes" {
	for n in 15 17; do
		{
			echo '-----BEGIN AES-128 KEY-----'
			head -c "$n" /dev/zero | base64
			echo '-----END AES-128 KEY-----'
		} >"$T/bad"
		chmod 600 "$T/bad"
		expect_key_refused "PEM block decodes to $n bytes, expected 16"
	done
}

@test "bad key: a PEM block without its END line" {
	printf -- '-----BEGIN AES-128 KEY-----\nU0VDUkVUU0VDUkVUU0VDUg==\n' >"$T/bad"
	chmod 600 "$T/bad"
	run aescbc-enc -k "$T/bad" -i "$T/iv" /dev/null
	assert_failure 2
	assert_output --regexp "^aescbc-enc: $T/bad: malformed PEM block in key file \(.*\), expected 16 raw bytes, 32 hex digits or a PEM block\$"
}

@test "bad key: empty file, empty first line" {
	keyfile bad ''
	expect_key_refused 'empty file, expected 16 raw bytes, 32 hex digits or a PEM block'
	keyfile bad '\n%s\n' "$KEYHEX"
	expect_key_refused 'first line is empty, expected 16 raw bytes, 32 hex digits or a PEM block'
}

@test "bad key: missing file, directory, oversized file" {
	run aescbc-enc -k "$T/nonexistent" -i "$T/iv" /dev/null
	assert_failure 2
	assert_output "aescbc-enc: $T/nonexistent: cannot open key file: No such file or directory"
	mkdir "$T/dir"
	run aescbc-enc -k "$T/dir" -i "$T/iv" /dev/null
	assert_failure 2
	assert_output "aescbc-enc: $T/dir: is a directory, not a key file"
	head -c 9000 /dev/zero >"$T/bad"
	chmod 600 "$T/bad"
	expect_key_refused 'more than 8192 bytes, expected 16 raw bytes, 32 hex digits or a PEM block'
}

@test "bad IV file: refused the same way, named as the IV" {
	printf '%s\n' "${IVHEX:2}" >"$T/badiv"
	run aescbc-dec -k "$T/key" -i "$T/badiv" /dev/null
	assert_failure 2
	assert_output "aescbc-dec: $T/badiv: first line has 30 hex digits, expected 16 raw bytes, 32 hex digits or a PEM block"
	run aescbc-dec -k "$T/key" -i "$T/none" /dev/null
	assert_failure 2
	assert_output "aescbc-dec: $T/none: cannot open IV file: No such file or directory"
}

@test "key file readable by others: refused (2) with the chmod hint; the IV may be" {
	random_file "$T/in" 1000
	chmod 644 "$T/key"
	for p in aescbc-enc aescbc-dec; do
		run "$p" "${KF[@]}" "$T/in"
		assert_failure 2
		assert_output "$p: $T/key: key file is accessible by group or others (mode 0644): chmod 600 it"
	done
	# Only the key is secret: a 0644 IV is fine, and so is a key handed
	# over as a descriptor.
	chmod 600 "$T/key"
	chmod 644 "$T/iv"
	run aescbc-enc "${KF[@]}" "$T/in"
	assert_success
	aescbc-enc "${KF[@]}" "$T/in" 2>/dev/null | ossl_dec | cmp - "$T/in"
	chmod 644 "$T/key"
	aescbc-enc -k /dev/fd/5 -i "$T/iv" "$T/in" 5<"$T/key" | ossl_dec | cmp - "$T/in"
}

# --- stream mode failures -------------------------------------------------

@test "stream: a wrong key is bad decrypt (3), as openssl says too" {
	det_file "$T/in" 1000
	ossl_enc -in "$T/in" >"$T/ct"
	printf '%s\n' ffeeddccbbaa99887766554433221100 >"$T/wrong"
	chmod 600 "$T/wrong"
	run openssl enc -d -aes-128-cbc -K ffeeddccbbaa99887766554433221100 -iv "$IVHEX" -in "$T/ct" -out /dev/null
	assert_failure
	assert_output --partial 'bad decrypt'
	run_quiet aescbc-dec -k "$T/wrong" -i "$T/iv" "$T/ct"
	assert_failure 3
	assert_line --index -1 'aescbc-dec: bad decrypt: bad padding in the last block (wrong key or IV, or corrupt or truncated ciphertext)'
}

@test "stream: truncated ciphertext is bad decrypt (3), never 0" {
	det_file "$T/in" 1000
	ossl_enc -in "$T/in" >"$T/ct"
	size=$(stat -c %s "$T/ct")
	head -c $((size - 1)) "$T/ct" >"$T/cut1"
	run_quiet aescbc-dec "${KF[@]}" "$T/cut1"
	assert_failure 3
	assert_line --index -1 "aescbc-dec: bad decrypt: ciphertext of $((size - 1)) bytes is not a positive multiple of 16 (truncated or not AES-CBC)"
	head -c 40 "$T/ct" >"$T/cut40"
	run_quiet aescbc-dec "${KF[@]}" "$T/cut40"
	assert_failure 3
	assert_line --index -1 "aescbc-dec: bad decrypt: ciphertext of 40 bytes is not a positive multiple of 16 (truncated or not AES-CBC)"
	# Cut on a block boundary: the last block left is not a pad block.
	head -c $((size - 16)) "$T/ct" >"$T/cut16"
	run_quiet aescbc-dec "${KF[@]}" "$T/cut16"
	assert_failure 3
	assert_line --index -1 --partial 'aescbc-dec: bad decrypt: bad padding'
	run_quiet aescbc-dec "${KF[@]}" /dev/null
	assert_failure 3
	assert_output 'aescbc-dec: bad decrypt: ciphertext of 0 bytes is not a positive multiple of 16 (truncated or not AES-CBC)'
}

# --- options --------------------------------------------------------------

@test "options: -h, -V, missing key or IV, bad -j, extra operands" {
	run aescbc-enc -h
	assert_success
	assert_line --index 0 'usage: aescbc-enc -k KEYFILE -i IVFILE [--frames] [-j N]'
	assert_line --regexp '^  -k, --key KEYFILE +the 16-byte key'
	run aescbc-dec --version
	assert_success
	assert_output 'aescbc-dec 0.1.0'
	run aescbc-enc -i "$T/iv"
	assert_failure 2
	assert_line --index 0 'aescbc-enc: -k KEYFILE is required'
	run aescbc-enc -k "$T/key"
	assert_failure 2
	assert_line --index 0 'aescbc-enc: -i IVFILE is required'
	run aescbc-enc -j 0 "${KF[@]}"
	assert_failure 2
	assert_output 'aescbc-enc: -j 0: must be 1..64'
	run aescbc-enc -j 2x "${KF[@]}"
	assert_failure 2
	assert_output 'aescbc-enc: -j 2x: must be 1..64'
	run aescbc-enc "${KF[@]}" a b
	assert_failure 2
	assert_line --index 0 'aescbc-enc: at most one FILE'
	run aescbc-enc --bogus
	assert_failure 2
	assert_output - <<-'EOF'
	aescbc-enc: unrecognized option '--bogus'
	Try 'aescbc-enc --help' for more information.
	EOF
}

@test "I/O: a missing input file is 1, a closed output pipe is 1" {
	run aescbc-enc "${KF[@]}" "$T/nonexistent"
	assert_failure 1
	assert_output "aescbc-enc: $T/nonexistent: No such file or directory"
	random_file "$T/in" 8000000
	run bash -c "aescbc-enc -k '$T/key' -i '$T/iv' '$T/in' | head -c 1 >/dev/null; echo \"\${PIPESTATUS[0]}\""
	assert_output --partial 'aescbc-enc: write error: Broken pipe'
	assert_line --index -1 1
}

# --- frames mode ----------------------------------------------------------

# roundtrip BYTES [entropy-frame options]: frame, encrypt with -j 1, 2, 4
# (identical bytes), decrypt, unframe, compare.
roundtrip() {
	local n=$1
	shift
	random_file "$T/in" "$n"
	entropy-frame "$@" "$T/in" >"$T/fr"
	for j in 1 2 4; do
		aescbc-enc --frames -j "$j" "${KF[@]}" "$T/fr" >"$T/enc$j"
	done
	cmp "$T/enc1" "$T/enc2"
	cmp "$T/enc1" "$T/enc4"
	for j in 1 2 4; do
		aescbc-dec --frames -j "$j" "${KF[@]}" "$T/enc1" >"$T/dec$j"
		cmp "$T/dec$j" "$T/fr"
	done
	entropy-unframe "$T/dec1" | cmp - "$T/in"
}

@test "frames: round trip of 0, 1, M-1, M, M+1 bytes" {
	for n in 0 1 16383 16384 16385; do
		roundtrip "$n"
	done
}

@test "frames: round trip of many chunks, odd multiples of 16 for -b" {
	roundtrip 3000001
	roundtrip 100001 -b 48
	roundtrip 77777 -b 272 -c 288
	roundtrip 5000 -b 16 -c 32 -H 8
	# Chunks larger than a batch.
	roundtrip 7000000 -b 2M
}

# Feeds the first 500000 bytes of $T/fr to aescbc-enc --frames -j $1
# through a fifo with writes of $2 bytes, then pauses and checks that all
# whole chunks went out during the pause: the headers and 30 chunks of
# 16384, less than a batch; their encryption is 16400 bytes each.
frames_pause_check() {
	local j=$1 bs=$2 pid i grown st
	local want=$((1044 + 30 * (4 + 16400)))

	rm -f "$T/fifo"
	mkfifo "$T/fifo"
	aescbc-enc --frames -j "$j" "${KF[@]}" "$T/fifo" >"$T/enc" 2>"$T/err" &
	pid=$!
	exec 7<>"$T/fifo"
	head -c 500000 "$T/fr" | dd bs="$bs" status=none >&7
	for ((i = 0; i < 100; i++)); do
		[ "$(stat -c %s "$T/enc")" -ge "$want" ] && break
		sleep 0.1
	done
	# Measured before the end of the input, which flushes all.
	grown=$(stat -c %s "$T/enc")
	exec 7>&-
	st=0
	wait "$pid" || st=$?
	[ "$grown" -eq "$want" ] ||
		fail "-j $j, writes of $bs: $grown bytes out during the pause, not $want"
	assert_equal "$st" 3
	grep -q 'truncated' "$T/err"
}

@test "frames: what was read goes out while the producer pauses, for -j 1 and 2" {
	local j
	det_file "$T/in" 8000000
	entropy-frame "$T/in" >"$T/fr"
	for j in 1 2; do
		frames_pause_check "$j" 500000
		# Small writes: the reader often sees part of the last chunk
		# in the pipe; it must not wait for the rest holding the others.
		frames_pause_check "$j" 512
	done
}

@test "frames: the whole pipeline restores the input" {
	random_file "$T/in" 1234567
	run_pipe "entropy-frame '$T/in' | aescbc-enc --frames -k '$T/key' -i '$T/iv' | aescbc-dec --frames -k '$T/key' -i '$T/iv' | entropy-unframe | cmp - '$T/in'"
	assert_success
}

@test "frames: each chunk is openssl enc of that chunk alone" {
	random_file "$T/in" 40000
	entropy-frame -b 16384 "$T/in" | aescbc-enc --frames "${KF[@]}" >"$T/enc"
	# Headers 20 + 1024; chunk 1: prefix at 1044, 16400 bytes from 1048;
	# chunk 2: prefix at 17448, payload from 17452; chunk 3: prefix at
	# 33852, 7232 bytes of plaintext, so 7248 bytes of ciphertext.
	assert_equal "$(dd if="$T/enc" bs=1 skip=1044 count=4 2>/dev/null | xxd -p)" 00004010
	assert_equal "$(dd if="$T/enc" bs=1 skip=17448 count=4 2>/dev/null | xxd -p)" 00004010
	assert_equal "$(dd if="$T/enc" bs=1 skip=33852 count=4 2>/dev/null | xxd -p)" 00001c50
	dd if="$T/in" bs=16384 skip=1 count=1 2>/dev/null | ossl_enc >"$T/ref2"
	tail -c +17453 "$T/enc" | head -c 16400 | cmp - "$T/ref2"
	tail -c +32769 "$T/in" | ossl_enc >"$T/ref3"
	tail -c +33857 "$T/enc" | cmp - "$T/ref3"
}

@test "frames: entropy-unframe --inspect accepts the encrypted stream" {
	random_file "$T/in" 50000
	entropy-frame "$T/in" | aescbc-enc --frames "${KF[@]}" >"$T/enc"
	run entropy-unframe --inspect "$T/enc"
	assert_success
	assert_line 'encrypted=1'
	assert_line 'total_len=50000'
	assert_line 'chunks=4'
	assert_line 'max_chunk=16400'
	assert_line 'min_chunk=864'
}

@test "frames: reserved header bytes and the Dynomite magic pass through" {
	random_file "$T/in" 3000
	entropy-frame --magic dynomite -H 64 "$T/in" >"$T/fr"
	printf 'reserved' | dd of="$T/fr" bs=1 seek=40 conv=notrunc 2>/dev/null
	aescbc-enc --frames "${KF[@]}" "$T/fr" >"$T/enc"
	assert_equal "$(head -c 84 "$T/enc" | xxd -p | tr -d '\n')" \
	    "$(head -c 84 "$T/fr" | xxd -p | tr -d '\n' | sed 's/^\(.\{55\}\)0/\11/')"
	aescbc-dec --frames "${KF[@]}" "$T/enc" | cmp - "$T/fr"
}

@test "frames: enc refuses an encrypted stream, dec a plaintext one (3)" {
	random_file "$T/in" 3000
	entropy-frame "$T/in" >"$T/fr"
	aescbc-enc --frames "${KF[@]}" "$T/fr" >"$T/enc"
	run aescbc-enc --frames "${KF[@]}" "$T/enc"
	assert_failure 3
	assert_output 'aescbc-enc: stream is already encrypted (encrypt_flag 1 at offset 24)'
	run aescbc-dec --frames "${KF[@]}" "$T/fr"
	assert_failure 3
	assert_output 'aescbc-dec: stream is not encrypted (encrypt_flag 0 at offset 24)'
}

@test "frames: enc refuses -b not a multiple of 16, or C < M + 16 (3)" {
	random_file "$T/in" 3000
	entropy-frame -b 1000 "$T/in" >"$T/fr"
	run aescbc-enc --frames "${KF[@]}" "$T/fr"
	assert_failure 3
	assert_output 'aescbc-enc: buffer_size 1000 at offset 12 is not a multiple of 16: the chunks cannot be encrypted (entropy-frame -b)'
	entropy-frame -b 1024 -c 1039 "$T/in" >"$T/fr"
	run aescbc-enc --frames "${KF[@]}" "$T/fr"
	assert_failure 3
	assert_output 'aescbc-enc: cipher_size 1039 at offset 16 is less than buffer_size 1024 + 16: encrypted chunks would not fit (entropy-frame -c)'
}

@test "frames: a corrupted chunk is bad decrypt (3) naming the chunk" {
	det_file "$T/in" 40000
	entropy-frame "$T/in" | aescbc-enc --frames "${KF[@]}" >"$T/enc"
	# Flip a byte in the last block of chunk 2 (payload 17452..33851).
	printf '\xff' | dd of="$T/enc" bs=1 seek=33850 conv=notrunc 2>/dev/null
	for j in 1 2; do
		run_quiet aescbc-dec --frames -j "$j" "${KF[@]}" "$T/enc"
		assert_failure 3
		assert_line --index -1 'aescbc-dec: bad decrypt: chunk 2 at offset 17448: bad padding (wrong key or IV, or corrupt data)'
	done
	# The chunks before it were written, as openssl would have.
	aescbc-dec --frames "${KF[@]}" "$T/enc" 2>/dev/null | head -c 17428 >"$T/part" || true
	assert_equal "$(stat -c %s "$T/part")" 17428
}

@test "frames: a wrong key is bad decrypt (3) at the first chunk" {
	det_file "$T/in" 40000
	entropy-frame "$T/in" | aescbc-enc --frames "${KF[@]}" >"$T/enc"
	printf '%s\n' ffeeddccbbaa99887766554433221100 >"$T/wrong"
	chmod 600 "$T/wrong"
	run_quiet aescbc-dec --frames -k "$T/wrong" -i "$T/iv" "$T/enc"
	assert_failure 3
	assert_output 'aescbc-dec: bad decrypt: chunk 1 at offset 1044: bad padding (wrong key or IV, or corrupt data)'
}

@test "frames: truncated and overlong encrypted streams are refused (3)" {
	random_file "$T/in" 40000
	entropy-frame "$T/in" | aescbc-enc --frames "${KF[@]}" >"$T/enc"
	head -c 30000 "$T/enc" >"$T/cut"
	run_quiet aescbc-dec --frames "${KF[@]}" "$T/cut"
	assert_failure 3
	assert_output 'aescbc-dec: truncated stream: encrypted chunk 2 at offset 17448: 12548 of 16400 bytes received'
	size=$(stat -c %s "$T/enc")
	head -c $((size - 7248 - 4)) "$T/enc" >"$T/cut"
	run_quiet aescbc-dec --frames "${KF[@]}" "$T/cut"
	assert_failure 3
	assert_output 'aescbc-dec: truncated stream: 32768 of 40000 payload bytes received'
	cp "$T/enc" "$T/long"
	printf 'x' >>"$T/long"
	run_quiet aescbc-dec --frames "${KF[@]}" "$T/long"
	assert_failure 3
	assert_output --partial 'aescbc-dec: trailing data at offset'
	run_quiet aescbc-enc --frames "${KF[@]}" /dev/null
	assert_failure 3
	assert_output 'aescbc-enc: truncated stream: negotiation header: 0 of 20 bytes received'
}

@test "frames: --progress counts plaintext against total_len" {
	random_file "$T/in" 300000
	entropy-frame "$T/in" >"$T/fr"
	aescbc-enc --frames --progress "${KF[@]}" "$T/fr" >"$T/enc" 2>"$T/err"
	grep -q '100.0%' "$T/err"
	aescbc-dec --frames "${KF[@]}" "$T/enc" | cmp - "$T/fr"
}
