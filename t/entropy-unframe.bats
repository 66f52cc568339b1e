#!/usr/bin/env bats
# entropy-unframe: strict validation (SPEC §2), atomic -o, --inspect.

load test_helper
load stream_helper

setup() { setup_tmp; }

# reject HEX STATUS MESSAGE: the stream must be refused exactly so.
reject() {
	printf '%s' "$1" | unhex >"$T/bad"
	run bash -c "entropy-unframe '$T/bad' >/dev/null"
	assert_failure "$2"
	assert_output "entropy-unframe: $3"
}

@test "a stream chunked unlike entropy-frame's output is accepted" {
	{
		neg 0x64640001 1 8 8 24
		snap 9 0 8
		chunk 616263
		chunk 64
		chunk 6566676869
	} | unhex >"$T/s"
	run entropy-unframe "$T/s"
	assert_success
	assert_output 'abcdefghi'
}

@test "both magic values are accepted" {
	small_stream_hex | unhex >"$T/s"
	run entropy-unframe "$T/s"
	assert_output '0123456789'
	{ neg 64640001 1 8 4 20; snap 2 0 8; chunk 6869; } | unhex >"$T/s"
	run entropy-unframe "$T/s"
	assert_success
	assert_output 'hi'
}

@test "reserved snapshot header bytes are ignored" {
	{ neg 0x64640001 1 12 4 20; u32 2; u32 0; printf 'ffffffff'; chunk 6869; } |
		unhex >"$T/s"
	run entropy-unframe "$T/s"
	assert_success
	assert_output 'hi'
}

@test "bad magic" {
	reject "$(neg 0x64640002 1 8 4 20; snap 0 0 8)" 3 \
		'bad magic at offset 0: 0x64640002 (expected 0x64640001 or 0x03da5401)'
}

@test "command other than SEND" {
	reject "$(neg 0x64640001 2 8 4 20; snap 0 0 8)" 3 \
		'bad command at offset 4: 2 (expected 1, SEND)'
	reject "$(neg 0x64640001 0 8 4 20; snap 0 0 8)" 3 \
		'bad command at offset 4: 0 (expected 1, SEND)'
}

@test "header_size out of 8..1024" {
	reject "$(neg 0x64640001 1 7 4 20)" 3 \
		'bad header_size at offset 8: 7 (must be 8..1024)'
	reject "$(neg 0x64640001 1 1025 4 20)" 3 \
		'bad header_size at offset 8: 1025 (must be 8..1024)'
}

@test "buffer_size out of 1..5242880" {
	reject "$(neg 0x64640001 1 8 0 20)" 3 \
		'bad buffer_size at offset 12: 0 (must be 1..5242880)'
	reject "$(neg 0x64640001 1 8 5242881 5242882)" 3 \
		'bad buffer_size at offset 12: 5242881 (must be 1..5242880)'
}

@test "cipher_size not in (M, 5242880]" {
	reject "$(neg 0x64640001 1 8 4 4)" 3 \
		'bad cipher_size at offset 16: 4 (must be greater than buffer_size 4 and at most 5242880)'
	reject "$(neg 0x64640001 1 8 4 5242881)" 3 \
		'bad cipher_size at offset 16: 5242881 (must be greater than buffer_size 4 and at most 5242880)'
	reject "$(neg 0x64640001 1 8 5242880 5242880)" 3 \
		'bad cipher_size at offset 16: 5242880 (must be greater than buffer_size 5242880 and at most 5242880)'
}

@test "total_len over 4294967294" {
	reject "$(neg 0x64640001 1 8 4 20; snap 4294967295 0 8)" 3 \
		'bad total_len at offset 20: 4294967295 (must be at most 4294967294)'
}

@test "encrypt_flag other than 0 or 1" {
	reject "$(neg 0x64640001 1 8 4 20; snap 0 2 8)" 3 \
		'bad encrypt_flag at offset 24: 2 (must be 0 or 1)'
}

@test "zero-length chunk" {
	reject "$(neg 0x64640001 1 8 4 20; snap 2 0 8; u32 0)" 3 \
		'zero-length chunk 1 at offset 28'
}

@test "chunk longer than buffer_size" {
	reject "$(neg 0x64640001 1 8 4 20; snap 10 0 8; chunk 3031323334)" 3 \
		'chunk 1 at offset 28 too long: 5 bytes, buffer_size is 4'
}

@test "chunk that overshoots total_len" {
	reject "$(neg 0x64640001 1 8 4 20; snap 5 0 8; chunk 30313233; chunk 3435)" 3 \
		'chunk 2 at offset 36 overshoots total_len: 2 bytes with 1 of 5 left'
}

