#!/usr/bin/env bats
# entropy-frame and entropy-unframe move payload by splice(2) where the
# input and output allow it (a pipe on one side), by read(2) and write(2)
# elsewhere: the same bytes and the same errors either way.  The traces
# (strace, from scripts/deps.sh) show which path ran.

load test_helper
load stream_helper

# 8 MiB + 1000: 513 chunks of 16384 bytes, the last one of 1000.
SIZE=$((8 * 1048576 + 1000))

setup_file() {
	random_file "$BATS_FILE_TMPDIR/in" "$SIZE"
	entropy-frame "$BATS_FILE_TMPDIR/in" >"$BATS_FILE_TMPDIR/s"
}

setup() {
	setup_tmp
	D=$BATS_FILE_TMPDIR
	set -o pipefail
}

need_strace() {
	command -v strace >/dev/null || skip "no strace (scripts/deps.sh installs it)"
}

# st NAME CMD...: runs CMD with its splice(2) calls traced to $T/NAME
# (under SANITIZE=1 without LeakSanitizer, which cannot run traced).
st() {
	local name=$1
	shift
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
	    strace -qq -e trace=splice -o "$T/$name" "$@"
}

# spliced NAME: the bytes the traced program moved by splice(2).
spliced() {
	awk '/^splice\(/ && $NF ~ /^[0-9]+$/ { s += $NF } END { print s + 0 }' "$T/$1"
}

# refused NAME: its splice(2) calls that failed, one errno a line.
refused() {
	sed -n 's/^splice(.* = -1 \([A-Z]*\) .*/\1/p' "$T/$1"
}

# most_spliced NAME: entropy-unframe spliced all but what its first read
# took (what the pipe held, 1 MiB at most), the rest of the chunk that
# read ended in, and the last chunk (1000 bytes: too short to splice).
most_spliced() {
	local n
	n=$(spliced "$1")
	[ "$n" -ge $((SIZE - 1048576 - 16384 - 1000)) ] ||
		fail "$1: only $n of $SIZE bytes spliced"
}

# The offset of chunk K's length prefix (1-based) in $D/s.
chunk_at() { echo $((1044 + ($1 - 1) * 16388)); }

@test "file -> pipe -> pipe: the same bytes, payload spliced by both" {
	need_strace
	st f entropy-frame "$D/in" | st u entropy-unframe | cat >"$T/out"
	cmp "$D/in" "$T/out"
	assert_equal "$(spliced f)" "$SIZE"
	most_spliced u
	assert_equal "$(refused f)$(refused u)" ""
}

@test "a pipe in: spooled by splice, or streamed with -s, pipe to pipe" {
	need_strace
	cat "$D/in" | st f entropy-frame | cat >"$T/s"
	cmp "$D/s" "$T/s"
	# Into the spool file, then out of it into the pipe.
	assert_equal "$(spliced f)" $((2 * SIZE))
	cat "$D/in" | st f entropy-frame -s "$SIZE" | cat >"$T/s"
	cmp "$D/s" "$T/s"
	assert_equal "$(spliced f)" "$SIZE"
}

@test "entropy-unframe splices into a pipe, a file, /dev/null and -o, and from a file" {
	need_strace
	local out
	for out in pipe file null o; do
		rm -f "$T/out"
		case $out in
		pipe)	cat "$D/s" | st u entropy-unframe | cat >"$T/out" ;;
		file)	cat "$D/s" | st u entropy-unframe >"$T/out" ;;
		null)	cat "$D/s" | st u entropy-unframe >/dev/null
			cp "$D/in" "$T/out" ;;
		o)	cat "$D/s" | st u entropy-unframe -o "$T/out" ;;
		esac
		cmp "$D/in" "$T/out"
		most_spliced u
		assert_equal "$(refused u)" ""
	done
	st u entropy-unframe "$D/s" | cat >"$T/out"
	cmp "$D/in" "$T/out"
	most_spliced u
}

