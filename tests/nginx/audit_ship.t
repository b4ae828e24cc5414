#!/usr/bin/perl

# audit_ship.t: the off-host copy.  `dgj-audit ship` sends every complete
# line of the audit files to a syslog receiver over TCP (RFC 5424 with
# octet counting); the lines arrive whole and still verify there, also as
# a receiver may store them (`verify --received`: headers, a rotated file's
# lines after the new one's, a batch resent); with its position kept, a
# second run sends only what is new, and a receiver that is down loses
# nothing (the position does not move).

use strict;
use warnings;

use File::Temp qw(tempdir);
use IO::Socket::INET;
use Test::More;
use DgjTest qw(base_url http);

my $root = $ENV{DGJ_ROOT} or die "DGJ_ROOT is not set: run make test\n";
my $var  = $ENV{DGJ_VAR} or die "DGJ_VAR is not set: run make test\n";
my $tool = "$root/build/bin/dgj-audit";
my $dir  = "$var/log/audit";
my $tmp  = tempdir(CLEANUP => 1);
my $pos  = "$tmp/ship.pos";

# a receiver in a child: writes the message bodies it gets to a file
sub receive {
    my ($out) = @_;

    my $l = IO::Socket::INET->new(Listen => 5, LocalAddr => '127.0.0.1',
                                  LocalPort => 0, ReuseAddr => 1)
        or die "listen: $!";
    my $port = $l->sockport;
    my $pid = fork();

    if ($pid == 0) {
        open(my $fh, '>', $out) or exit 1;
        $l->timeout(20);
        my $c = $l->accept or exit 1;
        my $buf = '';
        while (sysread($c, $buf, 65536, length $buf)) {
            while ($buf =~ /^(\d+) /) {
                my ($n, $skip) = ($1, length($1) + 1);
                last if length($buf) < $skip + $n;
                my $msg = substr($buf, $skip, $n);
                substr($buf, 0, $skip + $n) = '';
                print $fh "$msg\n";
            }
        }
        close($fh);
        exit 0;
    }

    return ($port, $pid);
}

sub lines_of {
    my (@files) = @_;

    my @l;
    for my $f (@files) {
        open(my $fh, '<', $f) or next;
        push @l, grep { /\n\z/ } <$fh>;
    }
    chomp @l;

    return @l;
}

http()->get(base_url() . '/api/v1/districts?ship=1') for 1 .. 5;
sleep 1.5;

my @files = grep { !/\.lock$/ } glob("$dir/audit.log*");
my @want = lines_of(@files);

my ($port, $pid) = receive("$tmp/got1");
system("$tool ship --once --to 127.0.0.1:$port --state $pos $dir "
       . ">/dev/null 2>&1");
is($? >> 8, 0, 'ship-1.1: dgj-audit ship sends the log');
waitpid($pid, 0);

my @msgs = lines_of("$tmp/got1");
ok((!grep { !/^<166>1 \S+ \S+ dgj-audit - - - \{/ } @msgs) && @msgs,
   'ship-1.2: RFC 5424 messages, facility local4, app dgj-audit');
my %got = map { (my $b = $_) =~ s/^[^{]*//; ($b => 1) } @msgs;
ok(@want >= 5 && !(grep { !$got{$_} } @want),
   'ship-1.3: every line of the files arrived, whole (' . scalar(@want)
   . ' lines)');

open(my $fh, '>', "$tmp/shipped.log") or die $!;
print $fh map { (my $b = $_) =~ s/^[^{]*//; "$b\n" } @msgs;
close($fh);
my $out = `$tool verify --keys $var/secrets/audit $tmp/shipped.log 2>&1`;
is($? >> 8, 0, 'ship-1.4: the copy verifies on the receiving side')
    or diag($out);

# a receiver's file as it can be: the syslog headers kept, the lines of a
# file rotated away after those of the new one, and a resent batch
my $half = int(@msgs / 2);
my @copy = (@msgs[$half .. $#msgs], @msgs[0 .. $half - 1], @msgs[0 .. 2]);
sub copy_file {
    my ($name, @l) = @_;

    open(my $c, '>', "$tmp/$name") or die $!;
    print $c map { "$_\n" } @l;
    close($c);

    my $o = `$tool verify --received --keys $var/secrets/audit $tmp/$name 2>&1`;

    return ($? >> 8, $o);
}
my ($rc, $said) = copy_file('received.log', @copy);
my $n = @msgs;
ok($rc == 0 && $said =~ /^OK: $n lines in \d+ chains verified$/m,
   "ship-1.5: verify --received: the copy as received verifies, each of "
   . "its $n lines once") or diag($said);
open(my $bare, '>', "$tmp/bare.log") or die $!;
print $bare map { (my $b = $_) =~ s/^[^{]*//; "$b\n" } @copy;
close($bare);
$out = `$tool verify --keys $var/secrets/audit $tmp/bare.log 2>&1`;
ok($? >> 8 == 1 && $out =~ /^BAD: .*(?:repeated|gap|no start line)/m,
   'ship-1.6: (read as the gateway\'s own file, even without the headers, '
   . 'it does not)') or diag($out);

# a line received again with other bytes is not a resend
my @forged = @copy;
$forged[-1] =~ s/"(ms|ep)":(\d+)/'"' . $1 . '":' . ($2 + 1)/e
    or die "no field to change\n";
($rc, $said) = copy_file('forged.log', @forged);
ok($rc == 1 && $said =~ /^BAD: .*(?:repeated|mac mismatch)/m,
   'ship-1.7: a line again with other bytes is reported') or diag($said);

# a receiver that is down: nothing is lost
my $dead = do {
    my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1',
                                  LocalPort => 0, ReuseAddr => 1);
    my $p = $s->sockport;
    close($s);
    $p;
};
http()->get(base_url() . '/api/v1/districts?ship=2') for 1 .. 3;
sleep 1.5;
open(my $p1, '<', $pos) or die $!;
my $before = join '', <$p1>;
close($p1);
system("$tool ship --once --to 127.0.0.1:$dead --state $pos $dir "
       . ">/dev/null 2>&1");
open(my $p2, '<', $pos) or die $!;
my $after = join '', <$p2>;
close($p2);
is($after, $before, 'ship-2.1: with the receiver down the position stays');

my @now = lines_of(grep { !/\.lock$/ } glob("$dir/audit.log*"));
($port, $pid) = receive("$tmp/got2");
system("$tool ship --once --to 127.0.0.1:$port --state $pos $dir "
       . ">/dev/null 2>&1");
waitpid($pid, 0);
my %new = map { (my $b = $_) =~ s/^[^{]*//; ($b => 1) }
          lines_of("$tmp/got2");
my %old = map { ($_ => 1) } @want;
my @fresh = grep { !$old{$_} } @now;
ok(@fresh >= 3 && !(grep { !$new{$_} } @fresh)
   && !(grep { $old{$_} } keys %new),
   'ship-2.2: the next run sends the lines written since, and none again ('
   . scalar(keys %new) . ')');

done_testing();
