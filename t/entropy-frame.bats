#!/usr/bin/env bats
# entropy-frame: header layout, chunking, inputs, limits, usage errors.

load test_helper
load stream_helper

setup() { setup_tmp; }

@test "default headers and one chunk match hand-computed bytes" {
	printf 'hello' >"$T/in"
	run entropy-frame "$T/in"
	assert_success
	entropy-frame "$T/in" | xxd -p | tr -d '\n' >"$T/got"
	{
		printf '%s' 64640001 00000001 00000400 00004000 00004400
		printf '%s' 00000005 00000000
		zeros 1016
		printf '%s' 00000005 68656c6c6f
	} >"$T/want"
	diff -u <(fold -w 64 "$T/want") <(fold -w 64 "$T/got")
}

@test "-H 8 -b 16 -c 32 chunks 20 bytes as 16 + 4" {
	printf '0123456789abcdefWXYZ' >"$T/in"
	entropy-frame -H 8 -b 16 -c 32 "$T/in" | xxd -p | tr -d '\n' >"$T/got"
	{
		neg 0x64640001 1 8 16 32
		snap 20 0 8
		chunk 30313233343536373839616263646566
		chunk 5758595a
	} >"$T/want"
	diff -u <(fold -w 64 "$T/want") <(fold -w 64 "$T/got")
}

@test "--magic dynomite writes 64640001 in decimal (0x03da5401)" {
	printf 'x' >"$T/in"
	entropy-frame --magic dynomite "$T/in" >"$T/s"
	run bash -c "head -c 4 '$T/s' | xxd -p"
	assert_output '03da5401'
	entropy-frame --magic seed "$T/in" >"$T/s"
	run bash -c "head -c 4 '$T/s' | xxd -p"
	assert_output '64640001'
}

@test "default cipher_size is buffer_size + 1024, capped at 5242880" {
	: >"$T/in"
	run bash -c "entropy-frame -b 1000 '$T/in' | entropy-unframe --inspect"
	assert_success
	assert_line 'cipher_size=2024'
	run bash -c "entropy-frame -b 5242000 '$T/in' | entropy-unframe --inspect"
	assert_line 'cipher_size=5242880'
}

@test "empty input: headers only, no chunks" {
	: >"$T/in"
	entropy-frame -H 8 "$T/in" | xxd -p | tr -d '\n' >"$T/got"
	{ neg 0x64640001 1 8 16384 17408; snap 0 0 8; } >"$T/want"
	diff -u "$T/want" "$T/got"
}

@test "round trips at chunk boundaries: 0, 1, M-1, M, M+1, many chunks" {
	for m in 1 7 4096 16384; do
		for n in 0 1 $((m - 1)) $m $((m + 1)) $((m * 9 + 3)); do
			random_file "$T/in" "$n"
			entropy-frame -b "$m" "$T/in" >"$T/s"
			entropy-unframe "$T/s" >"$T/out"
			cmp "$T/in" "$T/out"
			run entropy-unframe --inspect "$T/s"
			assert_line "total_len=$n"
			assert_line "chunks=$(( (n + m - 1) / m ))"
		done
	done
}

@test "odd sizes: -H 9 -b 3 -c 4, and the largest buffer_size" {
	random_file "$T/in" 1000
	entropy-frame -H 9 -b 3 -c 4 "$T/in" | entropy-unframe >"$T/out"
	cmp "$T/in" "$T/out"
	random_file "$T/in" $((6 * 1024 * 1024))
	entropy-frame -b 5242879 "$T/in" | entropy-unframe >"$T/out"
	cmp "$T/in" "$T/out"
}

@test "chunk lengths: full chunks of M and a shorter last one" {
	random_file "$T/in" 10000
	run bash -c "entropy-frame -b 4096 '$T/in' | entropy-unframe --inspect"
	assert_success
	assert_line 'chunks=3'
	assert_line 'max_chunk=4096'
	assert_line 'min_chunk=1808'
}

@test "a pipe without -s is spooled, so total_len is known" {
	random_file "$T/in" 100000
	run_pipe "cat '$T/in' | entropy-frame | entropy-unframe --inspect"
	assert_success
	assert_line 'total_len=100000'
	cat "$T/in" | entropy-frame | entropy-unframe >"$T/out"
	cmp "$T/in" "$T/out"
}

@test "a pipe with -s streams and is checked against the declared size" {
	random_file "$T/in" 100000
	cat "$T/in" | entropy-frame -s 100000 | entropy-unframe >"$T/out"
	cmp "$T/in" "$T/out"
	run_pipe "cat '$T/in' | entropy-frame -s 100001 >'$T/s'"
	assert_failure 3
	assert_output 'entropy-frame: input ended early: 100000 of 100001 bytes'
	run_pipe "cat '$T/in' | entropy-frame -s 99999 >'$T/s'"
	assert_failure 3
	assert_output 'entropy-frame: input continues past 99999 bytes'
}

