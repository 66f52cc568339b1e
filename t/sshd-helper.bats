#!/usr/bin/env bats
# The test harness's throwaway sshd (scripts/throwaway-sshd.bash) itself:
# the suites that need an sshd rely on it starting under load.

load test_helper
load ../scripts/throwaway-sshd

@test "the throwaway sshd tries another port when its first is taken" {
	setup_tmp
	# A listener holds a port; free_port hands it out first.
	perl -MIO::Socket::INET -e '
		my $s = IO::Socket::INET->new(LocalAddr => "127.0.0.1",
		    LocalPort => 0, Listen => 1) or die;
		print $s->sockport, "\n"; close STDOUT; sleep 60' >"$T/busy" &
	local holder=$!
	for _ in $(seq 50); do [ -s "$T/busy" ] && break; sleep 0.1; done
	BUSY=$(cat "$T/busy")
	free_port() {
		if [ ! -e "$T/once" ]; then : >"$T/once"; echo "$BUSY"
		else echo $((30000 + RANDOM % 20000)); fi
	}
	sshd_start "$T"
	[ "$SSHD_PORT" != "$BUSY" ]
	sshd_stop
	kill "$holder"
}
