#!/usr/bin/perl

# limit_reload.t: `make reload` keeps every key's state, the counters and
# the bans (shared memory is reused), and the new rules take over.

use strict;
use warnings;

use Test::More;
use DgjLimit qw(limit_conf limit_conf_remove ctl counter statuses);

my $zones = "dgj_limit_zone name=t_rl size=64k;\n";
my $loc = <<'LOC';
location = /_t/limit/rl {
    dgj_limit zone=t_rl key=$http_x_key rate=1r/m burst=2 nodelay;
    empty_gif;
}
LOC

limit_conf('reload', $zones, $loc);

my @s = statuses(4, '/_t/limit/rl', { 'X-Key' => 'rl' });
is("@s", '200 200 200 429', 'reload-1.1: the key uses its burst');
my ($st) = ctl('POST', '/_dgj/bans', "ban ip 192.0.2.77 0 kept\n");
is($st, 200, 'reload-1.2: a ban is set');

limit_conf('reload', $zones, $loc);

@s = statuses(2, '/_t/limit/rl', { 'X-Key' => 'rl' });
is("@s", '429 429', 'reload-2.1: after the reload the key is still spent');
is(counter('t_rl', '$http_x_key 1r/m', 'passed'), 3,
   'reload-2.2: the counters survive the reload');
my (undef, $list) = ctl('GET', '/_dgj/bans');
like($list, qr/"value":"192.0.2.77"/, 'reload-2.3: the ban survives');
ctl('POST', '/_dgj/bans', "unban ip 192.0.2.77\n");

# a rule with another rate is another bucket
$loc =~ s/rate=1r\/m burst=2/rate=2r\/m burst=0/;
limit_conf('reload', $zones, $loc);
@s = statuses(2, '/_t/limit/rl', { 'X-Key' => 'rl' });
is("@s", '200 429', 'reload-3.1: a changed rate starts a fresh bucket');

limit_conf_remove('reload');

done_testing();