@test "-s accepts a size suffix" {
	head -c 2048 /dev/zero | entropy-frame -s 2K | entropy-unframe --inspect >"$T/i"
	grep -qx 'total_len=2048' "$T/i"
}

@test "input over 4294967294 bytes is refused before anything is written" {
	truncate -s 4294967295 "$T/big" || skip "no sparse files here"
	run bash -c "entropy-frame '$T/big' >'$T/out'"
	assert_failure 3
	assert_output --partial "4294967295 bytes: over the format's limit of 4294967294 bytes"
	[ ! -s "$T/out" ]
}

@test "input of exactly 4294967294 bytes is accepted (header check only)" {
	truncate -s 4294967294 "$T/big" || skip "no sparse files here"
	run bash -c "entropy-frame -b 5242879 '$T/big' 2>/dev/null | head -c 28 | xxd -p | tr -d '\n'"
	assert_success
	assert_output --partial 'fffffffe00000000'
}

@test "sizes take k, m, g in either case, and the KiB forms" {
	local b
	# The headers of an empty stream: the same as with -b 65536.
	for b in 64k 64K 64KiB 64kib 65536; do
		run bash -c "entropy-frame -b $b </dev/null | xxd -p | head -c 32"
		assert_success
		assert_output '64640001000000010000040000010000'
	done
	run bash -c "head -c 3 /dev/zero | entropy-frame -s 1m >/dev/null"
	assert_failure 3
	assert_output 'entropy-frame: input ended early: 3 of 1048576 bytes'
}

@test "usage errors exit 2 and name the option" {
	run entropy-frame -b 0
	assert_failure 2
	assert_output 'entropy-frame: -b 0: must be 1..5242879 bytes'
	run entropy-frame -b 5242880
	assert_failure 2
	assert_output 'entropy-frame: -b 5242880: must be 1..5242879 bytes'
	run entropy-frame -H 7
	assert_failure 2
	assert_output 'entropy-frame: -H 7: must be 8..1024 bytes'
	run entropy-frame -H 1025
	assert_failure 2
	run entropy-frame -b 100 -c 100
	assert_failure 2
	assert_output 'entropy-frame: -c 100: must be greater than -b 100'
	run entropy-frame -c 5242881
	assert_failure 2
	run entropy-frame -b 12x
	assert_failure 2
	assert_output 'entropy-frame: -b 12x: not a size: a byte count, or one with k, m or g (KiB, MiB, GiB: powers of 1024)'
	run entropy-frame -b 16KB
	assert_failure 2
	assert_output 'entropy-frame: -b 16KB: not a size: a byte count, or one with k, m or g (KiB, MiB, GiB: powers of 1024)'
	run entropy-frame -s 5g
	assert_failure 2
	assert_output 'entropy-frame: -s 5g: must be 0..4294967294 bytes'
	run entropy-frame --magic other
	assert_failure 2
	assert_line --index 0 'entropy-frame: --magic: must be seed or dynomite'
	run entropy-frame -s -1
	assert_failure 2
	run entropy-frame a b
	assert_failure 2
	assert_line --index 0 'entropy-frame: at most one FILE'
	run entropy-frame --bogus
	assert_failure 2
}

@test "a missing input file is an operational failure (1)" {
	run entropy-frame "$T/nope"
	assert_failure 1
	assert_output "entropy-frame: $T/nope: No such file or directory"
}

@test "a full output device is reported (1)" {
	random_file "$T/in" 100000
	run bash -c "entropy-frame '$T/in' >/dev/full"
	assert_failure 1
	# The output it is about, not the input.
	assert_output 'entropy-frame: stdout: write error: No space left on device'
}

@test "a closed output pipe is reported, not silent" {
	random_file "$T/in" 5000000
	run bash -c "entropy-frame '$T/in' | head -c 10 >/dev/null; echo \${PIPESTATUS[0]}"
	assert_line --index 0 'entropy-frame: stdout: write error: Broken pipe'
	assert_line 1
}

@test "-h prints usage on stdout, -V the version" {
	run entropy-frame -h
	assert_success
	assert_output --partial 'usage: entropy-frame'
	run entropy-frame --version
	assert_success
	assert_output --regexp '^entropy-frame [0-9]+\.[0-9]+\.[0-9]+$'
}

@test "--progress draws on stderr and leaves stdout unchanged" {
	random_file "$T/in" 300000
	entropy-frame --progress "$T/in" >"$T/with" 2>"$T/err"
	entropy-frame "$T/in" >"$T/without"
	cmp "$T/with" "$T/without"
	grep -q '100.0%' "$T/err"
}
