#!/usr/bin/env bats
# rcp-quic-recv -o FILE --resume: a transfer cut short (a killed sender,
# a killed receiver, a dropped link) goes on from what the partial file
# holds; a changed source is refused with status 3 and nothing is
# published (issue 15; the RESUME sections of rcp-quic-recv(1) and
# rcp-quic-send(1)).

load test_helper
load quic_helper

SIZE=100000000

setup() {
	quic_setup
	PART="$T/out.rcp-partial"
}

teardown() {
	quic_teardown
	if [ -n "${LINK:-}" ]; then
		"$TOP/bench/netlink.sh" down "$LINK" >/dev/null 2>&1 || true
	fi
}

# size_of PATH: its size in bytes, 0 when it is not there.
size_of() {
	stat -c %s "$1" 2>/dev/null || echo 0
}

# wait_partial BYTES: waits (20 s at most) until the partial file holds
# at least BYTES.
wait_partial() {
	local i
	for ((i = 0; i < 400; i++)); do
		[ "$(size_of "$PART")" -ge "$1" ] && return 0
		sleep 0.05
	done
	echo "the partial file stayed at $(size_of "$PART") bytes" >&2
	return 1
}

# sender_cmd SRC ARGS: the shell command of a sender reading $T/in as a
# regular file (SRC empty), or what the shell command SRC prints.
sender_cmd() {
	if [ -z "$1" ]; then
		echo "exec rcp-quic-send $2 < '$T/in'"
	else
		echo "$1 | exec rcp-quic-send $2"
	fi
}

# cut_run WHO BYTES [SRC]: a paced transfer of $T/in (or of what the
# shell command SRC prints) into $T/out with --resume, and WHO
# (sender or receiver) killed by SIGKILL once the partial file holds
# BYTES.  The survivor fails; nothing is published; the partial is kept.
cut_run() {
	local who=$1 at=$2 src=${3:-}
	rm -f "$T"/r.ready "$T"/s.ready
	bg r rcp-quic-recv --listen 127.0.0.1:0 --ready-fd 3 --resume \
	    -o "$T/out"
	wait_ready r
	bg s bash -c "$(sender_cmd "$src" "--connect '$ADDR' --pin '$PIN' \
	    --limit-rate 40M")"
	wait_partial "$at"
	if [ "$who" = sender ]; then
		pkill -9 -P "$s_pid" -x rcp-quic-send || kill -9 "$s_pid"
		wait_exit r
		[ "$r_rc" -ne 0 ]
		grep -q "kept [0-9]* bytes in $PART" "$T/r.err"
	else
		kill -9 "$r_pid"
		wait_exit s
		[ "$s_rc" -ne 0 ]
	fi
	wait_exit s 5
	wait_exit r 5
	[ ! -e "$T/out" ]
	[ "$(size_of "$PART")" -ge "$at" ]
}

# resume_run [SRC]: the transfer again with --resume, to
# the end; checks that the sender skipped what the partial held and sent
# only the rest, and that out is the input.
resume_run() {
	local src=${1:-} had
	had=$(size_of "$PART")
	rm -f "$T"/r.ready
	bg r rcp-quic-recv --listen 127.0.0.1:0 --ready-fd 3 --resume \
	    --stats -o "$T/out"
	wait_ready r
	run_pipe "$(sender_cmd "$src" "--connect '$ADDR' --pin '$PIN' --stats") 3>&-"
	assert_success
	assert_output --regexp "bytes=$((SIZE - had)) .* skipped=$had$"
	wait_exit r
	[ "$r_rc" -eq 0 ]
	grep -q "bytes=$((SIZE - had)) .* skipped=$had$" "$T/r.err"
	cmp "$T/in" "$T/out"
	[ ! -e "$PART" ]
}

@test "a killed sender, then a killed receiver, then the rest: the file is whole, each run sent only what was missing" {
	random_file "$T/in" "$SIZE"
	cut_run sender 30000000
	local first
	first=$(size_of "$PART")
	cut_run receiver 60000000
	[ "$(size_of "$PART")" -gt "$first" ]
	resume_run
}

@test "a pipe as the source: the sender reads and hashes what it skips" {
	random_file "$T/in" "$SIZE"
	cut_run sender 50000000 "cat '$T/in'"
	resume_run "cat '$T/in'"
}

