#!/usr/bin/env bats
# Programs started with stdin or stdout closed (`<&-`, `>&-`): the next
# file or socket they open must never take that descriptor's place, so
# they fail as cat(1) does (EBADF), never read a socket as input, write
# data into one, or hang.

load test_helper
load quic_helper
load ../scripts/throwaway-sshd

setup() {
	quic_setup
	random_file "$T/in" 200000
	entropy-frame "$T/in" >"$T/in.entropy"
	aescbc-keygen "$T/key" "$T/iv"
}

teardown() {
	quic_teardown
}

@test "filters with stdout closed: status 1, EBADF, nothing published" {
	run bash -c 'entropy-frame "$1" >&-' _ "$T/in"
	assert_failure 1
	assert_output 'entropy-frame: stdout: write error: Bad file descriptor'
	run bash -c 'entropy-unframe "$1" >&-' _ "$T/in.entropy"
	assert_failure 1
	assert_output --partial 'write error: Bad file descriptor'
	for p in aescbc-enc aescbc-dec; do
		run bash -c '"$1" -k "$2" -i "$3" "$4" >&-' _ "$p" "$T/key" \
		    "$T/iv" "$T/in"
		assert_failure
		assert_output --partial 'Bad file descriptor'
	done
}

@test "filters with stdin closed: status 1, EBADF, nothing published" {
	run bash -c 'entropy-frame <&-'
	assert_failure 1
	assert_output 'entropy-frame: read error after 0 bytes: Bad file descriptor'
	run bash -c 'entropy-unframe -o "$1" <&-' _ "$T/out"
	assert_failure 1
	assert_output 'entropy-unframe: read error at offset 0: Bad file descriptor'
	assert_file_not_exists "$T/out"
	run bash -c 'aescbc-enc -k "$1" -i "$2" <&-' _ "$T/key" "$T/iv"
	assert_failure 1
	assert_output --partial 'read error after 0 bytes: Bad file descriptor'
}

@test "rcp-quic-recv with stdout closed fails, and so does its sender" {
	bg r bash -c 'exec rcp-quic-recv --listen 127.0.0.1:0 --ready-fd 3 \
	    --accept-timeout 20 >&-'
	wait_ready r
	run rcp-quic-send --connect "$ADDR" --pin "$PIN" "$T/in" 3>&-
	assert_failure 1
	wait_exit r 20
	[ "$r_rc" -eq 1 ]
	grep -q 'Bad file descriptor' "$T/r.err"
}

@test "rcp-quic-send with stdin closed fails, and so does its receiver" {
	bg r rcp-quic-recv --listen 127.0.0.1:0 --ready-fd 3 --accept-timeout 20 -o "$T/out"
	wait_ready r
	run bash -c 'rcp-quic-send --connect "$1" --pin "$2" 3>&- <&-' _ \
	    "$ADDR" "$PIN"
	assert_failure 1
	assert_output --partial 'Bad file descriptor'
	wait_exit r 20
	[ "$r_rc" -eq 1 ]
	assert_file_not_exists "$T/out"
}

@test "rcp-launch with stdin closed ends, never hangs" {
	sshd_start "$T"
	run timeout 20 bash -c 'rcp-launch testhost true <&-'
	sshd_stop
	[ "$status" -ne 124 ]
	assert_output --partial 'Bad file descriptor'
}
