#!/usr/bin/env bats
# Unit tests of pure library functions, written in C (t/unit/*.c, built
# by make check into build/t/): each prints its failures and a count.

load test_helper

@test "rcp-launch's exit-status policy: the table and the sweep" {
	run "$TOP/build/t/launch_verdict"
	assert_success
	assert_output --regexp '^[0-9]+ checks, 0 failed$'
}

@test "rcp-launch's ssh_config lookup: patterns, Host, Match, Include" {
	setup_tmp
	run "$TOP/build/t/ssh_config" "$T"
	assert_success
	assert_output --regexp '^[0-9]+ checks, 0 failed$'
}

@test "the socket-buffer warning's policy: what each path needs, word for word" {
	run "$TOP/build/t/sockbuf_advice"
	assert_success
	assert_output --regexp '^[0-9]+ checks, 0 failed$'
}

@test "a striped stream's receiver: blocks back in order, every malformed stream its message" {
	run "$TOP/build/t/stripe_recv"
	assert_success
	assert_output --regexp '^[0-9]+ checks, 0 failed$'
}

@test "atomic_out's partial mode: kept, appended to, published as -o publishes" {
	setup_tmp
	run "$TOP/build/t/atomic_partial" "$T"
	assert_success
	refute_line --partial FAIL
	assert_line --regexp '^[0-9]+ checks, 0 failed$'
}

@test "--resume's digest of a partial file: sha256sum's, for every prefix length" {
	setup_tmp
	# Across the 1 MiB read size: short of it, on it, past it, two of it.
	random_file "$T/partial" $((2 * 1048576 + 17))
	local len
	for len in 0 1 1048575 1048576 1048577 2097152 2097169; do
		run "$TOP/build/t/resume_digest" "$T/partial" "$len"
		assert_success
		assert_output "$(head -c "$len" "$T/partial" | sha256sum | cut -d' ' -f1)"
	done
	run "$TOP/build/t/resume_digest" "$T/partial" 2097170
	assert_failure 1
	assert_output "error 1: partial output: ends at byte 2097169, before 2097170"
}
