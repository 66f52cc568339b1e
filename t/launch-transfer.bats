#!/usr/bin/env bats
# rcp-launch --pull, --push and --from/--to (SPEC §6) against a throwaway
# sshd on a loopback port; the remote rcp-quic-* are this tree's.

bats_require_minimum_version 1.5.0
load test_helper
load ../scripts/throwaway-sshd

setup_file() {
	sshd_start "$BATS_FILE_TMPDIR"
	BIG="$BATS_FILE_TMPDIR/big"
	random_file "$BIG" 33554432	# 32 MiB
	export BIG
}

teardown_file() {
	sshd_stop
}

setup() {
	setup_tmp
	MARK="rcp_mark_${BATS_TEST_NUMBER}_$$_$RANDOM"
	B=(--remote-bin "$TOP/bin")
}

teardown() {
	# Never leave a remote process behind, even when a test failed.
	pkill -KILL -f "$MARK" 2>/dev/null || true
}

# mark_bin: a --remote-bin directory $T/$MARK of links to the real
# rcp-quic-*; its name carries $MARK, so pgrep -f "$MARK" finds the
# remote listener.
mark_bin() {
	local d="$T/$MARK" p
	mkdir -p "$d"
	for p in rcp-quic-send rcp-quic-recv; do
		ln -sf "$TOP/bin/$p" "$d/$p"
	done
	echo "$d"
}

# fake_bin NAME BODY: mark_bin, with NAME replaced by a sh script of
# BODY ($REAL is the real program).
fake_bin() {
	local d
	d=$(mark_bin)
	rm -f "$d/$1"
	printf '#!/bin/sh\nREAL=%s\n%s\n' "$TOP/bin/$1" "$2" >"$d/$1"
	chmod +x "$d/$1"
	echo "$d"
}

# --- usage ---------------------------------------------------------------

@test "--from/--to take exactly PRODUCER and CONSUMER" {
	run rcp-launch --from a --to b 'cat x'
	assert_failure 2
	assert_line --index 0 'rcp-launch: --from/--to take two operands, PRODUCER and CONSUMER (quote each one)'
	run rcp-launch --from a --to b cat x y
	assert_failure 2
	assert_line --index 0 --partial 'take two operands'
	run rcp-launch --pull --from a --to b cat x
	assert_failure 2
	assert_line --index 0 'rcp-launch: --from/--to cannot go with --pull or --push'
}

@test "bad --port-range and --remote-bin values name the option" {
	run rcp-launch --pull --port-range 9-1 testhost true
	assert_failure 2
	assert_output --partial 'rcp-launch: --port-range 9-1: '
	run rcp-launch --pull --port-range x testhost true
	assert_failure 2
	assert_output --partial 'rcp-launch: --port-range x: '
	run rcp-launch --pull --remote-bin '' testhost true
	assert_failure 2
	assert_line --index 0 'rcp-launch: --remote-bin: empty directory name'
}

# --- data ------------------------------------------------------------------

@test "--pull: 32 MiB of remote cat arrive exact" {
	rcp-launch --pull "${B[@]}" testhost cat "$BIG" >"$T/out"
	cmp "$BIG" "$T/out"
}

@test "--push: 32 MiB of local stdin reach the remote command exact" {
	rcp-launch --push "${B[@]}" testhost "cat > '$T/out'" <"$BIG"
	cmp "$BIG" "$T/out"
}

@test "--pull, --push and --from/--to striped with --connections: exact, over that many connections" {
	rcp-launch -v --pull --connections 4 "${B[@]}" testhost cat "$BIG" \
	    >"$T/out" 2>"$T/err"
	cmp "$BIG" "$T/out"
	grep -q "transfer confirmed: $(stat -c %s "$BIG") bytes from .* over 4 connections$" "$T/err"
	rcp-launch -v --push --connections 3 "${B[@]}" testhost "cat > '$T/out2'" \
	    <"$BIG" 2>"$T/err"
	cmp "$BIG" "$T/out2"
	grep -q "transfer confirmed: .* over 3 connections$" "$T/err"
	rcp-launch "${B[@]}" --connections 2 --from testhost --to root@testhost \
	    "cat '$BIG'" "cat > '$T/out3'"
	cmp "$BIG" "$T/out3"
	run rcp-launch --connections 2 "${B[@]}" testhost true
	assert_failure 2
	assert_output --partial "--connections is for --pull, --push and --from/--to"
	run rcp-launch --pull --connections 17 "${B[@]}" testhost true
	assert_failure 2
	assert_output --partial "--connections 17: not auto or a number from 1 to 16"
}

