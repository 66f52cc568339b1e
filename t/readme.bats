#!/usr/bin/env bats
# Every ```sh block of README.md runs, in order, in one scratch directory
# that holds a dump.rdb, so the README cannot rot.  The hosts db1 and db2
# are a throwaway sshd on a loopback port whose sessions have bin/ on
# their PATH; paths under /var/lib/redis/ are mapped into the scratch
# directory.

load test_helper
load ../scripts/throwaway-sshd

setup_file() {
	SSHD_EXTRA_CONFIG="SetEnv PATH=$TOP/bin:/usr/bin:/bin" sshd_start
}

teardown_file() { sshd_stop; }

setup() { setup_tmp; }

# readme_blocks: the sh blocks, each followed by a line "#--end-of-block--".
readme_blocks() {
	awk '/^```sh$/ { on = 1; next } /^```$/ && on { on = 0; print "#--end-of-block--"; next } on' \
		"$TOP/README.md"
}

@test "README has runnable examples" {
	run readme_blocks
	assert_success
	[ "$(grep -c '^#--end-of-block--$' <<<"$output")" -ge 3 ]
}

@test "every sh block of README.md runs and succeeds" {
	cd "$T"
	random_file dump.rdb 1000000
	n=0
	block=
	while IFS= read -r line; do
		if [ "$line" = '#--end-of-block--' ]; then
			n=$((n + 1))
			printf '%s\n' "$block" | sed "s#/var/lib/redis/#$T/#g" >"block$n.sh"
			run bash -euo pipefail "block$n.sh"
			[ "$status" -eq 0 ] || {
				echo "README block $n failed with status $status:"
				cat "block$n.sh"
				echo "--- output:"
				echo "$output"
				false
			}
			block=
		else
			block+="$line"$'\n'
		fi
	done < <(readme_blocks)
	[ "$n" -ge 3 ]
}

@test "the documented messages are the programs' own" {
	cd "$T"
	random_file dump.rdb 1000000
	entropy-frame dump.rdb >dump.entropy
	run bash -c 'head -c 5000 dump.entropy | entropy-unframe -o partial.rdb'
	assert_failure 3
	grep -qxF -- "$output" "$TOP/README.md"
	run entropy-unframe --inspect dump.entropy
	while IFS= read -r line; do
		grep -qxF -- "$line" "$TOP/README.md" || { echo "not in README: $line"; false; }
	done <<<"$output"
}