@test "any byte after the last chunk" {
	reject "$(small_stream_hex; printf '00')" 3 \
		'trailing data at offset 50: all 10 bytes of total_len were carried, the stream should end'
	reject "$(neg 0x64640001 1 8 4 20; snap 0 0 8; printf '0a')" 3 \
		'trailing data at offset 28: all 0 bytes of total_len were carried, the stream should end'
}

@test "an encrypted stream is refused with a hint" {
	reject "$(neg 0x64640001 1 8 16 32; snap 5 1 8; chunk "$(zeros 16)")" 3 \
		"encrypted stream (encrypt_flag 1 at offset 24): pipe it through 'aescbc-dec --frames' first"
}

@test "truncation at every byte offset is refused with status 3" {
	small_stream_hex | unhex >"$T/s"
	size=$(stat -c %s "$T/s")
	[ "$size" -eq 50 ]
	for ((i = 0; i < size; i++)); do
		head -c "$i" "$T/s" >"$T/cut"
		run bash -c "entropy-unframe '$T/cut' 2>&1 >/dev/null"
		[ "$status" -eq 3 ] || { echo "offset $i: status $status"; false; }
		[[ "$output" == "entropy-unframe: truncated stream: "* ]] ||
			{ echo "offset $i: $output"; false; }
	done
}

@test "truncation messages say where and how much" {
	reject "$(small_stream_hex | head -c 26)" 3 \
		'truncated stream: negotiation header: 13 of 20 bytes received'
	reject "$(small_stream_hex | head -c 50)" 3 \
		'truncated stream: snapshot header: 5 of 8 bytes received'
	reject "$(small_stream_hex | head -c 58)" 3 \
		'truncated stream: length of chunk 1 at offset 28: 1 of 4 bytes received'
	reject "$(small_stream_hex | head -c 68)" 3 \
		'truncated stream: 2 of 10 payload bytes received (chunk 1 at offset 28: 2 of 4 bytes)'
	reject "$(small_stream_hex | head -c 88)" 3 \
		'truncated stream: 8 of 10 payload bytes received'
}

@test "-o publishes the file only when the whole stream was valid" {
	random_file "$T/in" 200000
	entropy-frame -b 4096 "$T/in" >"$T/s"
	entropy-unframe -o "$T/out" "$T/s"
	cmp "$T/in" "$T/out"
	run ls -A "$T"
	assert_output $'in\nout\ns'
}

@test "-o on failure leaves an existing file as it was and no temporary file" {
	random_file "$T/in" 200000
	entropy-frame "$T/in" | head -c 150000 >"$T/s"
	echo precious >"$T/out"
	run entropy-unframe -o "$T/out" "$T/s"
	assert_failure 3
	assert_output --partial 'truncated stream'
	[ "$(cat "$T/out")" = precious ]
	run ls -A "$T"
	assert_output $'in\nout\ns'
}

@test "-o on failure creates no file where there was none" {
	small_stream_hex | unhex | head -c 40 >"$T/s"
	run entropy-unframe -o "$T/new" "$T/s"
	assert_failure 3
	assert_file_not_exists "$T/new"
	run ls -A "$T"
	assert_output 's'
}

@test "-o keeps the mode of the file it replaces" {
	small_stream_hex | unhex >"$T/s"
	: >"$T/out"
	chmod 0640 "$T/out"
	entropy-unframe -o "$T/out" "$T/s"
	[ "$(stat -c %a "$T/out")" = 640 ]
	[ "$(cat "$T/out")" = 0123456789 ]
}

@test "-o onto a device writes through it and leaves the device a device" {
	[ "$(id -u)" -eq 0 ] || skip "needs root for mknod"
	small_stream_hex | unhex >"$T/s"
	mknod "$T/null" c 1 3
	run entropy-unframe -o "$T/null" "$T/s"
	assert_success
	assert_output ''
	[ -c "$T/null" ]
	[ "$(stat -c %t:%T "$T/null")" = 1:3 ]
	run ls -A "$T"
	assert_output $'null\ns'
}

@test "-o onto a FIFO writes to its reader and leaves the FIFO a FIFO" {
	small_stream_hex | unhex >"$T/s"
	mkfifo "$T/fifo"
	cat "$T/fifo" >"$T/got" &
	reader=$!
	run entropy-unframe -o "$T/fifo" "$T/s"
	assert_success
	# Its reader ends (a FIFO replaced by a file leaves it waiting).
	for _ in $(seq 50); do
		kill -0 "$reader" 2>/dev/null || break
		sleep 0.1
	done
	kill "$reader" 2>/dev/null || true
	wait "$reader" || true
	[ -p "$T/fifo" ]
	[ "$(cat "$T/got")" = 0123456789 ]
	run ls -A "$T"
	assert_output $'fifo\ngot\ns'
}