@test "a partial file that is already whole: the resumed run sends nothing and publishes" {
	random_file "$T/in" 3000000
	cp "$T/in" "$PART"
	chmod 600 "$PART"
	bg r rcp-quic-recv --listen 127.0.0.1:0 --ready-fd 3 --resume -o "$T/out"
	wait_ready r
	run rcp-quic-send --connect "$ADDR" --pin "$PIN" --stats "$T/in" 3>&-
	assert_success
	assert_output --regexp "bytes=0 .* skipped=3000000$"
	wait_exit r
	[ "$r_rc" -eq 0 ]
	cmp "$T/in" "$T/out"
	[ ! -e "$PART" ]
}

@test "a partial file cut short mid-way is resumed from where it ends" {
	random_file "$T/in" 5000000
	head -c 1234567 "$T/in" >"$PART"
	SIZE=5000000
	resume_run "cat '$T/in'"
}

@test "a changed source is refused with status 3 by both ends; nothing is published, the partial is kept" {
	random_file "$T/in" 5000000
	head -c 2000000 "$T/in" >"$PART"
	# One byte differs inside what the receiver has (a random byte may
	# already be an X: then a Y).
	local b c=X
	b=$(dd if="$T/in" bs=1 skip=1999999 count=1 2>/dev/null)
	[ "$b" != X ] || c=Y
	printf '%s' "$c" | dd of="$T/in" bs=1 seek=1999999 conv=notrunc 2>/dev/null
	! cmp -s -n 2000000 "$T/in" "$PART" || false
	cp "$PART" "$T/part.before"
	bg r rcp-quic-recv --listen 127.0.0.1:0 --ready-fd 3 --resume -o "$T/out"
	wait_ready r
	run rcp-quic-send --connect "$ADDR" --pin "$PIN" "$T/in" 3>&-
	[ "$status" -eq 3 ]
	assert_output "rcp-quic-send: cannot resume: the source changed since the partial transfer"
	wait_exit r
	[ "$r_rc" -eq 3 ]
	# One line: the sender's reason and the way out.
	run tail -1 "$T/r.err"
	assert_output "rcp-quic-recv: sender cannot resume: the source changed since the partial transfer; remove $PART or run without --resume"
	[ ! -e "$T/out" ]
	cmp "$T/part.before" "$PART"
}

@test "a partial file longer than the source is refused with status 3 (a file and a pipe)" {
	random_file "$T/in" 5000000
	head -c 1000000 "$T/in" >"$T/short"
	head -c 2000000 "$T/in" >"$PART"
	bg r rcp-quic-recv --listen 127.0.0.1:0 --ready-fd 3 --resume -o "$T/out"
	wait_ready r
	run rcp-quic-send --connect "$ADDR" --pin "$PIN" "$T/short" 3>&-
	[ "$status" -eq 3 ]
	assert_output "rcp-quic-send: cannot resume: the partial output holds 2000000 bytes, more than the source's 1000000"
	wait_exit r
	[ "$r_rc" -eq 3 ]
	[ ! -e "$T/out" ]
	rm -f "$T/r.ready"
	bg r rcp-quic-recv --listen 127.0.0.1:0 --ready-fd 3 --resume -o "$T/out"
	wait_ready r
	run_pipe "cat '$T/short' | rcp-quic-send --connect '$ADDR' --pin '$PIN' 3>&-"
	[ "$status" -eq 3 ]
	assert_output "rcp-quic-send: cannot resume: the source ended after 1000000 bytes, before the 2000000 the partial output holds"
	wait_exit r
	[ "$r_rc" -eq 3 ]
	[ ! -e "$T/out" ]
	[ "$(size_of "$PART")" -eq 2000000 ]
}