@test "--push with a send buffer the kernel capped: our warning names the sysctl" {
	# The shim (t/quic-sockbuf.bats) plays a user under
	# net.core.wmem_max=65536, for our own end only.
	[ -f "$TOP/build/libfault_inject.so" ] ||
	    skip "no build/libfault_inject.so: run the tests through make check"
	run env LD_PRELOAD="$(fault_preload rcp-launch)" FAULT_WMEM_MAX=65536 \
	    rcp-launch --push "${B[@]}" testhost "cat > '$T/out'" <"$BIG"
	assert_success
	assert_output "rcp-launch: warning: UDP send buffer capped at 64 KiB by net.core.wmem_max, below the 126 KiB sending needs; for full speed: sysctl -w net.core.wmem_max=8388608"
	cmp "$BIG" "$T/out"
}

@test "--push: stdin from a pipe, remote stdout comes back" {
	run_pipe "cat '$BIG' | rcp-launch --push ${B[*]} testhost 'sha256sum | cut -d\" \" -f1'"
	assert_success
	assert_output "$(sha256sum <"$BIG" | cut -d' ' -f1)"
}

@test "--pull: entropy-frame remotely, entropy-unframe -o locally" {
	random_file "$T/in" 5000000
	rcp-launch --pull "${B[@]}" testhost "'$TOP/bin/entropy-frame' -b 65536 '$T/in'" |
	    entropy-unframe -o "$T/out"
	cmp "$T/in" "$T/out"
}

@test "--pull and --push: zero bytes" {
	run rcp-launch --pull "${B[@]}" testhost true
	assert_success
	assert_output ''
	run rcp-launch --push "${B[@]}" testhost "cat > '$T/out'" </dev/null
	assert_success
	assert_file_exist "$T/out"
	assert_equal "$(wc -c <"$T/out")" 0
}

@test "--from/--to: SRC's producer to DST's consumer, exact" {
	rcp-launch "${B[@]}" --from testhost --to root@testhost \
	    "cat '$BIG'" "cat > '$T/out'"
	cmp "$BIG" "$T/out"
}

@test "--from/--to: remote stderr is prefixed with the host" {
	# stdout and stderr are two streams (SSH channels): read apart.
	rcp-launch -p "$SSHD_PORT" "${B[@]}" --from testhost \
	    --to root@127.0.0.1 \
	    "echo from-src >&2; printf abc" "cat; echo; echo from-dst >&2" \
	    >"$T/o" 2>"$T/e"
	run cat "$T/o"
	assert_output 'abc'
	run cat "$T/e"
	assert_line 'testhost: from-src'
	assert_line '127.0.0.1: from-dst'
}

@test "--progress with --from/--to: DST's display, each line prefixed and labelled" {
	rcp-launch --progress "${B[@]}" --from testhost --to testhost \
	    "cat '$BIG'" "cat > '$T/out'" 2>"$T/err"
	cmp "$BIG" "$T/out"
	run tr '\r' '\n' <"$T/err"
	assert_line --regexp '^testhost: rcp-quic-recv: +32.0 MiB '
	refute_line --regexp '^ +[0-9.]+ [KM]iB'
}

@test "--progress draws on stderr, never on the data" {
	rcp-launch --pull --progress "${B[@]}" testhost cat "$BIG" \
	    >"$T/out" 2>"$T/err"
	cmp "$BIG" "$T/out"
	grep -q 'MiB' "$T/err"
	rcp-launch --push --progress "${B[@]}" testhost "cat > '$T/out2'" \
	    <"$BIG" 2>"$T/err2"
	cmp "$BIG" "$T/out2"
	grep -q '32.0 MiB .* 100.0% ETA 0:00:00' "$T/err2"
}

@test "--push --progress on a terminal: labelled, the clock running from the start" {
	# The remote consumer starts late: the display is there meanwhile.
	in_pty "$T/tty" "rcp-launch --push --progress ${B[*]} testhost \
	    'sleep 2; cat > $T/out' <'$BIG'"
	cmp "$BIG" "$T/out"
	run elapsed_values "$T/tty" rcp-launch
	[ "${#lines[@]}" -ge 3 ] || { cat "$T/tty"; false; }
	grep -q '^rcp-launch: *32.0 MiB .* 100.0% ETA 0:00:00' "$T/tty"
}

