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