@test "a file that grew since the partial transfer is refused by its recorded size" {
	command -v getfattr >/dev/null || skip "no getfattr (attr)"
	random_file "$T/in" "$SIZE"
	cut_run sender 20000000
	getfattr -n user.rcp.source-size "$PART" >/dev/null 2>&1 ||
	    skip "no user extended attributes on this file system"
	# The same first bytes, and more after them.
	head -c 1000 /dev/zero >>"$T/in"
	rm -f "$T"/r.ready
	bg r rcp-quic-recv --listen 127.0.0.1:0 --ready-fd 3 --resume -o "$T/out"
	wait_ready r
	run rcp-quic-send --connect "$ADDR" --pin "$PIN" "$T/in" 3>&-
	[ "$status" -eq 3 ]
	assert_output "rcp-quic-send: cannot resume: the source changed since the partial transfer (it had $SIZE bytes, now $((SIZE + 1000)))"
	wait_exit r
	[ "$r_rc" -eq 3 ]
	[ ! -e "$T/out" ]
}

@test "striped over 4 connections, cut and resumed" {
	random_file "$T/in" "$SIZE"
	rm -f "$T"/r.ready
	bg r rcp-quic-recv --listen 127.0.0.1:0 --ready-fd 3 --resume -o "$T/out"
	wait_ready r
	bg s rcp-quic-send --connect "$ADDR" --pin "$PIN" --connections 4 \
	    --limit-rate 40M "$T/in"
	wait_partial 40000000
	kill -9 "$s_pid"
	wait_exit r
	[ "$r_rc" -ne 0 ]
	local had
	had=$(size_of "$PART")
	rm -f "$T"/r.ready
	bg r rcp-quic-recv --listen 127.0.0.1:0 --ready-fd 3 --resume -o "$T/out"
	wait_ready r
	run rcp-quic-send --connect "$ADDR" --pin "$PIN" --connections 4 \
	    --stats "$T/in" 3>&-
	assert_success
	assert_output --regexp "bytes=$((SIZE - had)) .* connections=4 skipped=$had$"
	wait_exit r
	[ "$r_rc" -eq 0 ]
	cmp "$T/in" "$T/out"
}

@test "the encrypted entropy pipeline, cut and resumed, decrypts to the original" {
	random_file "$T/in" "$SIZE"
	printf '%s\n' 000102030405060708090a0b0c0d0e0f >"$T/key"
	printf '%s\n' f0e0d0c0b0a090807060504030201000 >"$T/iv"
	chmod 600 "$T/key" "$T/iv"
	local src="entropy-frame '$T/in' | aescbc-enc --frames -k '$T/key' -i '$T/iv'"
	cut_run sender 40000000 "$src"
	# The whole encrypted stream, to know its size and compare.
	run_pipe "$src > '$T/enc.expected'"
	assert_success
	rm -f "$T"/r.ready
	bg r rcp-quic-recv --listen 127.0.0.1:0 --ready-fd 3 --resume -o "$T/out"
	wait_ready r
	run_pipe "$src | rcp-quic-send --connect '$ADDR' --pin '$PIN' --stats 3>&-"
	assert_success
	assert_output --regexp "skipped=[1-9][0-9]*$"
	wait_exit r
	[ "$r_rc" -eq 0 ]
	cmp "$T/enc.expected" "$T/out"
	run_pipe "aescbc-dec --frames -k '$T/key' -i '$T/iv' '$T/out' | entropy-unframe | cmp - '$T/in'"
	assert_success
}