@test "the listener binds the SSH address, gets our pin, --port-range and no stdin of ours" {
	local d
	d=$(fake_bin rcp-quic-send 'echo "$@" >'"'$T/args'"'; exec "$REAL" "$@"')
	run rcp-launch --pull --remote-bin "$d" --port-range 47000-47999 \
	    testhost echo hi
	assert_success
	assert_output 'hi'
	run cat "$T/args"
	assert_output --regexp '^--listen 127\.0\.0\.1:0 --peer-pin sha256:[0-9a-f]{64} --ready-fd 3 --port-range 47000-47999$'
}

# --- exit status -------------------------------------------------------------

@test "a failing remote command gives its status" {
	run rcp-launch --pull "${B[@]}" testhost false
	assert_failure 1
	assert_output ''
	run rcp-launch --pull "${B[@]}" testhost 'exit 7'
	assert_failure 7
	run rcp-launch --push "${B[@]}" testhost 'exit 7' <"$BIG"
	assert_failure 7
}

@test "--pull into a stdout closed early: status 141, as in plain mode, and not a word" {
	run_pipe "rcp-launch --pull ${B[*]} testhost cat '$BIG' | head -c 5 >/dev/null"
	assert_failure 141
	assert_output ''
}

@test "--pull into a full device: our own line names stdout or the --output file" {
	mknod "$T/full" c 1 7 || skip "cannot make a device node here"
	run_pipe "rcp-launch --pull ${B[*]} testhost cat '$BIG' >'$T/full'"
	assert_failure 1
	assert_line 'rcp-launch: stdout: write error: No space left on device'
	run rcp-launch --pull "${B[@]}" --output "$T/full" testhost cat "$BIG"
	assert_failure 1
	assert_line "rcp-launch: $T/full: write error: No space left on device"
}

@test "--pull and --push: remote stderr lines say which host they come from" {
	run rcp-launch --pull "${B[@]}" testhost 'echo one >&2; echo data'
	assert_success
	assert_output $'testhost: one\ndata'
	run rcp-launch --push "${B[@]}" testhost 'cat >/dev/null; echo two >&2' </dev/null
	assert_success
	assert_output 'testhost: two'
}

@test "a --pull producer reading a missing file: its status and message" {
	run rcp-launch --pull "${B[@]}" testhost cat "$T/missing"
	assert_failure 1
	assert_output "testhost: cat: $T/missing: No such file or directory"
}

@test "a remote line cut by the listener's ready line arrives whole" {
	# The producer's stderr line is written in two parts, a second
	# apart; the listener's ready line lands between them.
	run --separate-stderr rcp-launch --pull "${B[@]}" testhost \
	    "printf 'part one, ' >&2; sleep 1; echo 'part two' >&2; echo data"
	assert_success
	assert_output 'data'
	[ "$stderr" = 'testhost: part one, part two' ]
}

@test "--from/--to: the producer's or the consumer's status" {
	run rcp-launch "${B[@]}" --from testhost --to testhost \
	    "cat '$T/missing'" "cat > '$T/out'"
	assert_failure 1
	assert_output "testhost: cat: $T/missing: No such file or directory"
	run rcp-launch "${B[@]}" --from testhost --to testhost \
	    "cat '$BIG'" "exit 9"
	assert_failure 9
}

@test "remote rcp-quic-* not found: its status and one clear line, not the shell's" {
	run -127 rcp-launch --pull --remote-bin "$T/nowhere" testhost echo hi
	assert_failure 127
	assert_output 'rcp-launch: testhost: the remote rcp-quic-send could not be run (status 127): put it in the remote PATH or give its directory with --remote-bin'
	run -127 rcp-launch --push --remote-bin "$T/nowhere" testhost cat </dev/null
	assert_failure 127
	assert_output 'rcp-launch: testhost: the remote rcp-quic-recv could not be run (status 127): put it in the remote PATH or give its directory with --remote-bin'
	mkdir "$T/noexec"
	: >"$T/noexec/rcp-quic-send"
	run -126 rcp-launch --pull --remote-bin "$T/noexec" testhost echo hi
	assert_failure 126
	assert_output --partial 'could not be run (status 126)'
	assert_equal "${#lines[@]}" 1
	run -127 rcp-launch --remote-bin "$T/nowhere" --from testhost --to testhost \
	    'echo hi' cat
	assert_failure 127
	assert_output --partial 'testhost: the remote rcp-quic-send could not be run'
	refute_output --partial 'line '
}

