#!/usr/bin/perl

# audit_verify_order.t: the order `dgj-audit verify` reads files in.  Each
# chain goes through the files forward only, and that orders them, not
# the time of their first lines: a line can wait in its worker's buffer
# (a new worker's start line) and open a file begun after another whose
# first line is newer.  Neither their names nor their first lines give
# the order here; the chains do, and a file given twice is still caught.

use strict;
use warnings;

use File::Temp qw(tempdir);
use Test::More;
use DgjAudit qw(new_chain rec_line start_line ms_now);

my $root = $ENV{DGJ_ROOT} or die "DGJ_ROOT is not set: run make test\n";
my $var  = $ENV{DGJ_VAR} or die "DGJ_VAR is not set: run make test\n";
my $tool = "$root/build/bin/dgj-audit";
my $dir  = tempdir(CLEANUP => 1);

my $t = ms_now() - 60_000;
my ($a, $b) = map { new_chain(sprintf('ord.w%d.%x.%d', $_, $t, $$)) } 0, 1;

# B's start line is stamped first, but waits while A fills the first file
my $b0 = start_line($b, $t);
my @first = (start_line($a, $t + 5), rec_line($a, $t + 6),
             rec_line($a, $t + 7));
my @second = ($b0, rec_line($a, $t + 8), rec_line($b, $t + 9),
              rec_line($a, $t + 10));

sub put {
    my ($name, @rows) = @_;

    open(my $fh, '>', "$dir/$name") or die $!;
    print $fh map { "$_->{raw}\n" } @rows;
    close($fh);
}

put('b.log', @first);
put('a.log', @second);

sub verify {
    my $out = `$tool verify --keys $var/secrets/audit @_ 2>&1`;
    return ($? >> 8, $out);
}

my ($rc, $out) = verify("$dir/a.log", "$dir/b.log");
ok($rc == 0 && $out =~ /^OK: 7 lines in 2 chains verified$/m,
   'order-1.1: the second file, whose first line is older, is read after '
   . 'the first') or diag($out);
like($out, qr/^chain \Q$a->{id}\E: 5 lines, seq 0\.\.4, /m,
     'order-1.2: the chain that crosses them is whole')
    or diag($out);

($rc, $out) = verify("$dir/b.log", "$dir/a.log");
ok($rc == 0, 'order-1.3: the order given does not matter') or diag($out);

# the first file again, under another name: its lines come twice
put('c.log', @first);
($rc, $out) = verify("$dir/a.log", "$dir/b.log", "$dir/c.log");
ok($rc == 1 && $out =~ /^BAD: chain \Q$a->{id}\E seq 0: .*repeated/m,
   'order-2.1: a file given twice: its chain\'s lines repeated') or diag($out);

# a file missing between two others leaves its gap
put('d.log', rec_line($a, $t + 11), rec_line($a, $t + 12));
put('e.log', rec_line($a, $t + 13));
($rc, $out) = verify("$dir/a.log", "$dir/b.log", "$dir/e.log");
ok($rc == 1 && $out =~ /^BAD: chain \Q$a->{id}\E seq 5: gap: expected 5, found 7/m,
   'order-2.2: a file left out: the gap where it was') or diag($out);

done_testing();
