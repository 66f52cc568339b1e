#!/usr/bin/env bats
# Fault injection (issue 7): every program that writes data keeps its
# promise under faults: a full disk (ENOSPC), a closed output pipe (EPIPE),
# an input that fails mid-way (EIO, by the LD_PRELOAD shim
# t/fault/fault_inject.c), and SIGTERM or SIGKILL mid-transfer.  For each:
# a non-zero status with a message naming the fault (for signals, the
# signal's status), no -o file published, no temporary file left, no
# process left, and what was written is a prefix of the right output.
#
# The matrix is generated: each test walks a list of cases through one
# fault helper, and says which case it is on before each one.

bats_require_minimum_version 1.5.0
load test_helper
load ../scripts/throwaway-sshd

SHIM="$TOP/build/libfault_inject.so"
# What LD_PRELOAD gets: the shim, after ASan's runtime under SANITIZE=1.
PRELOAD=$(fault_preload entropy-frame)

# The filters and their modes (see filter below).
FILTERS="frame unframe unframe-o enc dec encf1 encf2 decf1 decf2"
STDOUT_FILTERS="frame unframe enc dec encf1 encf2 decf1 decf2"

setup_file() {
	local d="$BATS_FILE_TMPDIR"
	random_file "$d/raw" 8388608		# 8 MiB
	aescbc-keygen --format hex "$d/key" "$d/iv" >/dev/null
	entropy-frame "$d/raw" >"$d/plain.es"
	aescbc-enc -k "$d/key" -i "$d/iv" "$d/raw" >"$d/raw.ct"
	aescbc-enc --frames -k "$d/key" -i "$d/iv" "$d/plain.es" >"$d/enc.es"
	if [ "${FAULTS_NEED_SSHD:-1}" = 1 ]; then
		sshd_start "$d"
	fi
}

teardown_file() {
	sshd_stop
}

setup() {
	setup_tmp
	D="$BATS_FILE_TMPDIR"
	MARK="faults_${BATS_TEST_NUMBER}_$$_$RANDOM"
	PIDS=()
}

teardown() {
	local p
	exec 7>&- 2>/dev/null || true
	{
		for p in "${PIDS[@]}"; do
			kill -9 "$p" && wait "$p"
		done
	} 2>/dev/null || true
	pkill -KILL -f "$MARK" 2>/dev/null || true
}

# need_shim: skips where the shim cannot be preloaded.
need_shim() {
	[ -f "$SHIM" ] || skip "no $SHIM: run the tests through make check"
}

# shim VAR=VALUE...: a command prefix that runs a program with the shim.
shim() {
	echo "env LD_PRELOAD='$PRELOAD' $*"
}