@test "a remote command killed by a signal: its status and one clear line" {
	run rcp-launch --pull "${B[@]}" testhost 'echo data; sh -c "kill -KILL \$\$"'
	assert_failure 137
	assert_output $'data\nrcp-launch: testhost: the remote command was killed by signal 9 (Killed)'
	run rcp-launch --push "${B[@]}" testhost 'sh -c "kill -SEGV \$\$"' </dev/null
	assert_failure 139
	assert_output 'rcp-launch: testhost: the remote command was killed by signal 11 (Segmentation fault)'
}

# --- the pin ------------------------------------------------------------------

@test "a ready line with a forged pin fails the handshake: status 4" {
	local d
	# The real listener, its ready line rewritten with another pin.
	d=$(fake_bin rcp-quic-send '{ "$REAL" "$@" --ready-fd 5 5>&1 1>&4 |
	    sed -u "s/sha256:[0-9a-f]*/sha256:$(printf %064d 0)/" >&3; } 4>&1')
	run rcp-launch --pull --remote-bin "$d" testhost echo secret
	assert_failure 4
	assert_output --partial "rcp-launch: testhost: server certificate fingerprint mismatch: expected sha256:$(printf %064d 0), got sha256:"
	refute_output --partial 'secret'
	wait_gone "$MARK"
}

@test "a malformed ready line is refused: status 1, nothing connects" {
	local d
	d=$(fake_bin rcp-quic-send 'echo "RCP_QUIC 127.0.0.1:1 sha256:XYZ" >&3; sleep 30')
	run rcp-launch --pull --remote-bin "$d" testhost echo hi
	assert_failure 1
	assert_output 'rcp-launch: testhost: the remote rcp-quic-send gave a bad ready line: ready line: bad fingerprint'
	wait_gone "$MARK"
	d=$(fake_bin rcp-quic-recv 'echo "RCP_QUIC 127.0.0.1:0 sha256:$(printf %064d 0)" >&3; sleep 30')
	run rcp-launch --push --remote-bin "$d" testhost cat </dev/null
	assert_failure 1
	assert_output 'rcp-launch: testhost: the remote rcp-quic-recv gave a bad ready line: ready line: bad port'
	wait_gone "$MARK"
}

@test "a listener that exits without a ready line" {
	local d
	d=$(fake_bin rcp-quic-send 'cat >/dev/null; exit 0')
	run rcp-launch --pull --remote-bin "$d" testhost echo hi
	assert_failure 1
	assert_output 'rcp-launch: testhost: the remote rcp-quic-send ended without a ready line'
}

# --- --pull --output -----------------------------------------------------------

@test "--pull --output publishes the file whole, and nothing on stdout" {
	rcp-launch --pull "${B[@]}" --output "$T/got" testhost cat "$BIG" \
	    >"$T/stdout"
	[ ! -s "$T/stdout" ]
	rm "$T/stdout"
	cmp "$BIG" "$T/got"
	run ls -A "$T"
	assert_output 'got'
}

@test "--pull --output: a failing producer publishes nothing, an old file stays" {
	echo precious >"$T/got"
	run rcp-launch --pull "${B[@]}" --output "$T/got" testhost \
	    "head -c 1000000 '$BIG'; exit 3"
	assert_failure 3
	[ "$(cat "$T/got")" = precious ]
	run ls -A "$T"
	assert_output 'got'
	run rcp-launch --pull "${B[@]}" --output "$T/new" testhost \
	    "head -c 1000000 '$BIG'; exit 3"
	assert_failure 3
	run ls -A "$T"
	assert_output 'got'
}

@test "--pull --output: killed mid-transfer, the old file stays and nothing else" {
	local pid st
	echo precious >"$T/got"
	rcp-launch --pull "${B[@]}" --output "$T/got" testhost \
	    "cat '$BIG'; sleep 30; : $MARK" 2>/dev/null &
	pid=$!
	for _ in $(seq 100); do
		output_grown "$pid" 1000000 && break
		sleep 0.1
	done
	output_grown "$pid" 1000000
	kill -KILL "$pid"
	st=0
	wait "$pid" || st=$?
	[ "$st" -eq 137 ]
	[ "$(cat "$T/got")" = precious ]
	run ls -A "$T"
	assert_output 'got'
	wait_gone "$MARK"
}

