#!/usr/bin/perl
# udp_delay_proxy.pl DELAY_MS TARGET_PORT: a UDP relay on 127.0.0.1 that
# holds every datagram DELAY_MS before passing it on to
# 127.0.0.1:TARGET_PORT, and every answer as long before passing it back
# to the client that last wrote: a path with a round trip of twice
# DELAY_MS, for tests of rcp-quic-* over a slow path (loopback has no
# netem here).  ICMP errors are not relayed.  Writes "RCP_QUIC
# 127.0.0.1:PORT sha256:" on fd 3 once bound (the shape read_ready in
# scripts/common.bash expects), then relays until killed.
use strict;
use warnings;
use IO::Select;
use IO::Socket::INET;
use Socket qw(SOL_SOCKET SO_RCVBUF MSG_DONTWAIT);
use Time::HiRes qw(time);

my ($delay, $target) = @ARGV;
$delay /= 1000;
my $front = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
    Proto => 'udp') or die "front: $!";
my $back = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$target",
    Proto => 'udp') or die "back: $!";
# A burst held for DELAY_MS must not overflow the kernel's queue.
for my $s ($front, $back) {
	setsockopt($s, SOL_SOCKET, SO_RCVBUF, 8 << 20);
}
open(my $ready, '>&=', 3) or die "fd 3: $!";
print $ready 'RCP_QUIC 127.0.0.1:', $front->sockport, " sha256:\n";
close $ready;

my $sel = IO::Select->new($front, $back);
my ($client, @queue);	# [due, socket it goes out of, datagram]
for (;;) {
	my $now = time;
	while (@queue && $queue[0][0] <= $now) {
		my (undef, $out, $data) = @{shift @queue};
		if ($out == $back) {
			$back->send($data);
		} elsif (defined $client) {
			$front->send($data, 0, $client);
		}
	}
	my $wait = @queue ? $queue[0][0] - $now : undef;
	$wait = 0 if defined $wait && $wait < 0;
	for my $s ($sel->can_read($wait)) {
		for (;;) {
			my $from = $s->recv(my $data, 65536, MSG_DONTWAIT);
			last unless defined $from;	# drained, or an ICMP error
			if ($s == $front) {
				$client = $from;
				push @queue, [time + $delay, $back, $data];
			} else {
				push @queue, [time + $delay, $front, $data];
			}
		}
	}
}
