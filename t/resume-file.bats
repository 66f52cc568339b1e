#!/usr/bin/env bats
# rcp-quic-recv -o FILE --resume, the receiver's partial file (SPEC §5,
# rcp-quic-recv(1) RESUME): FILE.rcp-partial beside FILE, refused when
# anything else could have put it there, locked while in use, kept on
# failure, published as a normal -o is; and the normal -o's removal of a
# stale one.  The checks of the partial file come before any network:
# those tests connect to a port where nothing listens, which would fail
# with another message.

load test_helper
load quic_helper

setup() {
	quic_setup
	NOWHERE=(--connect 127.0.0.1:1 --pin "sha256:$(printf '%064d' 0)")
}

teardown() {
	quic_teardown
}

@test "--resume without -o: status 2, the reason and the usage" {
	run rcp-quic-recv --listen 127.0.0.1:0 --resume
	assert_failure 2
	assert_line --index 0 "rcp-quic-recv: --resume needs -o FILE"
	assert_line --index 1 --partial "usage: rcp-quic-recv"
}

@test "--resume with -o a device, a FIFO or a directory: status 2, nothing made" {
	[ "$(id -u)" -eq 0 ] || skip "needs root for mknod"
	mknod "$T/null" c 1 3
	mkfifo "$T/fifo"
	mkdir "$T/dir"
	run rcp-quic-recv "${NOWHERE[@]}" --resume -o "$T/null"
	assert_failure 2
	assert_output "rcp-quic-recv: --resume needs -o to name a regular file: $T/null: is a character device"
	run rcp-quic-recv "${NOWHERE[@]}" --resume -o "$T/fifo"
	assert_failure 2
	assert_output "rcp-quic-recv: --resume needs -o to name a regular file: $T/fifo: is a FIFO"
	run rcp-quic-recv "${NOWHERE[@]}" --resume -o "$T/dir"
	assert_failure 2
	assert_output "rcp-quic-recv: --resume needs -o to name a regular file: $T/dir: is a directory"
	[ -c "$T/null" ] && [ -p "$T/fifo" ]
	run find "$T" -name '*.rcp-partial'
	assert_output ""
}

@test "a symbolic link at the partial name is refused, never followed" {
	echo precious >"$T/victim"
	chmod 0644 "$T/victim"
	ln -s victim "$T/out.rcp-partial"
	run rcp-quic-recv "${NOWHERE[@]}" --resume -o "$T/out"
	assert_failure 1
	assert_output "rcp-quic-recv: $T/out.rcp-partial: is a symbolic link, not followed"
	# Neither appended to nor made 0600 through the link.
	assert_equal "$(stat -c %a:%s "$T/victim")" 644:9
	[ -L "$T/out.rcp-partial" ]
	[ ! -e "$T/out" ]
	# A dangling one is not created through either.
	ln -sf absent "$T/out.rcp-partial"
	run rcp-quic-recv "${NOWHERE[@]}" --resume -o "$T/out"
	assert_failure 1
	assert_output "rcp-quic-recv: $T/out.rcp-partial: is a symbolic link, not followed"
	[ ! -e "$T/absent" ]
}