# case_start NAME: says which case runs (shown when a test fails) and
# gives it its input link, $T/$MARK.in, and a fresh $T/out.
case_start() {
	echo "--- case $1" >&2
	MARK="faults_${BATS_TEST_NUMBER}_$$_${1}_$RANDOM"
	rm -rf "${T:?}"/* "$T"/.[!.]* 2>/dev/null || true
}

# filter NAME: sets CMD (a shell command line that reads $T/$MARK.in),
# IN (the input it is given), WANT (its right output) and OUT (the -o
# file, or empty for stdout).
filter() {
	local k="-k '$D/key' -i '$D/iv'"
	OUT=""
	case $1 in
	frame)	CMD="entropy-frame -s $(stat -c %s "$D/raw")"
		IN=$D/raw WANT=$D/plain.es ;;
	unframe) CMD="entropy-unframe" IN=$D/plain.es WANT=$D/raw ;;
	unframe-o) OUT=$T/$MARK.out
		CMD="entropy-unframe -o '$OUT'" IN=$D/plain.es WANT=$D/raw ;;
	enc)	CMD="aescbc-enc $k" IN=$D/raw WANT=$D/raw.ct ;;
	dec)	CMD="aescbc-dec $k" IN=$D/raw.ct WANT=$D/raw ;;
	encf1)	CMD="aescbc-enc --frames -j 1 $k" IN=$D/plain.es WANT=$D/enc.es ;;
	encf2)	CMD="aescbc-enc --frames -j 2 $k" IN=$D/plain.es WANT=$D/enc.es ;;
	decf1)	CMD="aescbc-dec --frames -j 1 $k" IN=$D/enc.es WANT=$D/plain.es ;;
	decf2)	CMD="aescbc-dec --frames -j 2 $k" IN=$D/enc.es WANT=$D/plain.es ;;
	*)	echo "no filter $1" >&2; return 1 ;;
	esac
	CMD="$CMD '$T/$MARK.in'"
}

# assert_clean: no -o file published, no temporary file beside it, and no
# process of this case left.
assert_clean() {
	assert_not_exist "$T/$MARK.out"
	run find "$T" -name '.*'
	assert_output ""
	wait_gone "$MARK"
}

# assert_prefix FILE WANT: FILE holds the first bytes of WANT, nothing else.
assert_prefix() {
	local n
	n=$(stat -c %s "$1")
	[ "$n" -le "$(stat -c %s "$2")" ] || fail "$1: longer than $2"
	cmp -n "$n" "$1" "$2" || fail "$1: not a prefix of $2"
}

# wait_output PID FILE: waits (10 s at most) until the output of PID has
# grown past 64 KiB: FILE, or for an -o run, a regular file under $T that
# PID holds open (its temporary file, which may have no name).
wait_output() {
	local i
	for ((i = 0; i < 100; i++)); do
		if [ -n "$2" ] && [ "$(stat -c %s "$2" 2>/dev/null || echo 0)" -gt 65536 ]; then
			return 0
		fi
		output_grown "$1" 65536 && return 0
		sleep 0.1
	done
	fail "no output from $1 within 10 s"
}

# feed_fifo BYTES FILE: writes the first BYTES of FILE into the FIFO
# $T/$MARK.in (20 s at most), through fd 7, which stays open: the reader
# then waits for more.  Read-write, so that the open never blocks.
feed_fifo() {
	exec 7<>"$T/$MARK.in"
	timeout 20 head -c "$1" "$2" >&7 || fail "nobody read $T/$MARK.in"
}

# signum NAME: the signal's number.
signum() {
	kill -l "$1"
}

# --- the filters: entropy-frame, entropy-unframe, aescbc-enc/dec ---------

fault_full() {
	case_start "$1"
	filter "$1"
	ln -s "$IN" "$T/$MARK.in"
	if [ -z "$OUT" ]; then
		run bash -c "$CMD >/dev/full"
	else
		run bash -c "$(shim FAULT_WRITE_FD=file FAULT_WRITE_AFTER=1000000 \
		    FAULT_ERRNO=ENOSPC) $CMD"
	fi
	assert_failure 1
	assert_output --regexp "^[a-z-]+: .*No space left on device$"
	assert_clean
}

fault_pipe() {
	case_start "$1"
	filter "$1"
	ln -s "$IN" "$T/$MARK.in"
	run bash -o pipefail -c "$CMD | head -c 100 >/dev/null"
	assert_failure 1
	assert_output --regexp "^[a-z-]+: .*Broken pipe$"
	assert_clean
}

fault_eio() {
	case_start "$1"
	filter "$1"
	ln -s "$IN" "$T/$MARK.in"
	run bash -c "$(shim FAULT_READ_FD=file FAULT_READ_AFTER=3000000) \
	    $CMD >'$T/stdout'"
	assert_failure 1
	# The exact input offset where reading failed.
	assert_output --regexp "^[a-z-]+: .*read error (after 3000000 bytes|at offset 3000000): Input/output error$"
	assert_prefix "$T/stdout" "$WANT"
	assert_clean
}

# fault_signal NAME SIG: SIG arrives once 4 MiB of input went in and the
# output has started growing; the rest of the input never comes.
fault_signal() {
	local pid st=0
	case_start "$1"
	filter "$1"
	mkfifo "$T/$MARK.in"
	bash -c "exec $CMD" >"$T/stdout" 2>"$T/err" &
	pid=$!
	PIDS+=("$pid")
	feed_fifo 4194304 "$IN"
	wait_output "$pid" "$T/stdout"
	kill -"$2" "$pid"
	wait "$pid" 2>/dev/null || st=$?
	exec 7>&-
	assert_equal "$st" $((128 + $(signum "$2")))
	assert_prefix "$T/stdout" "$WANT"
	rm "$T/$MARK.in"
	assert_clean
}

@test "ENOSPC: every filter fails with status 1 and says so" {
	local c
	for c in $STDOUT_FILTERS; do
		fault_full "$c"
	done
}

@test "ENOSPC on the -o file (shim): entropy-unframe -o fails, publishes nothing" {
	need_shim
	fault_full unframe-o
}

@test "EPIPE: every filter writing into a closed pipe fails with status 1" {
	local c
	for c in $STDOUT_FILTERS; do
		fault_pipe "$c"
	done
}

@test "EIO mid-way through the input (shim): every filter fails with status 1" {
	local c
	need_shim
	for c in $FILTERS; do
		fault_eio "$c"
	done
}

@test "SIGTERM mid-transfer: every filter dies of it, nothing is left" {
	local c
	for c in $FILTERS; do
		fault_signal "$c" TERM
	done
}

@test "SIGKILL mid-transfer: every filter dies of it, nothing is left" {
	local c
	for c in $FILTERS; do
		fault_signal "$c" KILL
	done
}

# The calls that finish an -o file, and the message each failure gives.
FINISH_CALLS="fsync linkat close rename"
finish_msg() {
	case $1 in
	linkat)	echo "cannot name the temporary file: Input/output error" ;;
	*)	echo "$1: Input/output error" ;;
	esac
}

@test "entropy-unframe -o: fsync, linkat, close or rename failing (shim) publishes nothing" {
	local c
	need_shim
	for c in $FINISH_CALLS; do
		case_start "unframe-o-$c"
		filter unframe-o
		ln -s "$IN" "$T/$MARK.in"
		run bash -c "$(shim FAULT_CALL=$c) $CMD"
		assert_failure 1
		assert_output "entropy-unframe: $OUT: $(finish_msg "$c")"
		assert_clean
	done
}

# fault_short_reads NAME: no read returns more than 1000 bytes, from a
# file and from a pipe: the output is still exact.
fault_short_reads() {
	case_start "$1"
	filter "$1"
	ln -s "$IN" "$T/$MARK.in"
	run bash -c "$(shim FAULT_READ_MAX=1000) $CMD >'$T/stdout'"
	assert_success
	[ -z "$OUT" ] || mv "$OUT" "$T/stdout"
	cmp "$T/stdout" "$WANT"
	rm "$T/$MARK.in"
	cat "$IN" >"$T/$MARK.in.data"
	mkfifo "$T/$MARK.in"
	run bash -c "cat '$T/$MARK.in.data' >'$T/$MARK.in' &
	    $(shim FAULT_READ_MAX=1000) $CMD >'$T/stdout'"
	assert_success
	[ -z "$OUT" ] || mv "$OUT" "$T/stdout"
	cmp "$T/stdout" "$WANT"
}

@test "short reads (shim): every filter is exact when no read returns over 1000 bytes" {
	local c
	need_shim
	for c in $FILTERS; do
		fault_short_reads "$c"
	done
}

# fault_nonblock NAME: stdin and stdout come non-blocking (O_NONBLOCK
# inherited), with a producer and a consumer that start late: the filter
# waits for them as with blocking pipes.
fault_nonblock() {
	case_start "$1"
	filter "$1"
	[ -z "$OUT" ] || return 0
	CMD=${CMD%" '$T/$MARK.in'"}
	run bash -o pipefail -c "{ sleep 0.5; cat '$IN'; } |
	    $(shim FAULT_NONBLOCK=0,1) $CMD | { sleep 0.5; cat; } >'$T/stdout'"
	assert_success
	cmp "$T/stdout" "$WANT"
}

@test "non-blocking stdin and stdout (shim): every filter waits, as on blocking ones" {
	local c
	need_shim
	for c in $FILTERS; do
		fault_nonblock "$c"
	done
}

# piped 'CMD' N: runs the pipeline CMD; status from its Nth command (0 is
# the first), output from the stderr CMD sent to $T/err.
piped() {
	run bash -c "$1; st=\${PIPESTATUS[$2]}; cat '$T/err'; exit \$st"
}

@test "the splice path (shim): EIO and ENOSPC on it are told as on read and write" {
	need_shim
	case_start frame-splice-eio
	piped "$(shim FAULT_READ_FD=file FAULT_READ_AFTER=3000000) \
	    entropy-frame '$D/raw' 2>'$T/err' | cat >'$T/stdout'" 0
	assert_failure 1
	assert_output "entropy-frame: $D/raw: read error after 3000000 bytes: Input/output error"
	assert_prefix "$T/stdout" "$D/plain.es"
	case_start unframe-splice-eio
	piped "cat '$D/plain.es' | $(shim FAULT_READ_FD=0 FAULT_READ_AFTER=3000000) \
	    entropy-unframe 2>'$T/err' | cat >'$T/stdout'" 1
	assert_failure 1
	assert_output "entropy-unframe: read error at offset 3000000: Input/output error"
	assert_prefix "$T/stdout" "$D/raw"
	case_start unframe-o-splice-enospc
	filter unframe-o
	piped "cat '$D/plain.es' | $(shim FAULT_WRITE_FD=file \
	    FAULT_WRITE_AFTER=3000000 FAULT_ERRNO=ENOSPC) \
	    entropy-unframe -o '$OUT' 2>'$T/err'" 1
	assert_failure 1
	assert_output "entropy-unframe: $OUT: write error: No space left on device"
	assert_clean
}

@test "splice refused or failing on every call (shim): read and write carry the same bytes" {
	local errno env
	need_shim
	for errno in EINVAL EIO; do
		case_start "splice-$errno"
		env=$(shim FAULT_CALL=splice FAULT_ERRNO=$errno)
		# A file into a pipe, a pipe into a pipe.
		bash -o pipefail -c "$env entropy-frame '$D/raw' |
		    $env entropy-unframe | cat >'$T/out'"
		cmp "$D/raw" "$T/out"
		# A pipe into the spool file, the spool file into a pipe.
		bash -o pipefail -c "cat '$D/raw' | $env entropy-frame |
		    cat >'$T/s'"
		cmp "$D/plain.es" "$T/s"
		# A pipe into a pipe (-s), a pipe into the -o file.
		bash -o pipefail -c "cat '$D/raw' |
		    $env entropy-frame -s $(stat -c %s "$D/raw") |
		    $env entropy-unframe -o '$T/out'"
		cmp "$D/raw" "$T/out"
	done
}

# frames_held DIR J IN IN_CHUNK OUT_CHUNK [N]: the first N (default 40)
# chunks of IN (an entropy stream with chunks of IN_CHUNK bytes, prefix
# included) and 10 bytes of the next go through a pipe to aescbc DIR
# --frames -j J, which reads at most 512 bytes at a time, so the pipe
# still holds bytes each time it looks.  The N whole chunks must go out
# (OUT_CHUNK bytes each) while the rest of the next never comes.
frames_held() {
	local pid i st=0 n=${6:-40}
	local want=$((1044 + n * $5))
	case_start "$1-j$2-$n"
	mkfifo "$T/$MARK.in"
	exec 7<>"$T/$MARK.in"
	head -c $((1044 + n * $4 + 10)) "$3" >&7 &
	PIDS+=($!)
	env LD_PRELOAD="$PRELOAD" FAULT_READ_MAX=512 aescbc-"$1" --frames -j "$2" \
	    -k "$D/key" -i "$D/iv" "$T/$MARK.in" >"$T/stdout" 2>"$T/err" 7>&- &
	pid=$!
	PIDS+=("$pid")
	for ((i = 0; i < 100; i++)); do
		[ "$(stat -c %s "$T/stdout")" -ge "$want" ] && break
		sleep 0.1
	done
	assert_equal "$(stat -c %s "$T/stdout")" "$want"
	exec 7>&-
	wait "$pid" || st=$?
	assert_equal "$st" 3
	grep -q truncated "$T/err"
}

@test "aescbc --frames (shim): whole chunks go out while the next one is incomplete" {
	local j
	need_shim
	head -c 100000 "$D/raw" | entropy-frame -b 1024 -s 100000 >"$T/small.es"
	aescbc-enc --frames -k "$D/key" -i "$D/iv" "$T/small.es" >"$T/small.enc"
	# 16-byte chunks: 4096 fill a batch, handed to a worker (-j 2) just
	# as the input pauses.
	head -c 100000 "$D/raw" | entropy-frame -b 16 -c 32 -s 100000 >"$T/tiny.es"
	aescbc-enc --frames -k "$D/key" -i "$D/iv" "$T/tiny.es" >"$T/tiny.enc"
	cp "$T/small.es" "$T/small.enc" "$T/tiny.es" "$T/tiny.enc" "$D/"
	for j in 1 2; do
		frames_held enc "$j" "$D/small.es" 1028 1044
		frames_held dec "$j" "$D/small.enc" 1044 1028
		frames_held enc "$j" "$D/tiny.es" 20 36 4096
		frames_held dec "$j" "$D/tiny.enc" 36 20 4096
	done
}

# --- rcp-quic-recv (stdout, -o) and rcp-quic-send ------------------------

# bg NAME CMDLINE: runs CMDLINE (bash, pipefail) in the background, fd 3
# (the ready line) to $T/NAME.ready, stderr to $T/NAME.err; its pid goes
# into NAME_pid.  CMDLINE starts with exec where the pid must be the
# program's own.
bg() {
	bash -o pipefail -c "$2" 3>"$T/$1.ready" 2>"$T/$1.err" &
	PIDS+=($!)
	printf -v "${1}_pid" '%s' "$!"
}

# wait_ready NAME: waits (10 s at most) for NAME's ready line; sets ADDR
# and PIN from it.
wait_ready() {
	local i line
	for ((i = 0; i < 100; i++)); do
		if line=$(head -n 1 "$T/$1.ready" 2>/dev/null) &&
		    [[ $line == RCP_QUIC\ *\ sha256:* ]]; then
			read -r _ ADDR PIN <<<"$line"
			return 0
		fi
		sleep 0.1
	done
	fail "no ready line from $1: $(cat "$T/$1.err")"
}

# wait_exit NAME [SECS]: waits for NAME to end (SIGKILL after SECS,
# default 20) and sets NAME_rc.
wait_exit() {
	local pid_var="${1}_pid" i rc=0
	local pid=${!pid_var}
	for ((i = 0; i < ${2:-20} * 10; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	{ kill -9 "$pid" && echo "$1 killed after ${2:-20} s" >&2; } 2>/dev/null
	wait "$pid" 2>/dev/null || rc=$?
	printf -v "${1}_rc" '%s' "$rc"
}

QUIC_T="--idle-timeout 3"

# recv_cmd stdout|o: a listening receiver; -o writes $T/$MARK.out.
recv_cmd() {
	RECV="rcp-quic-recv --listen 127.0.0.1:0 --ready-fd 3 $QUIC_T"
	[ "$1" = o ] && RECV="$RECV -o '$T/$MARK.out'"
	return 0
}

send_cmd() {
	SEND="rcp-quic-send --connect '$ADDR' --pin '$PIN' $QUIC_T '$T/$MARK.in'"
}

# quic_out_fault stdout|o full|pipe|eio: the receiver's output fails; both
# sides fail and say why.
quic_out_fault() {
	local msg name=stdout
	case_start "recv-$1-$2"
	recv_cmd "$1"
	case $1-$2 in
	stdout-full) bg r "exec $RECV >/dev/full"; msg="No space left on device" ;;
	o-full)	bg r "exec $(shim FAULT_WRITE_FD=file FAULT_WRITE_AFTER=1000000 \
		    FAULT_ERRNO=ENOSPC) $RECV"
		msg="No space left on device" ;;
	stdout-pipe) bg r "$RECV | head -c 100 >/dev/null"; msg="Broken pipe" ;;
	stdout-eio) bg r "$(shim FAULT_WRITE_FD=1 FAULT_WRITE_AFTER=1000000) \
		    $RECV | cat >/dev/null"
		msg="Input/output error" ;;
	esac
	wait_ready r
	ln -s "$D/raw" "$T/$MARK.in"
	send_cmd
	run bash -c "$SEND 3>&-"
	assert_failure 1
	assert_output --partial "peer failed: receiver output failed: write: $msg"
	wait_exit r
	assert_equal "$r_rc" 1
	run cat "$T/r.err"
	[ "$1" = o ] && name="$T/$MARK.out"
	# Ours names our output; the sender was told whose output failed.
	assert_output --partial "rcp-quic-recv: $name: write error: $msg"
	assert_clean
}

# quic_signal recv-stdout|recv-o|send SIG: SIG to one side once its data
# flows (4 MiB in, the rest held back); the other side fails.
quic_signal() {
	local victim other
	case_start "$1"
	recv_cmd "${1#recv-}"
	bg r "exec $RECV >'$T/stdout'"
	wait_ready r
	mkfifo "$T/$MARK.in"
	send_cmd
	bg s "exec $SEND 3>&-"
	feed_fifo 4194304 "$D/raw"
	wait_output "$r_pid" "$T/stdout"
	if [ "$1" = send ]; then victim=s other=r; else victim=r other=s; fi
	kill -"$2" "$(eval echo "\$${victim}_pid")"
	wait_exit "$victim"
	wait_exit "$other"
	exec 7>&-
	assert_equal "$(eval echo "\$${victim}_rc")" $((128 + $(signum "$2")))
	assert_equal "$(eval echo "\$${other}_rc")" 1
	run cat "$T/$other.err"
	if [ "$2" = KILL ]; then
		assert_output --regexp "is gone|connection timed out"
	else
		# A signal it can catch: the victim says so to its peer.
		assert_output --regexp "peer failed: (sender|receiver) interrupted"
	fi
	assert_prefix "$T/stdout" "$D/raw"
	rm "$T/$MARK.in"
	assert_clean
}

@test "rcp-quic-recv: ENOSPC and EPIPE on stdout: both sides fail" {
	quic_out_fault stdout full
	quic_out_fault stdout pipe
}

@test "rcp-quic-recv: EIO writing into a pipe (shim): both sides fail" {
	need_shim
	quic_out_fault stdout eio
}

@test "rcp-quic-recv: -o or stdout file failing to finish (shim): both sides fail, nothing published" {
	local c
	need_shim
	for c in $FINISH_CALLS stdout-fsync; do
		case_start "recv-finish-$c"
		if [ "$c" = stdout-fsync ]; then
			recv_cmd stdout
			bg r "exec $(shim FAULT_CALL=fsync) $RECV >'$T/stdout'"
		else
			recv_cmd o
			bg r "exec $(shim FAULT_CALL=$c) $RECV"
		fi
		wait_ready r
		ln -s "$D/raw" "$T/$MARK.in"
		send_cmd
		run bash -c "$SEND 3>&-"
		assert_failure 1
		assert_output --partial "peer failed: receiver output failed: "
		wait_exit r
		assert_equal "$r_rc" 1
		run cat "$T/r.err"
		if [ "$c" = stdout-fsync ]; then
			assert_output --partial "rcp-quic-recv: stdout: fsync: Input/output error"
		else
			assert_output --partial "rcp-quic-recv: $T/$MARK.out: $(finish_msg "$c")"
		fi
		assert_clean
	done
}

@test "rcp-quic-send and -recv: non-blocking stdin and stdout (shim)" {
	need_shim
	case_start quic-nonblock
	recv_cmd stdout
	bg r "$(shim FAULT_NONBLOCK=1) $RECV | { sleep 0.5; cat; } >'$T/stdout'"
	wait_ready r
	run bash -o pipefail -c "{ sleep 0.5; cat '$D/raw'; } |
	    $(shim FAULT_NONBLOCK=0) rcp-quic-send --connect '$ADDR' --pin '$PIN' $QUIC_T 3>&-"
	assert_success
	wait_exit r
	assert_equal "$r_rc" 0
	cmp "$T/stdout" "$D/raw"
}

@test "rcp-quic-recv -o: ENOSPC on the file (shim): both sides fail, no file" {
	need_shim
	quic_out_fault o full
}

@test "rcp-quic-send: EIO mid-way through the input (shim): both fail, no -o file" {
	need_shim
	case_start send-eio
	recv_cmd o
	bg r "exec $RECV"
	wait_ready r
	ln -s "$D/raw" "$T/$MARK.in"
	send_cmd
	run bash -c "$(shim FAULT_READ_FD=file FAULT_READ_AFTER=3000000) $SEND 3>&-"
	assert_failure 1
	assert_output --partial "rcp-quic-send: $T/$MARK.in: read error: Input/output error"
	wait_exit r
	assert_equal "$r_rc" 1
	run cat "$T/r.err"
	assert_output --partial "peer failed: sender input failed: read: Input/output error"
	assert_clean
}

@test "rcp-quic-recv/send: SIGTERM and SIGKILL to either side mid-transfer" {
	local c sig
	for sig in TERM KILL; do
		for c in recv-stdout recv-o send; do
			quic_signal "$c" "$sig"
		done
	done
}

# --- rcp-launch --pull: the local output ----------------------------------

# launch_bin [WRAP]: a --remote-bin directory $T/$MARK whose rcp-quic-*
# run the real ones, under WRAP (a command prefix) if given; its name
# carries $MARK, so that pgrep -f "$MARK" finds the remote listener.
launch_bin() {
	local d="$T/$MARK" p
	mkdir -p "$d"
	for p in rcp-quic-send rcp-quic-recv; do
		printf '#!/bin/sh\nexec %s %s "$@"\n' "${1:-}" "$TOP/bin/$p" >"$d/$p"
		chmod +x "$d/$p"
	done
	echo "$d"
}

# launch_fault full|pipe|eio: the local output fails, or the remote
# sender's input does (the shim, remotely).
launch_fault() {
	local d
	case_start "launch-$1"
	ln -s "$D/raw" "$T/$MARK.in"
	if [ "$1" = eio ]; then
		d=$(launch_bin "$(shim FAULT_READ_FD=0 FAULT_READ_AFTER=3000000)")
	else
		d=$(launch_bin)
	fi
	case $1 in
	full)	run bash -c "rcp-launch --pull --remote-bin '$d' testhost cat '$T/$MARK.in' >/dev/full"
		assert_failure 1
		assert_output --partial "No space left on device" ;;
	pipe)	run bash -o pipefail -c "rcp-launch --pull --remote-bin '$d' testhost cat '$T/$MARK.in' | head -c 100 >/dev/null"
		# As ssh(1) and plain mode: a closed stdout is SIGPIPE's status.
		assert_failure 141 ;;
	eio)	run bash -c "rcp-launch --pull --remote-bin '$d' testhost cat '$T/$MARK.in' >'$T/stdout'"
		assert_failure 1
		# Whichever comes first: the remote sender's own line (it
		# names its input) or ours (the peer's failure, as told).
		assert_output --regexp "(testhost: rcp-quic-send: stdin: read error|sender input failed: read): Input/output error"
		assert_prefix "$T/stdout" "$D/raw" ;;
	esac
	assert_clean
}

# launch_signal SIG: SIG to rcp-launch once the data flows (the remote
# cat read 4 MiB of the FIFO $T/$MARK.in and waits for more).
launch_signal() {
	local d pid st=0
	case_start "launch-$1"
	mkfifo "$T/$MARK.in"
	d=$(launch_bin)
	rcp-launch --pull --remote-bin "$d" testhost cat "$T/$MARK.in" \
	    >"$T/stdout" 2>"$T/err" &
	pid=$!
	PIDS+=("$pid")
	feed_fifo 4194304 "$D/raw"
	wait_output "$pid" "$T/stdout"
	kill -"$1" "$pid"
	wait "$pid" 2>/dev/null || st=$?
	assert_equal "$st" $((128 + $(signum "$1")))
	# SPEC §6: every remote process is gone within 5 seconds.
	wait_gone "$MARK"
	exec 7>&-
	assert_prefix "$T/stdout" "$D/raw"
	rm "$T/$MARK.in"
	assert_clean
}

@test "rcp-launch --pull: ENOSPC and EPIPE on stdout" {
	launch_fault full
	launch_fault pipe
}

@test "rcp-launch --pull: EIO in the remote sender's input (shim)" {
	need_shim
	launch_fault eio
}

@test "rcp-launch --pull: SIGTERM and SIGKILL mid-transfer leave no process" {
	launch_signal TERM
	launch_signal KILL
}