@test "--pull --output: the file's owner, a symbolic link, a directory, --push" {
	[ "$(id -u)" -eq 0 ] || skip "needs root for chown"
	mkdir "$T/data"
	: >"$T/data/dump.rdb"
	chown nobody:nogroup "$T/data/dump.rdb"
	chmod 0640 "$T/data/dump.rdb"
	ln -s data/dump.rdb "$T/link"
	run rcp-launch --pull "${B[@]}" --output "$T/link" testhost echo hi
	assert_success
	[ -L "$T/link" ]
	[ "$(cat "$T/data/dump.rdb")" = hi ]
	[ "$(stat -c %U:%G:%a "$T/data/dump.rdb")" = nobody:nogroup:640 ]
	# Refused before any connection: a directory, or the wrong mode.
	run rcp-launch --pull --output "$T/data" nosuchhost.invalid true
	assert_failure 2
	assert_output "rcp-launch: $T/data: is a directory"
	run rcp-launch --push --output "$T/x" testhost true
	assert_failure 2
	assert_line --index 0 'rcp-launch: --push --output FILE writes FILE on HOST: no COMMAND'
	run rcp-launch --from a --to b --output "$T/x" true true
	assert_failure 2
	assert_line --index 0 'rcp-launch: --output is for --pull and --push'
	# A host that cannot be reached: 255, and nothing left behind.
	run rcp-launch --pull --output "$T/x" -F /dev/null nosuchhost.invalid true
	assert_failure 255
	[ ! -e "$T/x" ]
	run find "$T" -name '.x.*'
	assert_output ''
}

# --- --resume ---------------------------------------------------------------

# size_of PATH: its size in bytes, 0 when it is not there.
size_of() {
	stat -c %s "$1" 2>/dev/null || echo 0
}

# wait_size PATH BYTES: waits (20 s at most) until PATH holds BYTES.
wait_size() {
	local i
	for ((i = 0; i < 200; i++)); do
		[ "$(size_of "$1")" -ge "$2" ] && return 0
		sleep 0.1
	done
	return 1
}

@test "--resume needs --output, with --pull or --push" {
	run rcp-launch --pull --resume testhost true
	assert_failure 2
	assert_line --index 0 'rcp-launch: --resume needs --output FILE (with --pull or --push)'
	run rcp-launch --resume testhost true
	assert_failure 2
	run rcp-launch --pull --resume --output "$T" nosuchhost.invalid true
	assert_failure 2
	assert_output "rcp-launch: --resume needs --output to name a regular file: $T: is a directory"
}

@test "--pull --resume --output: stopped (SIGTERM), the part kept and said; the rerun sends only the rest" {
	local pid st=0 had
	rcp-launch --pull "${B[@]}" --limit-rate 8M --resume --output "$T/got" \
	    testhost cat "$BIG" 2>"$T/err" &
	pid=$!
	wait_size "$T/got.rcp-partial" 8000000
	kill -TERM "$pid"
	wait "$pid" || st=$?
	[ "$st" -eq 143 ]
	[ ! -e "$T/got" ]
	had=$(size_of "$T/got.rcp-partial")
	[ "$had" -ge 8000000 ]
	grep -q "^rcp-launch: kept $had bytes in $T/got.rcp-partial; run again with --resume to continue$" "$T/err"
	run rcp-launch --pull "${B[@]}" -v --resume --output "$T/got" \
	    testhost cat "$BIG"
	assert_success
	assert_line --partial "transfer confirmed: $((33554432 - had)) bytes from"
	cmp "$BIG" "$T/got"
	[ ! -e "$T/got.rcp-partial" ]
}

@test "--pull --resume: a remote source that changed is refused with status 3; nothing published" {
	head -c 5000000 "$BIG" >"$T/got.rcp-partial"
	chmod 600 "$T/got.rcp-partial"
	run rcp-launch --pull "${B[@]}" --resume --output "$T/got" testhost \
	    "head -c 6000000 /dev/zero"
	assert_failure 3
	assert_line "rcp-launch: $T/got.rcp-partial is not the start of the data: remove it or run without --resume"
	[ ! -e "$T/got" ]
	[ "$(size_of "$T/got.rcp-partial")" -eq 5000000 ]
}

@test "--pull --resume into a full disk: the error names the partial file, which keeps what was written" {
	[ -f "$TOP/build/libfault_inject.so" ] ||
	    skip "no build/libfault_inject.so: run the tests through make check"
	LD_PRELOAD="$(fault_preload rcp-launch)" FAULT_WRITE_FD=file \
	    FAULT_WRITE_AFTER=3000000 FAULT_ERRNO=ENOSPC run rcp-launch --pull \
	    "${B[@]}" --resume --output "$T/got" testhost cat "$BIG"
	assert_failure 1
	assert_line "rcp-launch: $T/got.rcp-partial: write error: No space left on device"
	assert_line "rcp-launch: kept 3000000 bytes in $T/got.rcp-partial; run again with --resume to continue"
	cmp -n 3000000 "$BIG" "$T/got.rcp-partial"
	[ ! -e "$T/got" ]
}

