#!/usr/bin/env bats
# aescbc-keygen (SPEC §4): fresh key and IV files, mode 0600, every form
# loads back, nothing is overwritten without --force.

load test_helper

setup() {
	setup_tmp
}

mode_of() { stat -c %a "$1"; }

# hex_of FORMAT FILE: the 16 bytes of a key file, as 32 hex digits.
hex_of() {
	case $1 in
	raw) head -c 16 "$2" | xxd -p ;;
	hex) head -n 1 "$2" ;;
	pem) sed '1d;$d' "$2" | base64 -d | xxd -p ;;
	esac
}

# Encrypting with the files gives what openssl gives with their bytes.
check_loads_back() {
	local fmt=$1
	random_file "$T/in" 1000
	aescbc-enc -k "$T/key" -i "$T/iv" "$T/in" >"$T/ours"
	openssl enc -aes-128-cbc -K "$(hex_of "$fmt" "$T/key")" \
	    -iv "$(hex_of "$fmt" "$T/iv")" -in "$T/in" | cmp - "$T/ours"
}

@test "default: hex, one line of 32 lowercase digits, mode 0600" {
	run aescbc-keygen "$T/key" "$T/iv"
	assert_success
	assert_output ''
	for f in key iv; do
		assert_equal "$(mode_of "$T/$f")" 600
		assert_equal "$(wc -c <"$T/$f")" 33
		grep -Eqx '[0-9a-f]{32}' "$T/$f"
	done
	check_loads_back hex
}

@test "--format raw: 16 bytes and a newline, loads back (no newline inside)" {
	# Raw bytes may not contain \n, \r or NUL: try several keys.
	for i in 1 2 3 4 5 6 7 8; do
		rm -f "$T/key" "$T/iv"
		aescbc-keygen --format raw "$T/key" "$T/iv"
		assert_equal "$(mode_of "$T/key")" 600
		assert_equal "$(wc -c <"$T/key")" 17
		assert_equal "$(head -c 16 "$T/key" | tr -d '\n\r\0' | wc -c)" 16
		check_loads_back raw
	done
}

@test "--format pem: a PEM block of 16 bytes, loads back" {
	aescbc-keygen --format pem "$T/key" "$T/iv"
	assert_equal "$(mode_of "$T/key")" 600
	assert_equal "$(head -n 1 "$T/key")" '-----BEGIN AES-128 KEY-----'
	assert_equal "$(tail -n 1 "$T/key")" '-----END AES-128 KEY-----'
	assert_equal "$(head -n 1 "$T/iv")" '-----BEGIN AES-128 IV-----'
	check_loads_back pem
}

@test "fresh material every time, key and IV differ" {
	aescbc-keygen "$T/k1" "$T/i1"
	aescbc-keygen "$T/k2" "$T/i2"
	refute [ "$(cat "$T/k1")" = "$(cat "$T/k2")" ]
	refute [ "$(cat "$T/k1")" = "$(cat "$T/i1")" ]
}

@test "mode 0600 whatever the umask" {
	umask 000
	aescbc-keygen "$T/key" "$T/iv"
	assert_equal "$(mode_of "$T/key")" 600
	assert_equal "$(mode_of "$T/iv")" 600
}

@test "an existing file is never overwritten without --force (2)" {
	echo old >"$T/key"
	run aescbc-keygen "$T/key" "$T/iv"
	assert_failure 2
	assert_output "aescbc-keygen: $T/key: file exists (use --force to replace it)"
	assert_equal "$(cat "$T/key")" old
	# Nothing half made: the IV was not written either.
	assert_file_not_exist "$T/iv"
	rm "$T/key"
	echo old >"$T/iv"
	run aescbc-keygen "$T/key" "$T/iv"
	assert_failure 2
	assert_output "aescbc-keygen: $T/iv: file exists (use --force to replace it)"
	assert_file_not_exist "$T/key"
	assert_equal "$(cat "$T/iv")" old
	# A dangling symlink counts as existing, and is not followed.
	ln -s "$T/elsewhere" "$T/link"
	run aescbc-keygen "$T/link" "$T/iv2"
	assert_failure 2
	assert_file_not_exist "$T/elsewhere"
	# No temporary files left behind.
	assert_equal "$(ls -A "$T" | grep -c aescbc-keygen || true)" 0
}

@test "--force replaces, and the result is still mode 0600" {
	echo old >"$T/key"
	echo old >"$T/iv"
	chmod 644 "$T/key" "$T/iv"
	run aescbc-keygen --force --format pem "$T/key" "$T/iv"
	assert_success
	assert_equal "$(mode_of "$T/key")" 600
	assert_equal "$(mode_of "$T/iv")" 600
	check_loads_back pem
	assert_equal "$(ls -A "$T" | grep -c aescbc-keygen || true)" 0
}

@test "errors: bad --format, missing operands, same file twice, no directory" {
	run aescbc-keygen --format base64 "$T/key" "$T/iv"
	assert_failure 2
	assert_line --index 0 'aescbc-keygen: --format: must be raw, hex or pem'
	run aescbc-keygen "$T/key"
	assert_failure 2
	assert_line --index 0 'aescbc-keygen: KEYFILE and IVFILE are required'
	run aescbc-keygen "$T/key" "$T/key"
	assert_failure 2
	assert_line --index 0 'aescbc-keygen: KEYFILE and IVFILE must be different files'
	run aescbc-keygen "$T/no/key" "$T/iv"
	assert_failure 1
	assert_output "aescbc-keygen: $T/no/key: cannot create temporary file: No such file or directory"
	assert_file_not_exist "$T/iv"
}

@test "-h and -V" {
	run aescbc-keygen -h
	assert_success
	assert_line --index 0 'usage: aescbc-keygen [--format raw|hex|pem] [-f | --force] KEYFILE IVFILE'
	assert_line --regexp '^  -f, --force +replace existing files$'
	run aescbc-keygen -V
	assert_success
	assert_output 'aescbc-keygen 0.1.0'
}
