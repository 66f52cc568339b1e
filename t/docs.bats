#!/usr/bin/env bats
# Every program has a lint-clean, dated man page, a --help that describes
# every option the man page documents, one-line errors for a mistyped
# option, and bash + zsh completions that, driven as a user's
# TAB drives them (t/complete.bash, t/complete.zsh), offer every long
# option its man page documents and complete files and choices.

bats_require_minimum_version 1.5.0
load test_helper

setup() { setup_tmp; }

programs() {
	for src in "$TOP"/cmd/*.c; do basename "$src" .c; done
}

# man_options PROG: the options its man page documents, long and short:
# its SYNOPSIS and the .It and .Op lines elsewhere (options of other
# programs named in prose do not count).  mdoc writes --name as
# "Fl Fl name" or "Fl \-name".
man_options() {
	awk '/^\.Sh / { syn = $2 == "SYNOPSIS" } syn || /^\.(It|Op) /' \
	    "$TOP/man/$1.1" |
		grep -oE 'Fl (Fl |\\-)[a-z][a-z0-9-]*|Fl [A-Za-z]( |$)' |
		sed -E 's/^Fl (Fl |\\-)/--/; s/^Fl ([A-Za-z]) ?$/-\1/' | sort -u
}

# long_options PROG: the --options of man_options.
long_options() {
	man_options "$1" | grep -- '^--'
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

# described OPT: a -h line that starts with OPT ("-b, --buffer-size SIZE",
# "--progress[=NAME]") and then, after two spaces, says what it does.
described() {
	if [[ $1 == --* ]]; then
		assert_line --regexp "^ +(-[A-Za-z], )?$1([ =[][^ ]*)?  +[^ ]"
	else
		assert_line --regexp "^ +$1(, --[a-z0-9-]+)?([ =[][^ ]*)?  +[^ ]"
	fi
}

# rcp-launch's help is checked in t/launch.bats, against its man page and
# its bash completion both.
@test "--help describes each option of the man page on a line of its own" {
	local p opt
	for p in $(programs); do
		[ "$p" != rcp-launch ] || continue
		run --separate-stderr "$p" --help
		assert_success
		[ -z "$stderr" ]
		assert_line --index 0 --partial "usage: $p "
		for opt in $(man_options "$p") -h --help -V --version; do
			described "$opt"
		done
		refute_line --regexp '^.{80}'
		# A usage error stays short: the reason and the synopsis.
		run "$p" x y z
		assert_failure 2
		refute_line --regexp '^ +-h, --help  '
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

# complete SHELL LINE: what SHELL (bash or zsh) offers at the end of LINE,
# through t/complete.SHELL, which drives the shell's own completion.
complete() {
	if [ "$1" = zsh ]; then
		command -v zsh >/dev/null || skip "zsh is not installed"
		"$TOP/t/complete.zsh" "$TOP/completions/zsh" "$2"
	else
		[ -r /usr/share/bash-completion/bash_completion ] ||
			skip "bash-completion is not installed"
		"$TOP/t/complete.bash" "$TOP/completions/bash" "$2"
	fi
}

@test "bash and zsh complete every documented long option, without an error" {
	local sh p opt
	for sh in bash zsh; do
		for p in $(programs); do
			run complete "$sh" "$p --"
			assert_success
			refute_output --partial 'ERROR:'
			for opt in $(long_options "$p"); do
				assert_line -- "$opt"
			done
		done
	done
	head -1 "$TOP/completions/zsh/_rcp-launch" | grep -qx '#compdef rcp-launch'
}

@test "bash and zsh complete file and choice arguments" {
	local sh
	: >"$T/key.pem"
	mkdir "$T/bindir"
	for sh in bash zsh; do
		run complete "$sh" "aescbc-enc -k $T/ke"
		assert_output --partial 'key.pem'
		run complete "$sh" "entropy-unframe -o $T/ke"
		assert_output --partial 'key.pem'
		run complete "$sh" "rcp-quic-recv --identity $T/ke"
		assert_output --partial 'key.pem'
		run complete "$sh" "rcp-launch --remote-bin $T/bi"
		assert_output --partial 'bindir'
		run complete "$sh" "rcp-quic-send --cc "
		assert_output $'bbr\ncubic\nreno'
		run complete "$sh" "entropy-frame --magic "
		assert_output $'dynomite\nseed'
		run complete "$sh" "aescbc-keygen --format "
		assert_output $'hex\npem\nraw'
	done
}
