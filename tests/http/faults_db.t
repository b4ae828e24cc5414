#!/usr/bin/perl

# faults_db.t: with MariaDB stopped the API answers 503 JSON and the home
# page still renders from the portal cache, never a stack trace or SQL text; when
# MariaDB comes back the same workers reconnect by themselves.

use strict;
use warnings;
use utf8;

use Test::More;
use Time::HiRes qw(time);
use DgjTest qw(get_json stack wait_until http base_url);
use DgjPool qw(supervisor_pid worker_pids);

my ($res, $body) = get_json('/api/v1/districts');
is($res->{status}, 200, 'db-1.1: the API works before the fault');
is(http()->get(base_url() . '/')->{status}, 200,
   'db-1.1: the home page works before the fault (and is cached)');

my $sup = supervisor_pid();
my @before = worker_pids();
ok(@before > 0, 'db-1.2: the pool has workers');

ok(stack('stop-db'), 'db-2.0: MariaDB stopped');

my $t0 = time();
($res, $body) = get_json('/api/v1/districts');
my $took = time() - $t0;
is($res->{status}, 503, 'db-2.1: with the database down the API answers 503');
is($body->{error}{code}, 'db_unavailable', 'db-2.1: error code db_unavailable');
cmp_ok($took, '<', 5, 'db-2.2: the 503 comes quickly, not after a long hang');
unlike($res->{content}, qr/SELECT|mysql|socket|errno|\.c:\d+/i,
       'db-2.3: no SQL text, socket path or source location leaks');

($res, $body) = get_json('/api/v1/health');
is($res->{status}, 503, 'db-2.4: health reports the outage with 503');

# the home page renders from the portal's cache (lua/dgj/cache.lua,
# docs/portal.md): warmed before the fault, it still answers 200, and the
# whole stale-if-error story is tests/http/portal_stale.t
$res = http()->get(base_url() . '/');
is($res->{status}, 200, 'db-3.1: the home page still answers 200 from the cache');
like($res->{headers}{'content-type'} // '', qr{^text/html},
     'db-3.2: the home page is an HTML page');
my $html = $res->{content};
utf8::decode($html);
like($html, qr/民生大莞家/, 'db-3.3: it is our branded Chinese page');
unlike($html, qr/SELECT|mysql|traceback|stack|lua:\d+|\.lua/i,
       'db-3.4: it shows no stack trace or SQL');

ok(stack('start-db'), 'db-4.0: MariaDB started again');

my $ok = wait_until(15, sub {
    my ($r) = get_json('/api/v1/districts');
    return $r->{status} == 200;
});
ok($ok, 'db-4.1: the API recovers once the database is back');

$res = http()->get(base_url() . '/');
is($res->{status}, 200, 'db-4.2: the home page recovers');

is(supervisor_pid(), $sup, 'db-4.3: the pool supervisor was not restarted');
is_deeply([ worker_pids() ], \@before,
          'db-4.4: the same workers reconnected without restarting');

done_testing();
