#!/usr/bin/perl

# audit_chain.t: the audit chain through a worker's life, on a private
# nginx (its own keys, log and error log, 2 s epochs, a 64k file size, a
# checkpoint every second): epochs change and the shared key file moves
# on without its old key; rotation by size and by `nginx -s reopen` keep
# every chain verifiable, each file on its own too; a worker killed with
# SIGKILL mid-traffic leaves a clean truncation that its successor names;
# a graceful stop closes every chain, and a tail cut off a closed log is
# found at its seq.

use strict;
use warnings;

use File::Temp qw(tempdir);
use HTTP::Tiny;
use JSON::PP;
use Test::More;
use Time::HiRes qw(sleep);
use DgjAudit qw(audit_nginx audit_nginx_quit);
use DgjTest qw(wait_until);

my $root = $ENV{DGJ_ROOT} or die "DGJ_ROOT is not set: run make test\n";
my $tool = "$root/build/bin/dgj-audit";
my $json = JSON::PP->new->utf8;
my $dir  = tempdir(CLEANUP => !$ENV{KEEP});

system("$tool keygen $dir/keys --epoch-len 2 >/dev/null") == 0
    or die "keygen failed\n";

my ($port, $nginx) = audit_nginx($dir, 2, 'buffer=32k flush=100ms '
                                          . 'checkpoint=1s max_size=64k');

sub nginx {
    return $nginx->(@_);
}

ok(nginx(), 'chain-1.1: nginx starts with the audit log') or BAIL_OUT('');

sub master {
    open(my $p, '<', "$dir/nginx.pid") or return 0;
    chomp(my $pid = <$p> // '');
    return $pid;
}

sub workers {
    my $m = master() or return ();
    return grep { /^\d+$/ } split ' ', `pgrep -P $m`;
}

my $http = HTTP::Tiny->new(keep_alive => 0, timeout => 5);

sub load {
    my ($n) = @_;

    my $okc = 0;
    for (1 .. $n) {
        $okc++ if $http->get("http://127.0.0.1:$port/x?i=$_")->{success};
    }

    return $okc;
}

# the files in the order they were begun (their first lines' times)
sub first_time {
    open(my $in, '<', $_[0]) or return '';
    my $l = <$in> // '';
    return $l =~ /"time":"([^"]+)"/ ? $1 : '';
}

sub files {
    return sort { first_time($a) cmp first_time($b) }
           grep { !/\.lock$/ } glob("$dir/log/audit.log*");
}

sub verify {
    my (@args) = @_;

    my $out = `$tool verify --keys $dir/keys @args 2>&1`;

    return ($? >> 8, $out);
}

sub lines_of {
    my @l;
    for my $f (@_) {
        open(my $in, '<', $f) or next;
        push @l, <$in>;
    }
    return @l;
}

wait_until(5, sub { workers() == 2 });
is(load(100), 100, 'chain-1.2: 100 requests answered');

# epochs of 2 s: the key moves on while requests come
sleep(2.5);
load(100);
sleep(0.3);

