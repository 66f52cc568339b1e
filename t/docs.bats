#!/usr/bin/env bats
# Every program has a lint-clean man page and bash + zsh completions that
# offer every long option its man page documents.

load test_helper

setup() { setup_tmp; }

programs() {
	for src in "$TOP"/cmd/*.c; do basename "$src" .c; done
}

# long_options PROG: the --options its man page documents (.Op and .It
# lines; options of other programs named in prose do not count).
long_options() {
	grep -E '^\.(It|Op) ' "$TOP/man/$1.1" | grep -o 'Fl Fl [a-z][a-z0-9-]*' |
		awk '{ print "--" $3 }' | sort -u
}

@test "every program has a man page that mandoc lints clean" {
	for p in $(programs); do
		assert_file_exists "$TOP/man/$p.1"
		run mandoc -T lint -W warning "$TOP/man/$p.1"
		assert_success
		assert_output ''
	done
}

@test "every man page is dated, in the year of its last change" {
	local p year
	for p in $(programs); do
		run sed -n 1p "$TOP/man/$p.1"
		assert_output --regexp '^\.Dd (January|February|March|April|May|June|July|August|September|October|November|December) [1-9][0-9]?, 20[0-9][0-9]$'
		year=$(git -C "$TOP" log -1 --format=%cd --date=format:%Y -- "man/$p.1" 2>/dev/null)
		[ -z "$year" ] || [[ $output == *", $year" ]]
	done
}

@test "every program's -h matches the man page's name and exits 0" {
	for p in $(programs); do
		run "$p" -h
		assert_success
		assert_output --partial "usage: $p"
		run "$p" --version
		assert_success
		assert_output --regexp "^$p [0-9]+\.[0-9]+\.[0-9]+$"
	done
}

@test "a mistyped option is one line and a hint, status 2, for every program" {
	local p
	for p in $(programs); do
		run "$p" --lisen x
		assert_failure 2
		assert_output - <<-EOF
		$p: unrecognized option '--lisen'
		Try '$p --help' for more information.
		EOF
		run "$p" -Z
		assert_failure 2
		assert_output - <<-EOF
		$p: invalid option -- 'Z'
		Try '$p --help' for more information.
		EOF
	done
	# A missing argument, short and long.
	run entropy-frame -b
	assert_failure 2
	assert_output - <<-'EOF'
	entropy-frame: option requires an argument -- 'b'
	Try 'entropy-frame --help' for more information.
	EOF
	run rcp-quic-recv --listen
	assert_failure 2
	assert_output - <<-'EOF'
	rcp-quic-recv: option '--listen' requires an argument
	Try 'rcp-quic-recv --help' for more information.
	EOF
}

@test "bash completion offers every documented long option" {
	[ -r /usr/share/bash-completion/bash_completion ] ||
		skip "bash-completion is not installed"
	for p in $(programs); do
		f="$TOP/completions/bash/$p"
		assert_file_exists "$f"
		fn=$(bash -c ". /usr/share/bash-completion/bash_completion; . '$f'; complete -p '$p'" |
			sed -n 's/.*-F \([^ ]*\) .*/\1/p')
		[ -n "$fn" ] || { echo "$p: no completion function"; false; }
		offered=$(bash -c ". /usr/share/bash-completion/bash_completion; . '$f'
			COMP_WORDS=('$p' --); COMP_CWORD=1; COMP_LINE='$p --'; COMP_POINT=\${#COMP_LINE}
			$fn '$p' -- '$p'; printf '%s\n' \"\${COMPREPLY[@]}\"")
		for opt in $(long_options "$p"); do
			grep -qx -- "$opt" <<<"$offered" ||
				{ echo "$p: bash completion lacks $opt"; false; }
		done
	done
}

@test "zsh completion parses and names every documented long option" {
	command -v zsh >/dev/null || skip "zsh is not installed"
	for p in $(programs); do
		f="$TOP/completions/zsh/_$p"
		assert_file_exists "$f"
		run zsh -n "$f"
		assert_success
		head -1 "$f" | grep -qx "#compdef $p"
		for opt in $(long_options "$p"); do
			grep -q -- "$opt" "$f" ||
				{ echo "$p: zsh completion lacks $opt"; false; }
		done
	done
}