@test "--push --output: the remote file is published whole, nothing of the command runs" {
	run rcp-launch --push "${B[@]}" --output "$T/rgot" testhost <"$BIG"
	assert_success
	cmp "$BIG" "$T/rgot"
	run ls -A "$T"
	assert_output 'rgot'
}

@test "--push --resume --output: the connection dropped (SIGKILL), the remote part kept, the rerun sends only the rest" {
	local d pid had
	d=$(mark_bin)
	rcp-launch --push --remote-bin "$d" --limit-rate 8M --resume \
	    --output "$T/rgot" testhost <"$BIG" 2>/dev/null &
	pid=$!
	wait_size "$T/rgot.rcp-partial" 8000000
	kill -KILL "$pid"
	wait "$pid" || true
	wait_gone "$MARK"
	[ ! -e "$T/rgot" ]
	had=$(size_of "$T/rgot.rcp-partial")
	[ "$had" -ge 8000000 ]
	run rcp-launch --push "${B[@]}" -v --resume --output "$T/rgot" \
	    testhost <"$BIG"
	assert_success
	assert_line --partial "transfer confirmed: $((33554432 - had)) bytes from"
	cmp "$BIG" "$T/rgot"
	[ ! -e "$T/rgot.rcp-partial" ]
}

# --- control lines the remote command cannot forge ----------------------------

# stranger DIR ARGS...: a listener that is not ours, run by someone else
# on the SSH host ("$TOP/bin/rcp-quic-DIR --listen ... ARGS"), unpinned;
# sets S_LINE to its ready line and S_PID.
stranger() {
	local dir=$1
	shift
	"$TOP/bin/rcp-quic-$dir" --listen 127.0.0.1:0 --ready-fd 3 \
	    --accept-timeout 20 "$@" 3>"$T/s.ready" 2>"$T/s.err" &
	S_PID=$!
	S_LINE="RCP_QUIC $(read_ready "$T/s.ready")"
}

@test "a file named like a ready line, listed by the producer: the genuine data" {
	echo "a stranger's data" >"$T/stranger"
	stranger send "$T/stranger"
	mkdir "$T/dir"
	echo genuine >"$T/dir/file"
	# tar -v lists this name on stderr, a whole line of its own.
	touch "$T/dir/$S_LINE"
	rcp-launch --pull "${B[@]}" testhost "cd '$T' && tar -cvf - dir" \
	    >"$T/got.tar" 2>"$T/err"
	[ "$(tar -xOf "$T/got.tar" dir/file)" = genuine ]
	# Relayed as it came, never taken for ours.
	grep -qxF "testhost: dir/$S_LINE" "$T/err"
	kill -0 "$S_PID"	# still waiting: nobody came
	kill "$S_PID"
}

@test "a consumer printing a stranger's ready line: --push sends to ours" {
	stranger recv -o "$T/stolen"
	run rcp-launch --push "${B[@]}" testhost \
	    "echo '$S_LINE' >&2; sleep 1; cat >'$T/pushed'" <"$BIG"
	assert_success
	assert_output "testhost: $S_LINE"
	cmp "$BIG" "$T/pushed"
	kill -0 "$S_PID"
	kill "$S_PID"
	[ ! -e "$T/stolen" ]
}

@test "a command printing a status line gets its own status, the line relayed" {
	run rcp-launch --pull "${B[@]}" testhost \
	    "echo 'x RCP_LAUNCH status 0' >&2; echo 'RCP_LAUNCH status 0' >&2; \
	    echo 'RCP_LAUNCH quic 0' >&2; exit 3"
	assert_failure 3
	assert_output - <<-'EOF'
	testhost: x RCP_LAUNCH status 0
	testhost: RCP_LAUNCH status 0
	testhost: RCP_LAUNCH quic 0
	EOF
	run rcp-launch --push "${B[@]}" testhost \
	    "echo 'RCP_LAUNCH status 0' >&2; exit 3" </dev/null
	assert_failure 3
	assert_output 'testhost: RCP_LAUNCH status 0'
}