my @all = lines_of(files());
ok((grep { /^\{"t":"epoch"/ } @all) > 0,
   'chain-2.1: the chains moved to a new epoch (epoch lines)');

sub key_of {
    my ($f) = @_;
    open(my $k, '<', $f) or return ('', -1);
    my ($key, $ep) = ('', -1);
    while (<$k>) {
        $key = $1 if /^key (\w+)/;
        $ep = $1 if /^epoch (\d+)/;
    }
    return ($key, $ep);
}

my ($k0) = key_of("$dir/keys/verify.key");
my ($ke, $ep) = key_of("$dir/keys/epoch/epoch.key");
ok($ep > 0 && $ke ne $k0 && length($ke) == 64,
   "chain-2.2: the shared key file is at epoch $ep; epoch 0's key is gone");

# rotation by size: 64k fills in a few hundred lines
ok((my @rot = files()) >= 2, 'chain-3.1: the log rotated by size')
    or diag(join ' ', files());

my ($rc, $out) = verify(files());
ok($rc == 0, 'chain-3.2: the chains verify across the rotated files')
    or diag($out);

($rc, $out) = verify("$dir/log/audit.log");
ok($rc == 0 && $out =~ /from a checkpoint/,
   'chain-3.3: a rotated file verifies on its own, from its checkpoints')
    or diag($out);

# rotation by hand: rename, then nginx -s reopen
rename("$dir/log/audit.log", "$dir/log/audit.log.byhand") or die $!;
nginx('-s', 'reopen');
sleep(0.5);
load(20);
ok(wait_until(5, sub { -s "$dir/log/audit.log" }),
   'chain-4.1: after reopen the workers write a new file');
sleep(0.3);
my ($first) = lines_of("$dir/log/audit.log");
like($first // '', qr/^\{"t":"(?:ckpt|epoch)"/,
     'chain-4.2: the new file starts with a checkpoint (or an epoch '
     . 'line: both carry the head they follow)');
($rc, $out) = verify(files());
ok($rc == 0, 'chain-4.3: everything still verifies') or diag($out);

# SIGKILL a worker while requests come in
my @w = workers();
my $pid = fork();
if ($pid == 0) {
    load(300);
    exit 0;
}
sleep(0.2);
kill 'KILL', $w[0];
waitpid($pid, 0);
ok(wait_until(5, sub { my @n = workers(); @n == 2 && !grep { $_ == $w[0] } @n }),
   'chain-5.1: the master replaced the killed worker');
load(50);
sleep(1.2);

($rc, $out) = verify(files());
ok($rc == 0, 'chain-5.2: the log verifies after the kill') or diag($out);
my ($dead, $heir) = $out =~ /^chain (\S+):.*ended without a stop line \(its process died; (\S+) follows it\)/m;
ok($dead && $heir,
   'chain-5.3: a clean truncation: the dead chain is named and its '
   . 'successor follows it') or diag($out);

# cutting the dead chain's tail is no longer a crash: it is found
my @lines = lines_of(files());
my ($last) = grep { $lines[$_] =~ /"c":"\Q$dead\E"/ } reverse 0 .. $#lines;
my $last_seq = $json->decode($lines[$last])->{seq};
splice(@lines, $last, 1);
open(my $cut, '>', "$dir/cut.log") or die $!;
print $cut @lines;
close($cut);
($rc, $out) = verify('--quiet', "$dir/cut.log");
ok($rc == 1 && $out =~ /^BAD: chain \Q$dead\E seq $last_seq: truncated/m,
   "chain-5.4: its last line removed: truncated at seq $last_seq")
    or diag($out);
unlink("$dir/cut.log");

# graceful stop: every chain ends with a stop line
ok(audit_nginx_quit($dir), 'chain-6.1: nginx stopped');

($rc, $out) = verify('--closed', files());
ok($rc == 0, 'chain-6.2: a stopped gateway\'s log verifies as closed')
    or diag($out);

@lines = lines_of(files());
($last) = grep { $lines[$_] =~ /^\{"t":"stop"/ } reverse 0 .. $#lines;
my $r = $json->decode($lines[$last]);
splice(@lines, $last, 1);
open($cut, '>', "$dir/cut.log") or die $!;
print $cut @lines;
close($cut);
($rc, $out) = verify('--quiet', '--closed', "$dir/cut.log");
ok($rc == 1 && $out =~ /^BAD: chain \Q$r->{c}\E seq $r->{seq}: truncated/m,
   "chain-6.3: a closed log's tail cut off: found at seq $r->{seq}")
    or diag($out);

my $err = join '', lines_of("$dir/error.log");
my @alerts = grep { !/exited on signal 9/ }
             ($err =~ /^.*\[(?:alert|crit|emerg)\].*$/mg);
is(scalar @alerts, 0, 'chain-7.1: no alert but the SIGKILL\'s')
    or diag(join "\n", @alerts);

done_testing();
