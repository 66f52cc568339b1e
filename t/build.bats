#!/usr/bin/env bats
# The build targets of SPEC §0 that a packager or a fresh machine relies on.

load test_helper

setup() { setup_tmp; }

@test "make install honours PREFIX and DESTDIR" {
	run make -C "$TOP" -s install DESTDIR="$T/root" PREFIX=/opt/rcp
	assert_success
	for src in "$TOP"/cmd/*.c; do
		p=$(basename "$src" .c)
		assert_file_executable "$T/root/opt/rcp/bin/$p"
		assert_file_exists "$T/root/opt/rcp/share/man/man1/$p.1"
		assert_file_exists "$T/root/opt/rcp/share/bash-completion/completions/$p"
		assert_file_exists "$T/root/opt/rcp/share/zsh/site-functions/_$p"
	done
	run "$T/root/opt/rcp/bin/entropy-frame" --version
	assert_success
}

@test "make deps is quiet when everything is installed" {
	run make -C "$TOP" -s deps
	assert_success
	assert_output ''
}