@test "a long unfinished stderr line never cuts a control line in two" {
	# The held line (4 KiB) fills up just before the script's status
	# line, or its ready line, would arrive.
	local n
	for n in 3900 4040 4060 4075 4083 4090 4094 8180; do
		rcp-launch --pull "${B[@]}" testhost \
		    "echo hi; printf '%${n}s' x >&2" >"$T/out" 2>"$T/err"
		[ "$(cat "$T/out")" = hi ]
		[ "$(wc -c <"$T/err")" -eq "$((n + 10))" ]	# "testhost: "
		[ "$(grep -c RCP_LAUNCH "$T/err")" -eq 0 ]
		rcp-launch --pull "${B[@]}" testhost \
		    "printf '%${n}s' x >&2; sleep 0.2; echo hi" >"$T/out" 2>"$T/err"
		[ "$(cat "$T/out")" = hi ]
		[ "$(wc -c <"$T/err")" -eq "$((n + 10))" ]	# "testhost: "
	done
}

@test "the control lines' secret is in no remote variable, environment or command line" {
	# What the user's command can see of its shell and processes.
	run rcp-launch --pull "${B[@]}" testhost \
	    'set; env; cat /proc/[0-9]*/cmdline | tr "\0" " "'
	assert_success
	assert_output --partial 'SSH_CONNECTION='	# set and env did print
	refute_output --regexp '(^|[^$])rcp_k='
	refute_output --regexp 'RCP_LAUNCH [0-9a-f]{32}'
}

# --- lifecycle ---------------------------------------------------------------

@test "SIGTERM during a slow --pull leaves no remote process, no hang" {
	local d pid st=0
	d=$(mark_bin)
	rcp-launch --pull --remote-bin "$d" testhost "sleep 30; cat '$BIG'" \
	    >"$T/out" 2>"$T/err" &
	pid=$!
	wait_seen "$MARK/rcp-quic-send"
	kill -TERM "$pid"
	wait "$pid" || st=$?
	assert_equal "$st" 143
	wait_gone "$MARK"
	assert_equal "$(wc -c <"$T/out")" 0
}

@test "SIGINT during --from/--to leaves no process on either side" {
	local d pid st=0
	d=$(mark_bin)
	rcp-launch --remote-bin "$d" --from testhost --to testhost \
	    "sleep 30; : $MARK" "cat > /dev/null; : $MARK" 2>"$T/err" &
	pid=$!
	wait_seen "$MARK/rcp-quic-recv"
	kill -INT "$pid"
	wait "$pid" || st=$?
	assert_equal "$st" 130
	wait_gone "$MARK"
}

@test "a dropped connection (SIGKILL) during --push leaves no remote process" {
	local d pid
	d=$(mark_bin)
	mkfifo "$T/fifo"
	rcp-launch --push --remote-bin "$d" testhost "cat > /dev/null" \
	    <"$T/fifo" 2>/dev/null 3>&- &
	pid=$!
	exec 7>"$T/fifo"	# a writer that never writes
	wait_seen "$MARK/rcp-quic-recv"
	kill -KILL "$pid"
	wait "$pid" || true
	exec 7>&-
	wait_gone "$MARK"
}

@test "QUIC modes refuse a ProxyCommand connection instead of dialling localhost" {
	command -v nc.openbsd >/dev/null || command -v nc >/dev/null || skip "no nc for a ProxyCommand"
	cat >"$T/proxy_config" <<-EOF2
	Host viaproxy
	    HostName 127.0.0.1
	    Port $SSHD_PORT
	    User root
	    IdentityFile $HOME/.ssh/id_ed25519
	    UserKnownHostsFile $HOME/.ssh/known_hosts
	    ProxyCommand nc %h %p
	EOF2
	run rcp-launch -F "$T/proxy_config" "${B[@]}" viaproxy "echo plain-$MARK"
	assert_success
	assert_output "plain-$MARK"
	run rcp-launch -F "$T/proxy_config" --pull "${B[@]}" viaproxy "echo $MARK"
	assert_failure 255
	assert_output --partial 'no network address to connect QUIC to'
	run wait_gone "$MARK"
	assert_success
	# libssh's ProxyCommand child must not outlive rcp-launch.
	run wait_gone "nc 127.0.0.1 $SSHD_PORT"
	assert_success
}

