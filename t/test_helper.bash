# Loaded by every t/*.bats: puts the in-tree programs first on PATH, loads
# the bats helper libraries, and gives each test a private temp dir.
export LANG=C LC_ALL=C
TOP="$(cd "$BATS_TEST_DIRNAME/.." && pwd)"
export TOP
export PATH="$TOP/bin:$PATH"

# make check VALGRIND=1: every program runs under valgrind, which turns any
# memory error or definite leak into exit status 97 (and a report on
# stderr), so the test that ran it fails.
if [ "${VALGRIND:-0}" = 1 ]; then
	vgdir="$BATS_RUN_TMPDIR/valgrind-bin"
	if [ ! -d "$vgdir" ]; then
		mkdir -p "$vgdir.tmp"
		for prog in "$TOP"/bin/*; do
			cat >"$vgdir.tmp/${prog##*/}" <<VG
#!/bin/sh
exec valgrind -q --error-exitcode=97 --leak-check=full \\
	--errors-for-leak-kinds=definite --show-leak-kinds=definite \\
	--trace-children=no "$prog" "\$@"
VG
			chmod +x "$vgdir.tmp/${prog##*/}"
		done
		mv "$vgdir.tmp" "$vgdir" 2>/dev/null || rm -rf "$vgdir.tmp"
	fi
	export PATH="$vgdir:$PATH"
fi

load ../scripts/common

load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'
load '/usr/lib/bats/bats-file/load'

# Per-test scratch space, removed by bats when the test ends.
setup_tmp() {
	T="$BATS_TEST_TMPDIR"
	export T
}

# random_stream BYTES [NAME]: pseudo-random bytes on stdout, reproducible:
# they follow from a seed, NAME and BYTES alone (AES-128-CTR keystream).
# The seed is RCP_TEST_SEED, or one drawn for the test (or the file, when
# drawn in setup_file) and printed with a failing test's output, so that
# RCP_TEST_SEED=N make check BATS_ARGS=t/FILE.bats replays the failure.
random_stream() {
	local key
	if [ -z "${RCP_TEST_SEED:-}" ]; then
		RCP_TEST_SEED=$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')
		export RCP_TEST_SEED
		echo "# random data: RCP_TEST_SEED=$RCP_TEST_SEED" >&2
	fi
	key=$(printf '%s:%s:%s' "$RCP_TEST_SEED" "${2:-}" "$1" | sha256sum | cut -c1-32)
	openssl enc -aes-128-ctr -nosalt -K "$key" -iv 0 </dev/zero 2>/dev/null |
	    head -c "$1"
}

# random_file PATH BYTES: a file of random_stream's bytes, named by PATH's
# last component.
random_file() {
	random_stream "$2" "${1##*/}" >"$1"
}

# in_pty LOG CMD: runs the shell command CMD with a terminal (script(1)'s
# pty) as its stdin, stdout and stderr; what the terminal showed goes to
# LOG, with each \r or \n ending a line, and as it was to LOG.raw.
in_pty() {
	local log=$1
	shift
	script -qefc "$1" "$log.raw" </dev/null >/dev/null
	tr '\r' '\n' <"$log.raw" >"$log"
}

# elapsed_values LOG LABEL: the distinct clock readings of LABEL's lines.
elapsed_values() {
	sed -n "s|^$2: .*/s \([0-9]:[0-9][0-9]:[0-9][0-9]\).*|\1|p" "$1" | sort -u
}

# slow_test: first line of a stress case, a test named "slow: ...": make
# check skips it, make check-slow (RCP_CHECK_SLOW=1) runs it.
slow_test() {
	[ "${RCP_CHECK_SLOW:-0}" = 1 ] || skip "a stress case: make check-slow runs it"
}

# hexdump_of FILE: one hex byte pair per line group, for diff -u.
hexdump_of() {
	xxd -p "$1"
}

# run_pipe 'CMD': runs a shell pipeline with pipefail, for `run`.
run_pipe() {
	run bash -o pipefail -c "$1"
}

# wait_gone PATTERN: true once no process matches (pgrep -f), within 5
# seconds, the bound SPEC §6 sets for remote cleanup.
wait_gone() {
	local i
	for i in $(seq 1 50); do
		pgrep -f "$1" >/dev/null || return 0
		sleep 0.1
	done
	pgrep -af "$1" >&2
	return 1
}

# output_grown PID [BYTES]: true once PID holds open a regular file under
# $T (an -o temporary file, perhaps unnamed: O_TMPFILE) of more than BYTES
# (default 100 kB).  Only files under $T count: under make check
# VALGRIND=1, valgrind's own descriptors (the program's binary) are large
# files too.  A process in another mount namespace (ip netns exec) inside
# a chroot (make fresh-machine) shows its files with the chroot's path in
# front: $T may come anywhere in the link.
output_grown() {
	local f
	for f in /proc/"$1"/fd/*; do
		[[ $(readlink "$f" 2>/dev/null) == *"$T"/* ]] && [ -f "$f" ] &&
		    [ "$(stat -L -c %s "$f" 2>/dev/null || echo 0)" -gt "${2:-100000}" ] &&
		    return 0
	done
	return 1
}

# wait_seen PATTERN: true once a process matches (within 10 s).
wait_seen() {
	local i
	for i in $(seq 1 100); do
		pgrep -f "$1" >/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# fault_preload PROG: the LD_PRELOAD value that loads the fault shim
# (t/fault/fault_inject.c) into PROG; under SANITIZE=1, ASan's runtime
# goes first, as it must be the first library loaded.
fault_preload() {
	local asan
	asan=$(ldd "$TOP/bin/$1" | awk '/libasan/ { print $3 }')
	echo "${asan:+$asan }$TOP/build/libfault_inject.so"
}
