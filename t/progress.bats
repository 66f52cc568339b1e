#!/usr/bin/env bats
# --progress (SPEC §1): a labelled line that moves.  On a terminal (a real
# pty, made by script(1)) it is redrawn with a ticking clock while the
# program waits; into a file or a pipe it is a whole line every few
# seconds.  rcp-launch's display is tested in t/launch-transfer.bats.

load test_helper
load quic_helper

setup() {
	quic_setup
}

teardown() {
	quic_teardown
}

@test "on a terminal the sender's clock ticks while its peer holds the data" {
	random_file "$T/in" 4000000
	# The receiver's reader takes 64 KiB, then sleeps 3 s: the sender
	# has everything acknowledged early and waits for the confirmation.
	rcp-quic-recv --listen 127.0.0.1:0 --ready-fd 3 3>"$T/r.ready" \
	    2>"$T/r.err" | { head -c 65536 >/dev/null; sleep 3; cat >"$T/out"; } &
	PIDS+=($!)
	wait_ready r
	in_pty "$T/tty" "rcp-quic-send --connect $ADDR --pin $PIN --progress '$T/in'"
	wait
	run elapsed_values "$T/tty" rcp-quic-send
	# 0:00:00 .. 0:00:03 at least: redrawn every second, not frozen.
	[ "${#lines[@]}" -ge 4 ] || { cat "$T/tty"; false; }
	# Never more than 4 redraws a second (and the last line).
	local secs draws
	secs=$(tail -n 1 <<<"$output" | awk -F: '{ print $1 * 3600 + $2 * 60 + $3 }')
	draws=$(grep -c '^rcp-quic-send: ' "$T/tty")
	[ "$draws" -le $((4 * (secs + 1) + 2)) ] || { echo "$draws draws in $secs s"; false; }
	# It ends at the whole file, counted as acknowledged.
	grep -q '^rcp-quic-send: *3.8 MiB .* 100.0% ETA 0:00:00' "$T/tty"
}

@test "on a terminal entropy-frame shows its spooling, with the true time" {
	random_file "$T/in" 3000000
	in_pty "$T/tty" "{ head -c 1000000 '$T/in'; sleep 2.2; tail -c +1000001 '$T/in'; } |
	    entropy-frame --progress >'$T/fr'"
	entropy-unframe "$T/fr" | cmp - "$T/in"
	grep -q '^entropy-frame: spooling *976.6 KiB .* 0:00:01' "$T/tty"
	# The last line: every byte, in the time the whole run took.
	run bash -c "grep '^entropy-frame: ' '$T/tty' | tail -n 1"
	assert_line --regexp '^entropy-frame: *2.9 MiB +[0-9.]+ (KiB|MiB)/s 0:00:0[2-4] 100.0% ETA 0:00:00 *$'
	refute_line --regexp 'GiB/s'
}

@test "into a log: whole labelled lines every few seconds, no carriage returns" {
	random_file "$T/in" 2000000
	{ head -c 1000000 "$T/in"; sleep 5.6; tail -c +1000001 "$T/in"; } |
	    entropy-frame --progress=snapshot >"$T/fr" 2>"$T/err"
	run grep -c $'\r' "$T/err"
	assert_output 0
	run cat "$T/err"
	assert_line --index 0 --regexp '^snapshot: spooling *976.6 KiB +[0-9.]+ [KM]?i?B/s 0:00:05$'
	assert_line --index 1 --regexp '^snapshot: *1.9 MiB .* 0:00:0[56] 100.0% ETA 0:00:00$'
	[ "${#lines[@]}" -eq 2 ]
}

@test "two tools in one pipeline: each line names its program, or the name given" {
	random_file "$T/in" 300000
	entropy-frame --progress "$T/in" 2>"$T/a" |
	    entropy-unframe --progress=restore -o "$T/out" 2>"$T/b"
	cmp "$T/in" "$T/out"
	grep -q '^entropy-frame: .* 100.0% ETA' "$T/a"
	grep -q '^restore: .* 100.0% ETA' "$T/b"
	# An empty name is the program's.
	entropy-frame --progress= "$T/in" 2>"$T/c" >/dev/null
	grep -q '^entropy-frame: ' "$T/c"
}

@test "a diagnostic on a terminal starts its own line, after the display" {
	random_file "$T/in" 3000000
	entropy-frame "$T/in" | head -c 2000000 >"$T/cut"
	in_pty "$T/tty" "{ head -c 1000000 '$T/cut'; sleep 0.8; tail -c +1000001 '$T/cut'; } |
	    entropy-unframe --progress >/dev/null; echo status=\$?"
	grep -q '^status=3$' "$T/tty"
	# Split on \n alone: the message is not glued to the display.
	grep -q '^entropy-unframe: truncated stream' "$T/tty.raw"
	grep -q '^entropy-unframe: ' "$T/tty"
}

@test "a label of any length is cut, never the line dropped" {
	random_file "$T/in" 30000
	local long
	long=$(printf 'x%.0s' {1..240})
	entropy-frame --progress="$long" "$T/in" >/dev/null 2>"$T/err"
	run cat "$T/err"
	assert_output --regexp "^x{64}: .* 100.0% ETA 0:00:00$"
}