@test "RCP_NO_SPLICE=1: read and write only, the same bytes" {
	need_strace
	export RCP_NO_SPLICE=1
	cat "$D/in" | st f entropy-frame | st u entropy-unframe | cat >"$T/out"
	cmp "$D/in" "$T/out"
	assert_equal "$(grep -c splice "$T/f" "$T/u")" "$T/f:0
$T/u:0"
}

@test "an output opened O_APPEND refuses splice: read and write take over" {
	need_strace
	printf 'x' >"$T/s"
	cat "$D/in" | st f entropy-frame -s "$SIZE" >>"$T/s"
	cmp <(printf 'x'; cat "$D/s") "$T/s"
	assert_equal "$(refused f)" EINVAL
	assert_equal "$(spliced f)" 0
	printf 'x' >"$T/out"
	cat "$D/s" | st u entropy-unframe >>"$T/out"
	cmp <(printf 'x'; cat "$D/in") "$T/out"
	assert_equal "$(refused u)" EINVAL
	assert_equal "$(spliced u)" 0
}

@test "a socket for input or output: the same bytes" {
	perl "$TOP/t/socketpair.pl" out entropy-frame "$D/in" >"$T/s"
	cmp "$D/s" "$T/s"
	cat "$D/in" | perl "$TOP/t/socketpair.pl" out entropy-frame -s "$SIZE" >"$T/s"
	cmp "$D/s" "$T/s"
	perl "$TOP/t/socketpair.pl" in entropy-frame -s "$SIZE" <"$D/in" | cat >"$T/s"
	cmp "$D/s" "$T/s"
	cat "$D/s" | perl "$TOP/t/socketpair.pl" out entropy-unframe >"$T/out"
	cmp "$D/in" "$T/out"
	perl "$TOP/t/socketpair.pl" in entropy-unframe <"$D/s" | cat >"$T/out"
	cmp "$D/in" "$T/out"
	perl "$TOP/t/socketpair.pl" in entropy-unframe <"$D/s" >"$T/out"
	cmp "$D/in" "$T/out"
}

@test "chunks shorter than a page, and a mix of short and long ones" {
	local b
	for b in 1000 4095 4096 65536; do
		cat "$D/in" | entropy-frame -s "$SIZE" -b "$b" | entropy-unframe |
			cat >"$T/out"
		cmp "$D/in" "$T/out"
	done
	# Any chunking the rules allow: lengths from this cycle, M = 65536.
	perl -e 'open(F, "<", $ARGV[0]) or die; binmode F; local $/; my $d = <F>;
		my @l = (16384, 10, 5000, 4095, 4096, 1, 65536, 3, 20000);
		binmode STDOUT;
		print pack("N5", 0x64640001, 1, 8, 65536, 66560), pack("NN", length $d, 0);
		for (my $i = 0; length $d; $i++) {
			my $n = $l[$i % @l];
			$n = length $d if $n > length $d;
			print pack("N", $n), substr($d, 0, $n, "");
		}' "$D/in" >"$T/mixed"
	cat "$T/mixed" | entropy-unframe | cat >"$T/out"
	cmp "$D/in" "$T/out"
	cat "$T/mixed" | entropy-unframe -o "$T/out2"
	cmp "$D/in" "$T/out2"
}

# same_refusal: $T/bad, through a pipe into entropy-unframe writing into
# a pipe, is refused alike with and without splice; sets output and
# status from the splice run.
same_refusal() {
	run bash -c "cat '$T/bad' | RCP_NO_SPLICE=1 entropy-unframe 2>&1 >/dev/null"
	local want_status=$status want_output=$output
	run bash -c "cat '$T/bad' | entropy-unframe 2>'$T/err' | cat >/dev/null
	    st=\${PIPESTATUS[1]}; cat '$T/err'; exit \$st"
	assert_equal "$status" "$want_status"
	assert_equal "$output" "$want_output"
}

