#!/usr/bin/env bats
# make demo (SPEC §8): the whole job with real redis-server and sshd, and
# its promise to leave nothing behind, also when interrupted.

load test_helper

setup() {
	setup_tmp
	command -v redis-server >/dev/null || skip "redis-server is not installed"
	[ -x /usr/sbin/sshd ] || skip "sshd is not installed"
}

# leftovers: processes whose command line names the test's temp dir.
leftovers() { pgrep -af -- "$T/" | grep -v pgrep || true; }

@test "the demo carries a Redis snapshot both ways and proves it" {
	run env TMPDIR="$T" DEMO_KEYS=4000 bash "$TOP/demo/demo.sh"
	assert_success
	assert_line --partial '==> wrote 4000 keys (strings, hashes, lists, sets)'
	assert_line --partial 'same keys and same DEBUG DIGEST: the snapshot arrived intact'
	assert_line --partial 'same keys and same DEBUG DIGEST again'
	assert_line --regexp '^==> .*rcp-quic-send -> rcp-quic-recv .* bytes in [0-9.]+ s, [0-9.]+ MiB/s$'
	assert_line --regexp "^==> rcp-launch --pull .* bytes in [0-9.]+ s, [0-9.]+ MiB/s$"
	run leftovers
	assert_output ''
	run ls -A "$T"
	assert_output ''
}

@test "an interrupted demo stops everything it started and says where" {
	TMPDIR="$T" DEMO_KEYS=4000 bash "$TOP/demo/demo.sh" >"$BATS_TEST_TMPDIR.out" 2>&1 &
	pid=$!
	for _ in $(seq 100); do
		grep -q 'wrote 4000 keys' "$BATS_TEST_TMPDIR.out" && break
		sleep 0.1
	done
	# SIGTERM: a background job of a script ignores SIGINT for good.
	kill -TERM "$pid"
	st=0
	wait "$pid" || st=$?
	[ "$st" -ne 0 ]
	grep -q '^demo: FAILED while ' "$BATS_TEST_TMPDIR.out"
	run leftovers
	assert_output ''
	run ls -A "$T"
	assert_output ''
}
