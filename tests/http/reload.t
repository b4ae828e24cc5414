#!/usr/bin/perl

# reload.t: `make reload` (nginx reload + FastCGI worker recycling) under
# steady traffic loses no request, and really replaces the workers.

use strict;
use warnings;

use Test::More;
use DgjTest qw(get_json stack wait_until base_url);
use DgjPool qw(supervisor_pid worker_pids start_load finish_load);

my $sup = supervisor_pid();
my %old = map { $_ => 1 } worker_pids();
ok(%old, 'reload-1.1: the pool runs workers');

my $load = start_load(base_url() . '/api/v1/overview', 5);

select(undef, undef, undef, 1.0);
ok(stack('reload'), 'reload-1.2: the reload command succeeds');

my @statuses = finish_load($load);
cmp_ok(scalar @statuses, '>', 20, 'reload-1.3: traffic ran during the reload');
my @bad = grep { !/^200\b/ } @statuses;
is(scalar @bad, 0, 'reload-1.4: no request failed during the reload')
    or diag(join "\n", @bad[0 .. ($#bad < 4 ? $#bad : 4)]);

my $recycled = wait_until(15, sub {
    my @now = worker_pids();
    return @now == keys %old && !(grep { $old{$_} } @now);
});
ok($recycled, 'reload-2.1: every FastCGI worker was replaced');
is(supervisor_pid(), $sup, 'reload-2.2: the pool supervisor stayed up');

my ($res) = get_json('/api/v1/overview');
is($res->{status}, 200, 'reload-2.3: the API answers after the reload');

done_testing();
