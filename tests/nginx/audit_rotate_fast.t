#!/usr/bin/perl

# audit_rotate_fast.t: a worker that fills the log more than once a second
# (the smallest max_size, 64k, under a fast client) rotates it twice within
# the same second.  The second file must not take the first one's name
# (rename() would replace it and every line in it): it goes beside it with
# ".001", and every request answered keeps its one audit line, in one
# chain that verifies from seq 0 to its stop line.

use strict;
use warnings;

use File::Temp qw(tempdir);
use HTTP::Tiny;
use JSON::PP;
use Test::More;
use Time::HiRes qw(sleep time);
use DgjAudit qw(audit_nginx audit_nginx_quit);

my $root = $ENV{DGJ_ROOT} or die "DGJ_ROOT is not set: run make test\n";
my $tool = "$root/build/bin/dgj-audit";
my $dir  = tempdir(CLEANUP => !$ENV{KEEP});

system("$tool keygen $dir/keys >/dev/null") == 0 or die "keygen failed\n";

my ($port, $nginx) = audit_nginx($dir, 1, 'buffer=28k flush=10ms '
                                          . 'checkpoint=60s max_size=64k');

ok($nginx->(), 'rotfast-1.1: nginx starts') or BAIL_OUT('');

sub rotated {
    return grep { !/\.lock$/ } glob("$dir/log/audit.log.*");
}

# batches of requests until one second has seen two rotations
my $http = HTTP::Tiny->new(keep_alive => 1, timeout => 5);
my ($sent, $okc) = (0, 0);
my $until = time() + 60;
until ((grep { /\.\d{8}-\d{6}\.\d+\.001$/ } rotated()) || time() > $until) {
    for (1 .. 100) {
        $sent++;
        $okc++ if $http->get("http://127.0.0.1:$port/r/$sent")->{success};
    }
}
is($okc, $sent, "rotfast-1.2: $sent requests answered");

my @second = grep { /\.\d{8}-\d{6}\.\d+\.001$/ } rotated();
ok(@second >= 1, 'rotfast-1.3: a second rotation in one second went '
                 . 'beside the first, as <name>.001')
    or diag(join ' ', rotated());
my @gone = grep { !-s } map { (my $f = $_) =~ s/\.001$//; $f } @second;
ok(@second && !@gone,
   'rotfast-1.4: the first file of that second is still there')
    or diag(join ' ', rotated());

ok(audit_nginx_quit($dir), 'rotfast-2.1: nginx stopped');

# by name is the order they were written in
my @files = (sort(rotated()), "$dir/log/audit.log");
my $out = `$tool verify --closed --keys $dir/keys @files 2>&1`;
is($? >> 8, 0, 'rotfast-2.2: every file together verifies as closed')
    or diag($out);
like($out, qr/^chain \S+: \d+ lines, seq 0\.\.\d+, .*stopped/m,
     'rotfast-2.3: one chain from seq 0 to its stop line')
    or diag($out);

my $json = JSON::PP->new->utf8;
my %seen;
for my $f (@files) {
    open(my $in, '<', $f) or next;
    while (<$in>) {
        my $r = $json->decode($_);
        $seen{$1}++ if $r->{t} eq 'rec' && $r->{path} =~ m{^/r/(\d+)$};
    }
}
my @missing = grep { !$seen{$_} } 1 .. $sent;
my @twice = grep { $seen{$_} > 1 } keys %seen;
ok(@missing == 0 && @twice == 0 && keys %seen == $sent,
   "rotfast-2.4: each of the $sent requests has its audit line, once")
    or diag(scalar(@missing) . ' missing (first ' . ($missing[0] // '-')
            . '), ' . scalar(@twice) . ' twice');

done_testing();