@test "a stream cut inside a spliced chunk: the precise message, as without splice" {
	local k=101 at
	at=$(chunk_at $k)
	head -c $((at + 4 + 5000)) "$D/s" >"$T/bad"
	same_refusal
	assert_failure 3
	assert_output "entropy-unframe: truncated stream: $((100 * 16384 + 5000)) of $SIZE payload bytes received (chunk $k at offset $at: 5000 of 16384 bytes)"
	head -c $((at + 2)) "$D/s" >"$T/bad"
	same_refusal
	assert_failure 3
	assert_output "entropy-unframe: truncated stream: length of chunk $k at offset $at: 2 of 4 bytes received"
	head -c "$at" "$D/s" >"$T/bad"
	same_refusal
	assert_failure 3
	assert_output "entropy-unframe: truncated stream: $((100 * 16384)) of $SIZE payload bytes received"
	head -c $(($(stat -c %s "$D/s") - 1)) "$D/s" >"$T/bad"
	same_refusal
	assert_failure 3
	assert_output --partial "truncated stream: $((SIZE - 1)) of $SIZE payload bytes received (chunk 513 "
}

@test "a bad chunk or a byte too many after spliced chunks: refused as without splice" {
	local at
	at=$(chunk_at 300)
	{ head -c "$at" "$D/s"; printf '\0\0\0\0'; } >"$T/bad"
	same_refusal
	assert_failure 3
	assert_output "entropy-unframe: zero-length chunk 300 at offset $at"
	{ head -c "$at" "$D/s"; printf '\0\0\100\1'; } >"$T/bad"
	same_refusal
	assert_failure 3
	assert_output "entropy-unframe: chunk 300 at offset $at too long: 16385 bytes, buffer_size is 16384"
	{ cat "$D/s"; printf 'x'; } >"$T/bad"
	same_refusal
	assert_failure 3
	assert_output "entropy-unframe: trailing data at offset $(stat -c %s "$D/s"): all $SIZE bytes of total_len were carried, the stream should end"
}

@test "-o with a stream cut inside a spliced chunk: nothing published, nothing left" {
	head -c $(($(chunk_at 400) + 1000)) "$D/s" >"$T/bad"
	mkdir "$T/d"
	run bash -c "cat '$T/bad' | entropy-unframe -o '$T/d/out'"
	assert_failure 3
	assert_output --partial 'entropy-unframe: truncated stream: '
	run ls -A "$T/d"
	assert_output ''
}

@test "a closed pipe or a full device while splicing: status 1, the output named" {
	run bash -c "cat '$D/s' | entropy-unframe | head -c 10 >/dev/null; exit \${PIPESTATUS[1]}"
	assert_failure 1
	assert_output 'entropy-unframe: stdout: write error: Broken pipe'
	run bash -c "cat '$D/s' | entropy-unframe >/dev/full"
	assert_failure 1
	assert_output 'entropy-unframe: stdout: write error: No space left on device'
	run bash -c "cat '$D/in' | entropy-frame -s $SIZE | head -c 10 >/dev/null; exit \${PIPESTATUS[1]}"
	assert_failure 1
	assert_output 'entropy-frame: stdout: write error: Broken pipe'
	run bash -c "cat '$D/in' | entropy-frame -s $SIZE >/dev/full"
	assert_failure 1
	assert_output 'entropy-frame: stdout: write error: No space left on device'
}

@test "a pipe ending early or running long with -s, spliced: status 3, exact counts" {
	run_pipe "cat '$D/in' | entropy-frame -s $((SIZE + 1)) | cat >/dev/null"
	assert_failure 3
	assert_output "entropy-frame: input ended early: $SIZE of $((SIZE + 1)) bytes"
	run_pipe "cat '$D/in' | entropy-frame -s $((SIZE - 1)) | cat >/dev/null"
	assert_failure 3
	assert_output "entropy-frame: input continues past $((SIZE - 1)) bytes"
}

@test "--progress counts spliced bytes" {
	cat "$D/s" | entropy-unframe --progress 2>"$T/err" | cat >"$T/out"
	cmp "$D/in" "$T/out"
	grep -q '100.0%' "$T/err"
	entropy-frame --progress "$D/in" 2>"$T/err" | cat >"$T/s"
	cmp "$D/s" "$T/s"
	grep -q '100.0%' "$T/err"
}