@test "a directory, a FIFO, another user's file or a second link at the partial name: refused" {
	mkdir "$T/out.rcp-partial"
	run rcp-quic-recv "${NOWHERE[@]}" --resume -o "$T/out"
	assert_failure 1
	assert_output "rcp-quic-recv: $T/out.rcp-partial: is a directory, not a regular file"
	rmdir "$T/out.rcp-partial"
	mkfifo "$T/out.rcp-partial"
	run timeout 10 rcp-quic-recv "${NOWHERE[@]}" --resume -o "$T/out"
	assert_failure 1
	assert_output "rcp-quic-recv: $T/out.rcp-partial: is a FIFO, not a regular file"
	rm "$T/out.rcp-partial"
	echo theirs >"$T/out.rcp-partial"
	ln "$T/out.rcp-partial" "$T/second-name"
	run rcp-quic-recv "${NOWHERE[@]}" --resume -o "$T/out"
	assert_failure 1
	assert_output "rcp-quic-recv: $T/out.rcp-partial: has 2 links, not 1"
	rm "$T/second-name"
	[ "$(id -u)" -eq 0 ] || skip "needs root for chown"
	chown nobody "$T/out.rcp-partial"
	chmod 0644 "$T/out.rcp-partial"
	run rcp-quic-recv "${NOWHERE[@]}" --resume -o "$T/out"
	assert_failure 1
	assert_output "rcp-quic-recv: $T/out.rcp-partial: owned by nobody, not by root"
	assert_equal "$(stat -c %U:%a:%s "$T/out.rcp-partial")" nobody:644:7
	[ ! -e "$T/out" ]
}

# locked FILE: another process holds flock(1)'s lock on FILE (created if
# missing) until the test ends.
locked() {
	flock --no-fork "$1" sh -c 'echo locked; exec sleep 60' >"$T/flock.out" &
	PIDS+=($!)
	local i
	for ((i = 0; i < 100; i++)); do
		[ -s "$T/flock.out" ] && return 0
		sleep 0.1
	done
	return 1
}

@test "a partial file another transfer holds (flock) is refused, untouched" {
	printf 'abc' >"$T/out.rcp-partial"
	chmod 0600 "$T/out.rcp-partial"
	locked "$T/out.rcp-partial"
	run rcp-quic-recv "${NOWHERE[@]}" --resume -o "$T/out"
	assert_failure 1
	assert_output "rcp-quic-recv: $T/out.rcp-partial: in use by another transfer"
	assert_equal "$(cat "$T/out.rcp-partial")" abc
}

@test "an unreadable partial file: status 1 and why" {
	local as_user=()
	# Root reads any file, unless it gives up the capabilities to.
	[ "$(id -u)" -ne 0 ] ||
	    as_user=(setpriv --bounding-set -dac_override,-dac_read_search)
	printf 'abc' >"$T/out.rcp-partial"
	chmod 0200 "$T/out.rcp-partial"
	run "${as_user[@]}" rcp-quic-recv "${NOWHERE[@]}" --resume -o "$T/out"
	assert_failure 1
	assert_output "rcp-quic-recv: $T/out.rcp-partial: Permission denied"
	assert_equal "$(stat -c %a:%s "$T/out.rcp-partial")" 200:3
}

@test "a failure keeps the partial file, made 0600, and says so; an empty one is not kept" {
	printf 'abc' >"$T/out.rcp-partial"
	chmod 0644 "$T/out.rcp-partial"
	run rcp-quic-recv "${NOWHERE[@]}" --resume -o "$T/out"
	assert_failure 1
	assert_output - <<-EOF
	rcp-quic-recv: 127.0.0.1:1: connection refused (nothing listening?)
	rcp-quic-recv: kept 3 bytes in $T/out.rcp-partial; run again with --resume to continue
	EOF
	assert_equal "$(stat -c %a:%s "$T/out.rcp-partial")" 600:3
	[ ! -e "$T/out" ]
	# Nothing received, nothing there before: nothing to resume from.
	rm "$T/out.rcp-partial"
	run rcp-quic-recv "${NOWHERE[@]}" --resume -o "$T/out"
	assert_failure 1
	assert_output "rcp-quic-recv: 127.0.0.1:1: connection refused (nothing listening?)"
	run ls -A "$T"
	assert_output ""
}

