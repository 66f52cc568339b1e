#!/usr/bin/env bats
# Secrets stay in the process: no core dump of a program that holds a
# key, and no TLS key log from an inherited SSLKEYLOGFILE.

load test_helper
load quic_helper
load ../scripts/throwaway-sshd

setup() {
	quic_setup
	random_file "$T/in" 300000
	aescbc-keygen "$T/key" "$T/iv"
	mkfifo "$T/fifo"
	# A writer that holds the fifo open: readers wait, holding keys.
	sleep 30 >"$T/fifo" 3>&- &
	PIDS+=($!)
}

teardown() {
	quic_teardown
}

# bg_core NAME CMD...: bg, with core dumps allowed as far as the shell goes.
bg_core() {
	local name=$1
	shift
	bg "$name" bash -c 'ulimit -c unlimited; exec "$@"' _ "$@"
}

# no_core PID: within 5 s of its start (under ASan a program takes a
# while to reach main), PID may write no core dump: its core size limit
# is 0.
no_core() {
	local i
	for ((i = 0; i < 50; i++)); do
		grep -Eq '^Max core file size +0 +0 ' "/proc/$1/limits" &&
		    return 0
		sleep 0.1
	done
	grep 'core' "/proc/$1/limits" >&2
	return 1
}

@test "aescbc-enc and -dec allow no core dump while they hold the key" {
	local p
	for p in aescbc-enc aescbc-dec; do
		bg_core c "$p" --frames -k "$T/key" -i "$T/iv" "$T/fifo"
		run no_core "$c_pid"
		assert_success
		{ kill -9 "$c_pid"; wait "$c_pid"; } 2>/dev/null || true
	done
}

@test "rcp-quic-send, rcp-quic-recv and rcp-launch allow no core dump" {
	bg_core s rcp-quic-send --listen 127.0.0.1:0 --ready-fd 3 "$T/in"
	bg_core r rcp-quic-recv --listen 127.0.0.1:0 --ready-fd 3
	wait_ready s
	wait_ready r
	run no_core "$s_pid"
	assert_success
	run no_core "$r_pid"
	assert_success
	sshd_start "$T"
	bg_core l rcp-launch testhost "sleep 5"
	run no_core "$l_pid"
	assert_success
	{ kill -9 "$l_pid"; wait "$l_pid"; } 2>/dev/null || true
	sshd_stop
}

@test "an inherited SSLKEYLOGFILE is ignored; RCP_QUIC_KEYLOGFILE is a 0600 key log" {
	bg r env SSLKEYLOGFILE="$T/inherited.r" rcp-quic-recv --listen 127.0.0.1:0 --ready-fd 3 -o "$T/out"
	wait_ready r
	run env SSLKEYLOGFILE="$T/inherited.s" rcp-quic-send --connect "$ADDR" --pin "$PIN" "$T/in" 3>&-
	assert_success
	wait_exit r
	[ "$r_rc" -eq 0 ]
	assert_file_not_exists "$T/inherited.r"
	assert_file_not_exists "$T/inherited.s"
	# Asked for by name, it is written, and only its owner may read it.
	bg r env RCP_QUIC_KEYLOGFILE="$T/asked" rcp-quic-recv --listen 127.0.0.1:0 --ready-fd 3 -o "$T/out2"
	wait_ready r
	run rcp-quic-send --connect "$ADDR" --pin "$PIN" "$T/in" 3>&-
	assert_success
	wait_exit r
	[ "$r_rc" -eq 0 ]
	grep -q '^CLIENT_HANDSHAKE_TRAFFIC_SECRET ' "$T/asked"
	[ "$(stat -c %a "$T/asked")" = 600 ]
}
