#!/usr/bin/perl

# audit_stop_rotate.t: a graceful stop that rotates the file.  One worker
# keeps its lines (a 1m buffer, flushed each minute) until nginx stops;
# they then take the file past max_size=64k, so it is rotated at the very
# end, and the chain must still end with its stop line and verify as
# closed.  (audit_chain.t's stop failed once in a while when the flush of
# the stop line itself crossed the size: the new file began with a
# checkpoint of the ended chain.  The module now writes no line of a
# chain after its stop line; that order is not forced here.)

use strict;
use warnings;

use File::Temp qw(tempdir);
use HTTP::Tiny;
use Test::More;
use DgjAudit qw(audit_nginx audit_nginx_quit);

my $root = $ENV{DGJ_ROOT} or die "DGJ_ROOT is not set: run make test\n";
my $tool = "$root/build/bin/dgj-audit";
my $dir  = tempdir(CLEANUP => !$ENV{KEEP});

system("$tool keygen $dir/keys >/dev/null") == 0 or die "keygen failed\n";

my ($port, $nginx) = audit_nginx($dir, 1, 'buffer=1m flush=60s '
                                          . 'checkpoint=60s max_size=64k');

ok($nginx->(), 'stoprot-1.1: nginx starts')
    or BAIL_OUT('');

my $http = HTTP::Tiny->new(keep_alive => 0, timeout => 5);
my $okc = 0;
for (1 .. 300) {
    $okc++ if $http->get("http://127.0.0.1:$port/x?i=$_")->{success};
}
is($okc, 300, 'stoprot-1.2: 300 requests answered');

# nothing but the first checkpoint is written yet: the lines wait
ok(-s "$dir/log/audit.log" < 64 * 1024,
   'stoprot-1.3: the lines wait in the buffer, the file is under 64k');

ok(audit_nginx_quit($dir), 'stoprot-2.1: nginx stopped');

my @files = grep { !/\.lock$/ } glob("$dir/log/audit.log.*");
is(scalar @files, 1, 'stoprot-2.2: the last flush rotated the file once');

my @lines;
for my $f (@files, "$dir/log/audit.log") {
    open(my $in, '<', $f) or next;
    push @lines, <$in>;
}
like($lines[-1] // '', qr/^\{"t":"stop"/,
     'stoprot-2.3: the chain\'s last line is its stop line');
my $out = `$tool verify --closed --keys $dir/keys @files $dir/log/audit.log 2>&1`;
is($? >> 8, 0, 'stoprot-2.4: the log verifies as closed') or diag($out);
like($out, qr/: 30[0-9] lines, seq 0\.\.30[0-9], .*stopped/,
     'stoprot-2.5: one chain of every line, ended by its stop line')
    or diag($out);

done_testing();
