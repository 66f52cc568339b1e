#!/usr/bin/perl
# socketpair.pl in|out CMD [ARG...]: runs CMD with its stdin (in) or its
# stdout (out) on one end of a Unix stream socket pair, and relays the
# other end from our stdin or to our stdout; exits with CMD's status.
# For the tests of a program whose input or output is a socket.
use strict;
use warnings;
use Socket;

my $dir = shift @ARGV;
die "usage: socketpair.pl in|out CMD [ARG...]\n"
    unless defined $dir && ($dir eq 'in' || $dir eq 'out') && @ARGV;
socketpair(my $ours, my $theirs, AF_UNIX, SOCK_STREAM, PF_UNSPEC)
    or die "socketpair: $!\n";
my $pid = fork // die "fork: $!\n";
if ($pid == 0) {
	close $ours;
	if ($dir eq 'in') {
		open(STDIN, '<&', $theirs) or die "stdin: $!\n";
	} else {
		open(STDOUT, '>&', $theirs) or die "stdout: $!\n";
	}
	close $theirs;
	exec @ARGV or die "$ARGV[0]: $!\n";
}
close $theirs;
my ($from, $to) = $dir eq 'in' ? (\*STDIN, $ours) : ($ours, \*STDOUT);
binmode $from;
binmode $to;
my $buf;
while (1) {
	my $n = sysread($from, $buf, 65536);
	die "read: $!\n" unless defined $n;
	last if $n == 0;
	my $off = 0;
	while ($off < $n) {
		my $w = syswrite($to, $buf, $n - $off, $off);
		die "write: $!\n" unless defined $w;
		$off += $w;
	}
}
shutdown($ours, 1) if $dir eq 'in';	# the program's end of input
close $ours if $dir eq 'out';
waitpid($pid, 0);
exit($? & 127 ? 128 + ($? & 127) : $? >> 8);
