#!/usr/bin/perl

# keepalive.t: nginx keeps FastCGI connections alive, and a kept connection
# must never hold a worker away from the others.  With the pool shrunk to
# ONE worker, many clients in parallel (so both nginx workers open and keep
# many upstream connections) are all answered, and promptly.  Before the
# workers multiplexed kept connections, 4 of these requests hung until
# nginx's keepalive_timeout.

use strict;
use warnings;

use Test::More;
use HTTP::Tiny;
use Time::HiRes qw(time);
use DgjTest qw(get_json wait_until base_url);
use DgjPool qw(worker_pids nginx_settled);

local $ENV{DGJ_FCGI_WORKERS} = 1;
ok(system("$ENV{DGJ_STACK} reload >/dev/null 2>&1") == 0,
   'ka-1.0: pool reloaded with a single worker');
ok(wait_until(10, sub { my @p = worker_pids(); @p == 1 }),
   'ka-1.1: one worker runs');
ok(wait_until(10, \&nginx_settled),
   'ka-1.2: nginx workers of the old configuration have finished');

my $clients = 12;
my $each = 25;
my @kids;

for my $c (1 .. $clients) {
    my $pid = fork();
    die "fork: $!" unless defined $pid;

    if ($pid == 0) {
        my $http = HTTP::Tiny->new(keep_alive => 1, timeout => 10);
        my ($bad, $slow) = (0, 0);
        for (1 .. $each) {
            my $t0 = time();
            my $res = $http->get(base_url() . '/api/v1/districts');
            if ($res->{status} != 200) {
                $bad++;
                print STDERR "# client $c: $res->{status} $res->{content}\n";
            }
            $slow++ if time() - $t0 > 2;
        }
        exit($bad ? 1 : $slow ? 2 : 0);
    }

    push @kids, $pid;
}

my %exit;
for my $pid (@kids) {
    waitpid($pid, 0);
    $exit{ $? >> 8 }++;
}

is($exit{1} // 0, 0,
   "ka-2.1: all $clients x $each requests answered 200 by one worker");
is($exit{2} // 0, 0, 'ka-2.2: none waited more than 2 s');

delete $ENV{DGJ_FCGI_WORKERS};
ok(system("$ENV{DGJ_STACK} reload >/dev/null 2>&1") == 0,
   'ka-3.0: pool reloaded with its normal size');
ok(wait_until(15, sub { my @p = worker_pids(); @p > 1 }),
   'ka-3.1: the pool grew back');

my ($res) = get_json('/api/v1/overview');
is($res->{status}, 200, 'ka-3.2: the API answers after the resize');

done_testing();