@test "a link dropped by nftables: both ends time out, the partial is kept, and the transfer resumes" {
	[ "$(id -u)" -eq 0 ] || skip "needs root for ip netns"
	command -v nft >/dev/null || skip "no nft"
	LINK="rs$$"
	"$TOP/bench/netlink.sh" veth "$LINK" 1500
	random_file "$T/in" "$SIZE"
	bg r ip netns exec "$LINK-b" rcp-quic-recv --listen 10.79.0.2:0 \
	    --ready-fd 3 --resume --idle-timeout 2 -o "$T/out"
	wait_ready r
	bg s ip netns exec "$LINK-a" rcp-quic-send --connect "$ADDR" \
	    --pin "$PIN" --idle-timeout 2 --limit-rate 40M "$T/in"
	wait_partial 30000000
	ip netns exec "$LINK-b" nft -f - <<-EOF
	table inet cut {
		chain in { type filter hook input priority 0; udp dport ${ADDR##*:} drop; }
	}
	EOF
	wait_exit r 15
	wait_exit s 15
	[ "$r_rc" -eq 1 ]
	[ "$s_rc" -eq 1 ]
	grep -q "idle" "$T/r.err"
	[ ! -e "$T/out" ]
	local had
	had=$(size_of "$PART")
	[ "$had" -ge 30000000 ]
	rm -f "$T"/r.ready
	bg r ip netns exec "$LINK-b" rcp-quic-recv --listen 10.79.0.2:0 \
	    --ready-fd 3 --resume -o "$T/out"
	wait_ready r
	run ip netns exec "$LINK-a" rcp-quic-send --connect "$ADDR" \
	    --pin "$PIN" --stats "$T/in" 3>&-
	assert_success
	assert_output --regexp "bytes=$((SIZE - had)) .* skipped=$had$"
	wait_exit r
	[ "$r_rc" -eq 0 ]
	cmp "$T/in" "$T/out"
}

@test "without --resume an old partial file is ignored, and removed once the file is published" {
	random_file "$T/in" 3000000
	printf 'stale' >"$PART"
	bg r rcp-quic-recv --listen 127.0.0.1:0 --ready-fd 3 -o "$T/out"
	wait_ready r
	run rcp-quic-send --connect "$ADDR" --pin "$PIN" --stats "$T/in" 3>&-
	assert_success
	assert_output --regexp "bytes=3000000 .* connections=1$"
	wait_exit r
	[ "$r_rc" -eq 0 ]
	cmp "$T/in" "$T/out"
	[ ! -e "$PART" ]
}

@test "a listening sender and a connecting receiver: cut, then resumed over 3 connections" {
	random_file "$T/in" 30000000
	bg s rcp-quic-send --listen 127.0.0.1:0 --ready-fd 3 --limit-rate 20M \
	    "$T/in"
	wait_ready s
	bg r rcp-quic-recv --connect "$ADDR" --pin "$PIN" --resume -o "$T/out"
	wait_partial 10000000
	kill -9 "$s_pid"
	wait_exit r
	[ "$r_rc" -eq 1 ]
	[ ! -e "$T/out" ]
	local had
	had=$(size_of "$PART")
	rm -f "$T/s.ready"
	bg s rcp-quic-send --listen 127.0.0.1:0 --ready-fd 3 --connections 3 \
	    --stats "$T/in"
	wait_ready s
	run rcp-quic-recv --connect "$ADDR" --pin "$PIN" --resume -o "$T/out" 3>&-
	assert_success
	wait_exit s
	[ "$s_rc" -eq 0 ]
	grep -q "bytes=$((30000000 - had)) .* connections=3 skipped=$had$" "$T/s.err"
	cmp "$T/in" "$T/out"
}

@test "a producer that pauses inside what is skipped, longer than the idle timeout: the connection lives on" {
	random_file "$T/in" 6000000
	head -c 5000000 "$T/in" >"$PART"
	chmod 600 "$PART"
	bg r rcp-quic-recv --listen 127.0.0.1:0 --ready-fd 3 --resume \
	    --idle-timeout 2 -o "$T/out"
	wait_ready r
	run_pipe "{ head -c 3000000 '$T/in'; sleep 4; tail -c +3000001 '$T/in'; } |
	    rcp-quic-send --connect '$ADDR' --pin '$PIN' --idle-timeout 2 --stats 3>&-"
	assert_success
	assert_output --regexp "bytes=1000000 .* skipped=5000000$"
	wait_exit r
	[ "$r_rc" -eq 0 ]
	cmp "$T/in" "$T/out"
}

@test "a peer without version 3 (an older sender): the --resume receiver says it cannot resume, and what to do" {
	# A receiver without --resume stands for a sender of an older
	# version: neither offers rcp-entropy/3 in the sender's direction.
	printf 'part' >"$PART"
	chmod 600 "$PART"
	bg r rcp-quic-recv --listen 127.0.0.1:0 --ready-fd 3 --accept-timeout 2 \
	    --resume -o "$T/out"
	wait_ready r
	run rcp-quic-recv --connect "$ADDR" --pin "$PIN" 3>&-
	[ "$status" -eq 1 ]
	wait_exit r
	[ "$r_rc" -eq 1 ]
	grep -q "the peer does not speak rcp-entropy/3/c2s: a sender too old to resume (upgrade it, or run without --resume), or not a sender" "$T/r.err"
	# Connecting, the other way round.
	rm -f "$T/s.ready"
	bg s rcp-quic-recv --listen 127.0.0.1:0 --ready-fd 3 --accept-timeout 5
	wait_ready s
	run rcp-quic-recv --connect "$ADDR" --pin "$PIN" --resume -o "$T/out" 3>&-
	[ "$status" -eq 1 ]
	assert_line --partial "rcp-quic-recv: the peer does not speak rcp-entropy/3/s2c: a sender too old to resume (upgrade it, or run without --resume), or not a sender"
	[ ! -e "$T/out" ]
	[ "$(cat "$PART")" = part ]
}

@test "a read error while the sender hashes what it skips: both ends say which error, status 1, the partial is kept" {
	[ -f "$TOP/build/libfault_inject.so" ] ||
	    skip "no build/libfault_inject.so: run the tests through make check"
	random_file "$T/in" 5000000
	head -c 3000000 "$T/in" >"$PART"
	chmod 600 "$PART"
	bg r rcp-quic-recv --listen 127.0.0.1:0 --ready-fd 3 --resume -o "$T/out"
	wait_ready r
	LD_PRELOAD="$(fault_preload rcp-quic-send)" FAULT_READ_FD=file \
	    FAULT_READ_AFTER=1000000 run rcp-quic-send --connect "$ADDR" \
	    --pin "$PIN" "$T/in" 3>&-
	[ "$status" -eq 1 ]
	assert_output "rcp-quic-send: $T/in: read error: Input/output error"
	wait_exit r
	[ "$r_rc" -eq 1 ]
	grep -qx "rcp-quic-recv: peer failed: sender input failed: read: Input/output error" "$T/r.err"
	[ "$(size_of "$PART")" -eq 3000000 ]
	[ ! -e "$T/out" ]
}

@test "a full disk while appending: the write error names the partial file, which keeps a prefix, and the next run finishes" {
	[ -f "$TOP/build/libfault_inject.so" ] ||
	    skip "no build/libfault_inject.so: run the tests through make check"
	random_file "$T/in" 5000000
	head -c 1000000 "$T/in" >"$PART"
	chmod 600 "$PART"
	LD_PRELOAD="$(fault_preload rcp-quic-recv)" FAULT_WRITE_FD=file \
	    FAULT_WRITE_AFTER=1500000 FAULT_ERRNO=ENOSPC bg r rcp-quic-recv \
	    --listen 127.0.0.1:0 --ready-fd 3 --resume -o "$T/out"
	wait_ready r
	run rcp-quic-send --connect "$ADDR" --pin "$PIN" "$T/in" 3>&-
	[ "$status" -eq 1 ]
	wait_exit r
	[ "$r_rc" -eq 1 ]
	grep -qx "rcp-quic-recv: $PART: write error: No space left on device" "$T/r.err"
	grep -qx "rcp-quic-recv: kept 2500000 bytes in $PART; run again with --resume to continue" "$T/r.err"
	cmp -n 2500000 "$T/in" "$PART"
	[ ! -e "$T/out" ]
	SIZE=5000000
	resume_run
}

@test "a commit that fails (fsync): the partial keeps its bytes and its recorded size, the last line says so, the next run publishes" {
	[ -f "$TOP/build/libfault_inject.so" ] ||
	    skip "no build/libfault_inject.so: run the tests through make check"
	random_file "$T/in" 3000000
	LD_PRELOAD="$(fault_preload rcp-quic-recv)" FAULT_CALL=fsync \
	    bg r rcp-quic-recv --listen 127.0.0.1:0 --ready-fd 3 --resume \
	    -o "$T/out"
	wait_ready r
	run rcp-quic-send --connect "$ADDR" --pin "$PIN" "$T/in" 3>&-
	[ "$status" -eq 1 ]
	wait_exit r
	[ "$r_rc" -eq 1 ]
	run tail -1 "$T/r.err"
	assert_output "rcp-quic-recv: kept 3000000 bytes in $PART; run again with --resume to continue"
	[ ! -e "$T/out" ]
	touch "$T/x"
	if command -v getfattr >/dev/null &&
	    setfattr -n user.t -v 1 "$T/x" 2>/dev/null; then
		run getfattr --absolute-names --only-values -n user.rcp.source-size "$PART"
		assert_output 3000000
	fi
	SIZE=3000000
	resume_run
}