@test "-o onto a symbolic link replaces its target and keeps the link" {
	small_stream_hex | unhex >"$T/s"
	mkdir "$T/data"
	echo old >"$T/data/dump.rdb"
	ln -s data/dump.rdb "$T/link.rdb"
	ln -s link.rdb "$T/link2.rdb"	# a link to a link
	entropy-unframe -o "$T/link2.rdb" "$T/s"
	[ -L "$T/link.rdb" ] && [ -L "$T/link2.rdb" ]
	[ "$(readlink "$T/link.rdb")" = data/dump.rdb ]
	[ "$(cat "$T/data/dump.rdb")" = 0123456789 ]
	run ls -A "$T/data"
	assert_output 'dump.rdb'
	# A dangling link: its target is created, as cp does.
	ln -s data/new.rdb "$T/dangling"
	entropy-unframe -o "$T/dangling" "$T/s"
	[ -L "$T/dangling" ]
	[ "$(cat "$T/data/new.rdb")" = 0123456789 ]
	# A loop is refused.
	ln -s loop2 "$T/loop1"
	ln -s loop1 "$T/loop2"
	run entropy-unframe -o "$T/loop1" "$T/s"
	assert_failure 1
	assert_output "entropy-unframe: $T/loop1: Too many levels of symbolic links"
}

@test "-o keeps the owner and group of the file it replaces" {
	[ "$(id -u)" -eq 0 ] || skip "needs root to own files as another user"
	small_stream_hex | unhex >"$T/s"
	: >"$T/out"
	chown nobody:nogroup "$T/out"
	chmod 0640 "$T/out"
	run entropy-unframe -o "$T/out" "$T/s"
	assert_success
	assert_output ''
	[ "$(stat -c %U:%G:%a "$T/out")" = nobody:nogroup:640 ]
	[ "$(cat "$T/out")" = 0123456789 ]
}

@test "-o by a user who may not give the owner: published, with one warning" {
	[ "$(id -u)" -eq 0 ] || skip "needs root to run as another user"
	command -v setpriv >/dev/null || skip "no setpriv"
	small_stream_hex | unhex >"$T/s"
	# A directory nobody can reach and write; the file in it is root's.
	D=$(mktemp -d /tmp/rcp-owner.XXXXXX)
	chmod 755 "$D"
	mkdir "$D/d"
	: >"$D/d/out"
	chmod 0644 "$D/d/out"
	chown nobody "$D/d"
	run setpriv --reuid=nobody --regid=nogroup --clear-groups \
	    "$TOP/bin/entropy-unframe" -o "$D/d/out" <"$T/s"
	assert_success
	assert_output "entropy-unframe: warning: $D/d/out: owner root:root not kept (Operation not permitted): the new file is nobody:nogroup's"
	[ "$(stat -c %U:%a "$D/d/out")" = nobody:644 ]
	[ "$(cat "$D/d/out")" = 0123456789 ]
	rm -rf "$D"
}

@test "-o: SIGTERM mid-stream leaves no temporary file" {
	mkfifo "$T/fifo"
	{ small_stream_hex | unhex | head -c 40; exec sleep 30; } >"$T/fifo" 3>&- &
	feeder=$!
	entropy-unframe -o "$T/out" "$T/fifo" &
	pid=$!
	# The temporary file may have no name (O_TMPFILE): look for it
	# among the files the process holds open.
	for _ in $(seq 50); do
		ls -l /proc/"$pid"/fd | grep -q -e "$T/\.out\." -e "$T/#" && break
		sleep 0.1
	done
	ls -l /proc/"$pid"/fd | grep -q -e "$T/\.out\." -e "$T/#"
	kill -TERM "$pid"
	st=0
	wait "$pid" || st=$?
	assert_equal "$st" 143
	kill "$feeder" 2>/dev/null || true
	run ls -A "$T"
	assert_output 'fifo'
}

@test "-o into a missing directory is an operational failure" {
	small_stream_hex | unhex >"$T/s"
	run entropy-unframe -o "$T/no/such/out" "$T/s"
	assert_failure 1
	assert_output --partial "cannot create temporary file in $T/no/such"
}

@test "--inspect prints the stream's fields" {
	{
		neg 64640001 1 8 8 24
		snap 9 0 8
		chunk 616263
		chunk 64
		chunk 6566676869
	} | unhex >"$T/s"
	run entropy-unframe --inspect "$T/s"
	assert_success
	assert_output "magic=0x03da5401
command=1
header_size=8
buffer_size=8
cipher_size=24
total_len=9
encrypted=0
chunks=3
min_chunk=1
max_chunk=5"
}

