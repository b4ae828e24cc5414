#!/usr/bin/perl

# faults_worker.t: a FastCGI worker killed with SIGKILL under load is
# replaced by its supervisor and later requests succeed.

use strict;
use warnings;

use Test::More;
use DgjTest qw(get_json wait_until base_url);
use DgjPool qw(supervisor_pid worker_pids start_load finish_load);

my @before = worker_pids();
ok(@before >= 2, 'wrk-1.1: the pool runs several workers');

my $load = start_load(base_url() . '/api/v1/overview', 4);

select(undef, undef, undef, 1.0);
my $victim = $before[0];
ok(kill('KILL', $victim), "wrk-1.2: SIGKILL sent to worker $victim");

my @statuses = finish_load($load);
cmp_ok(scalar @statuses, '>', 20, 'wrk-1.3: the load loop ran');
my $bad = grep { !/^200\b/ } @statuses;
cmp_ok($bad, '<=', 2,
       'wrk-1.4: at most the request in flight on the killed worker failed')
    or diag("non-200 answers: $bad of " . scalar @statuses);

my $replaced = wait_until(10, sub {
    my @now = worker_pids();
    return @now == @before && !(grep { $_ == $victim } @now);
});
ok($replaced, 'wrk-2.1: the supervisor replaced the killed worker');

my $fails = 0;
for (1 .. 50) {
    my ($res) = get_json('/api/v1/overview');
    $fails++ if $res->{status} != 200;
}
is($fails, 0, 'wrk-2.2: 50 requests after the replacement all succeed');

my $log = "$ENV{DGJ_VAR}/log/fcgi/main.log";
open(my $fh, '<', $log) or die "$log: $!";
my $text = do { local $/; <$fh> };
like($text, qr/\b$victim\b.*(signal|killed|9)/i,
     'wrk-2.3: the supervisor logged how the worker died');

done_testing();