# stalled_reader_then_signal MODE-ARGS...: rcp-launch writing to a reader
# that never reads is still stopped by SIGTERM, and so are its remote ends.
stalled_reader_then_signal() {
	mkfifo "$T/stall"
	# The reader opens the fifo and never reads: the pipe fills up.
	sleep 60 <"$T/stall" &
	local reader=$!
	rcp-launch "$@" "${B[@]}" testhost "yes $MARK" >"$T/stall" 2>"$T/err" &
	local pid=$!
	run wait_seen "yes $MARK"
	assert_success
	sleep 1	# the pipe is full and rcp-launch blocked in write(2)
	kill -TERM "$pid"
	local i
	for i in $(seq 1 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	run kill -0 "$pid"
	assert_failure	# rcp-launch is gone within 5 s
	run wait_gone "$MARK"
	assert_success	# and so is every remote process
	kill "$reader" 2>/dev/null || true
}

@test "SIGTERM stops plain mode blocked on a stalled local reader" {
	stalled_reader_then_signal
}

@test "SIGTERM stops --pull blocked on a stalled local reader" {
	stalled_reader_then_signal --pull
}

@test "--limit-rate paces --pull (the remote sender) and --push (ours); not in plain mode" {
	head -c 3145728 "$BIG" >"$T/in"
	local t0 t1
	t0=$(date +%s.%N)
	rcp-launch --pull --limit-rate 2m "${B[@]}" testhost cat "$T/in" >"$T/out"
	t1=$(date +%s.%N)
	cmp "$T/in" "$T/out"
	# 3 MiB at 2 MiB/s: never faster; the upper bound only catches a stall.
	[ "$(echo "$t1 - $t0 >= 1.4 && $t1 - $t0 < 10" | bc)" = 1 ] || {
		echo "--pull took $(echo "$t1 - $t0" | bc) s"; false; }
	t0=$(date +%s.%N)
	rcp-launch --push --limit-rate 2M "${B[@]}" testhost "cat > '$T/out2'" <"$T/in"
	t1=$(date +%s.%N)
	cmp "$T/in" "$T/out2"
	[ "$(echo "$t1 - $t0 >= 1.4 && $t1 - $t0 < 10" | bc)" = 1 ] || {
		echo "--push took $(echo "$t1 - $t0" | bc) s"; false; }
	run rcp-launch --limit-rate 2m "${B[@]}" testhost true
	assert_failure 2
	assert_line --index 0 "rcp-launch: --limit-rate is for --pull, --push and --from/--to"
	run rcp-launch --pull --limit-rate 2KB "${B[@]}" testhost true
	assert_failure 2
	assert_output --partial "--limit-rate 2KB: not a rate in bytes per second"
}

@test "a shell syntax error in COMMAND is said, and is its status, as in plain mode" {
	run rcp-launch --pull "${B[@]}" testhost 'echo data )'
	assert_failure 2
	assert_output --regexp "^testhost: .*syntax error"
	refute_output --partial "POSIX sh"
	run rcp-launch --push "${B[@]}" testhost 'cat >/dev/null; fi' </dev/null
	assert_failure 2
	assert_output --regexp "^testhost: .*syntax error"
}

@test "the remote rcp-quic-send killed by SIGKILL (the OOM killer): 137 and one line, no shell noise" {
	local d
	d=$(mark_bin)
	rcp-launch --pull --remote-bin "$d" testhost "cat '$BIG'; sleep 30" \
	    >"$T/out" 2>"$T/err" &
	local pid=$!
	local i
	for ((i = 0; i < 200; i++)); do
		cmp -s "$BIG" "$T/out" && break
		sleep 0.1
	done
	pkill -KILL -f "$MARK/rcp-quic-send"
	local rc=0
	wait "$pid" || rc=$?
	run cat "$T/err"
	# Whichever we learn first: its death (its status, 137), or that
	# its socket is gone (1); never silence, never the shell's words.
	case $rc in
	137) assert_output "rcp-launch: testhost: the remote rcp-quic-send was killed by signal 9 (Killed)" ;;
	1) assert_output --regexp "^rcp-launch: testhost: peer [0-9.:]+ is gone \(connection refused\)$" ;;
	*) echo "status $rc"; false ;;
	esac
}

@test "--progress on a terminal: a remote stderr line starts its own line" {
	in_pty "$T/tty" "rcp-launch --pull --progress ${B[*]} testhost \
	    'cat $BIG; sleep 1.2; echo oops >&2' >$T/out"
	cmp "$BIG" "$T/out"
	# Split on \n alone: the relayed line is not glued to the display.
	grep -q '^testhost: oops' "$T/tty.raw" || { cat -A "$T/tty.raw"; false; }
}

@test "a command that kills its own shell (\$\$) is a command killed, not a success" {
	run rcp-launch --pull "${B[@]}" testhost 'echo hi; kill -9 $$'
	assert_failure 137
	assert_output - <<-'EOF2'
	hi
	rcp-launch: testhost: the remote command was killed by signal 9 (Killed)
	EOF2
}
