#!/usr/bin/perl
# delay_proxy.pl DELAY_MS TARGET_PORT: a TCP proxy on 127.0.0.1 that
# holds every byte, and each end of stream, DELAY_MS before passing it on
# to 127.0.0.1:TARGET_PORT or back: a link with that one-way delay, for
# tests of rcp-launch over a slow path.  Writes "RCP_QUIC 127.0.0.1:PORT
# sha256:" on fd 3 once listening (the shape scripts/common.bash's
# read_ready expects), then serves connections until killed.
use strict;
use warnings;
use IO::Select;
use IO::Socket::INET;
use Time::HiRes qw(time);

my ($delay, $target) = @ARGV;
$SIG{PIPE} = "IGNORE";	# a write to a closed end fails, no more
$delay /= 1000;
my $l = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
    Listen => 16, ReuseAddr => 1) or die "listen: $!";
open(my $ready, '>&=', 3) or die "fd 3: $!";
print $ready 'RCP_QUIC 127.0.0.1:', $l->sockport, " sha256:\n";
close $ready;

my $sel = IO::Select->new($l);
my (%peer, %queue);	# socket -> other socket; socket -> [[due, data]]
for (;;) {
	my $now = time;
	my $next;
	for my $s (keys %queue) {
		my $q = $queue{$s};
		while (@$q && $q->[0][0] <= $now) {
			my (undef, $data, $out) = @{shift @$q};
			if (defined $data) {
				syswrite($out, $data);
			} else {
				shutdown($out, 1);
			}
		}
		$next = $q->[0][0] if @$q && (!defined $next || $q->[0][0] < $next);
	}
	my @r = $sel->can_read(defined $next ? $next - $now : undef);
	for my $s (@r) {
		if ($s == $l) {
			my $c = $l->accept or next;
			my $t = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$target")
			    or do { close $c; next };
			$peer{$c} = $t;
			$peer{$t} = $c;
			$sel->add($c, $t);
			next;
		}
		my $out = $peer{$s};
		my $n = sysread($s, my $buf, 65536);
		push @{$queue{$s}}, [time + $delay, $n ? $buf : undef, $out];
		$sel->remove($s) unless $n;
	}
}