@test "-o a symbolic link with --resume: the partial file is beside the link's final target" {
	mkdir "$T/data"
	ln -s data/dump.rdb "$T/link"
	ln -s link "$T/link2"
	printf 'abc' >"$T/data/dump.rdb.rcp-partial"
	run rcp-quic-recv "${NOWHERE[@]}" --resume -o "$T/link2"
	assert_failure 1
	assert_line --index 1 "rcp-quic-recv: kept 3 bytes in $T/data/dump.rdb.rcp-partial; run again with --resume to continue"
	[ -L "$T/link" ] && [ -L "$T/link2" ]
	[ ! -e "$T/link.rcp-partial" ] && [ ! -e "$T/link2.rcp-partial" ]
}

@test "--resume, nothing kept yet: the whole stream, published as -o publishes it" {
	[ "$(id -u)" -eq 0 ] || skip "needs root for chown"
	random_file "$T/in" 3000000
	mkdir "$T/data"
	echo old >"$T/data/dump.rdb"
	chown nobody:nogroup "$T/data/dump.rdb"
	chmod 0640 "$T/data/dump.rdb"
	ln -s data/dump.rdb "$T/link"
	bg r rcp-quic-recv --listen 127.0.0.1:0 --ready-fd 3 --resume -o "$T/link"
	wait_ready r
	run rcp-quic-send --connect "$ADDR" --pin "$PIN" "$T/in" 3>&-
	assert_success
	wait_exit r
	[ "$r_rc" -eq 0 ]
	cmp "$T/in" "$T/data/dump.rdb"
	assert_equal "$(stat -c %U:%G:%a "$T/data/dump.rdb")" nobody:nogroup:640
	[ -L "$T/link" ]
	run ls -A "$T/data"
	assert_output "dump.rdb"
}

# resume_under_way: a --resume transfer into $T/out under way, the
# sender's input a FIFO held open ($T/stream's 1 MB, then nothing); r
# and s started (bg) with RECV_OPTS among the receiver's options;
# returns once the partial file has grown.  A non-interactive shell starts background
# jobs with SIGINT ignored: env gives it back.
resume_under_way() {
	random_file "$T/stream" 1000000
	mkfifo "$T/fifo"
	bg r env --default-signal=INT rcp-quic-recv --listen 127.0.0.1:0 \
	    --ready-fd 3 ${RECV_OPTS:-} --resume -o "$T/out"
	wait_ready r
	bg s rcp-quic-send --connect "$ADDR" --pin "$PIN" "$T/fifo"
	{ cat "$T/stream"; exec sleep 30; } >"$T/fifo" 3>&- &
	PIDS+=($!)
	local i
	for ((i = 0; i < 100; i++)); do
		[ "$(stat -c %s "$T/out.rcp-partial" 2>/dev/null || echo 0)" -gt 100000 ] &&
		    return 0
		sleep 0.1
	done
	return 1
}

# kept_is_prefix: $T/out.rcp-partial holds the first bytes of the
# sender's input, mode 0600, and FILE was never published.
kept_is_prefix() {
	local n
	n=$(stat -c %s "$T/out.rcp-partial")
	[ "$n" -gt 0 ]
	cmp <(head -c "$n" "$T/stream") "$T/out.rcp-partial"
	assert_equal "$(stat -c %a "$T/out.rcp-partial")" 600
	[ ! -e "$T/out" ]
	KEPT=$n
}

@test "sender killed mid-transfer: the partial file keeps a prefix of the stream" {
	RECV_OPTS="--idle-timeout 2" resume_under_way
	{ kill -9 "$s_pid"; wait "$s_pid"; } 2>/dev/null || true
	wait_exit r 15
	[ "$r_rc" -eq 1 ]
	kept_is_prefix
	run tail -1 "$T/r.err"
	assert_output "rcp-quic-recv: kept $KEPT bytes in $T/out.rcp-partial; run again with --resume to continue"
}

@test "SIGTERM on the receiver: it dies of it, keeps the partial file and says so" {
	resume_under_way
	kill -TERM "$r_pid"
	wait_exit r 5
	[ "$r_rc" -eq 143 ]
	kept_is_prefix
	run tail -1 "$T/r.err"
	assert_output "rcp-quic-recv: kept $KEPT bytes in $T/out.rcp-partial; run again with --resume to continue"
	wait_exit s 5
	[ "$s_rc" -eq 1 ]
}