@test "--inspect on an empty stream" {
	{ neg 0x64640001 1 8 4 20; snap 0 0 8; } | unhex >"$T/s"
	run entropy-unframe --inspect "$T/s"
	assert_success
	assert_line 'chunks=0'
	assert_line 'min_chunk=0'
}

@test "--inspect checks an encrypted stream without the key" {
	# Chunks of 32 and 16 bytes carry 17..31 + 1..15 plaintext bytes.
	{ neg 0x64640001 1 8 32 64; snap 40 1 8; chunk "$(zeros 32)"; chunk "$(zeros 16)"; } |
		unhex >"$T/s"
	run entropy-unframe --inspect "$T/s"
	assert_success
	assert_line 'encrypted=1'
	assert_line 'chunks=2'
	# Too little ciphertext for total_len.
	{ neg 0x64640001 1 8 32 64; snap 100 1 8; chunk "$(zeros 32)"; } | unhex >"$T/s"
	run entropy-unframe --inspect "$T/s"
	assert_failure 3
	assert_output 'entropy-unframe: truncated stream: 1 encrypted chunks carry at most 31 of 100 plaintext bytes'
	# Chunk length not a multiple of 16.
	{ neg 0x64640001 1 8 32 64; snap 10 1 8; chunk "$(zeros 20)"; } | unhex >"$T/s"
	run entropy-unframe --inspect "$T/s"
	assert_failure 3
	assert_output 'entropy-unframe: bad encrypted chunk 1 at offset 28: 20 bytes (must be a multiple of 16 in 16..64)'
	# More ciphertext than total_len allows.
	{ neg 0x64640001 1 8 32 64; snap 1 1 8; chunk "$(zeros 16)"; chunk "$(zeros 16)"; } | unhex >"$T/s"
	run entropy-unframe --inspect "$T/s"
	assert_failure 3
	assert_output --partial 'chunk 2 at offset 48 overshoots total_len'
	# A chunk longer than buffer_size could ever encrypt to.
	{ neg 0x64640001 1 8 16 64; snap 40 1 8; chunk "$(zeros 48)"; } | unhex >"$T/s"
	run entropy-unframe --inspect "$T/s"
	assert_failure 3
	assert_output --partial 'too long: 48 bytes cannot hold at most buffer_size 16'
}

@test "--inspect writes no payload and rejects what the reader rejects" {
	random_file "$T/in" 50000
	entropy-frame "$T/in" >"$T/s"
	run entropy-unframe --inspect "$T/s"
	assert_success
	refute_output --partial "$(head -c 8 "$T/in" | xxd -p)"
	head -c 30000 "$T/s" >"$T/cut"
	run entropy-unframe --inspect "$T/cut"
	assert_failure 3
	assert_output --partial 'truncated stream'
}

@test "stdin is read when no FILE or - is given" {
	run_pipe "printf '%s' '$(small_stream_hex)' | xxd -r -p | entropy-unframe"
	assert_success
	assert_output 0123456789
	run_pipe "printf '%s' '$(small_stream_hex)' | xxd -r -p | entropy-unframe -"
	assert_output 0123456789
}

@test "a full output device is reported (1)" {
	random_file "$T/in" 100000
	entropy-frame "$T/in" >"$T/s"
	run bash -c "entropy-unframe '$T/s' >/dev/full"
	assert_failure 1
	assert_output 'entropy-unframe: stdout: write error: No space left on device'
	# With -o, the file it is about (a device, written in place: one
	# of our own, never the host's /dev/full, should that break).
	[ "$(id -u)" -eq 0 ] || return 0
	mknod "$T/full" c 1 7
	run entropy-unframe -o "$T/full" "$T/s"
	assert_failure 1
	assert_output "entropy-unframe: $T/full: write error: No space left on device"
	[ -c "$T/full" ]
}

@test "usage errors exit 2" {
	run entropy-unframe --inspect -o "$T/x"
	assert_failure 2
	assert_line --index 0 'entropy-unframe: --inspect writes no payload: -o cannot go with it'
	run entropy-unframe a b
	assert_failure 2
	run entropy-unframe -x
	assert_failure 2
	run entropy-unframe -h
	assert_success
	assert_output --partial 'usage: entropy-unframe'
	run entropy-unframe -V
	assert_output --regexp '^entropy-unframe [0-9.]+$'
}

@test "an empty input is a truncated stream" {
	run entropy-unframe </dev/null
	assert_failure 3
	assert_output 'entropy-unframe: truncated stream: negotiation header: 0 of 20 bytes received'
}