@test "SIGKILL on the receiver: what it wrote is in the partial file all the same" {
	resume_under_way
	{ kill -9 "$r_pid"; wait "$r_pid"; } 2>/dev/null || true
	kept_is_prefix
}

# stale_partial: a partial file of ours left by an earlier --resume run.
stale_partial() {
	printf 'stale' >"$T/out.rcp-partial"
	chmod 0600 "$T/out.rcp-partial"
}

# transfer_to_out: a normal -o transfer of $T/in into $T/out, both ends
# succeeding.
transfer_to_out() {
	bg r rcp-quic-recv --listen 127.0.0.1:0 --ready-fd 3 -o "$T/out"
	wait_ready r
	run rcp-quic-send --connect "$ADDR" --pin "$PIN" "$T/in" 3>&-
	assert_success
	wait_exit r
	[ "$r_rc" -eq 0 ]
	cmp "$T/in" "$T/out"
}

@test "a normal -o publish removes a stale partial file of ours, unless a transfer holds it" {
	random_file "$T/in" 300000
	stale_partial
	transfer_to_out
	[ ! -e "$T/out.rcp-partial" ]
	# Held by a live --resume run (here flock(1)): kept.
	stale_partial
	locked "$T/out.rcp-partial"
	transfer_to_out
	assert_equal "$(cat "$T/out.rcp-partial")" stale
}

@test "a normal -o that fails leaves a stale partial file where it is" {
	stale_partial
	mkdir "$T/dir"
	bg r rcp-quic-recv --listen 127.0.0.1:0 --ready-fd 3 -o "$T/out"
	wait_ready r
	# A directory opens, then read(2) fails with EISDIR.
	run rcp-quic-send --connect "$ADDR" --pin "$PIN" "$T/dir" 3>&-
	assert_failure 1
	wait_exit r
	[ "$r_rc" -eq 1 ]
	[ ! -e "$T/out" ]
	assert_equal "$(cat "$T/out.rcp-partial")" stale
}

@test "a normal -o publish leaves alone what it did not make at the partial name" {
	random_file "$T/in" 300000
	# Another user's file, a symbolic link, a directory.
	if [ "$(id -u)" -eq 0 ]; then
		stale_partial
		chown nobody "$T/out.rcp-partial"
		transfer_to_out
		assert_equal "$(stat -c %U "$T/out.rcp-partial")" nobody
		rm "$T/out.rcp-partial"
	fi
	stale_partial
	mv "$T/out.rcp-partial" "$T/target"
	ln -s target "$T/out.rcp-partial"
	transfer_to_out
	[ -L "$T/out.rcp-partial" ]
	assert_equal "$(cat "$T/target")" stale
	rm "$T/out.rcp-partial"
	mkdir "$T/out.rcp-partial"
	transfer_to_out
	[ -d "$T/out.rcp-partial" ]
}

@test "entropy-unframe -o removes a stale partial file too: FILE is whole" {
	random_file "$T/data" 100000
	stale_partial
	entropy-frame "$T/data" | entropy-unframe -o "$T/out"
	cmp "$T/data" "$T/out"
	[ ! -e "$T/out.rcp-partial" ]
}

@test "an empty -o is refused before listening, with --resume or not, and creates nothing" {
	cd "$T"
	run rcp-quic-recv --listen 127.0.0.1:0 -o ''
	assert_failure 2
	assert_line 'rcp-quic-recv: empty output file name'
	run rcp-quic-recv --listen 127.0.0.1:0 --resume -o ''
	assert_failure 2
	assert_line 'rcp-quic-recv: --resume needs -o to name a regular file: empty output file name'
	run ls -A "$T"
	assert_output ''
}
