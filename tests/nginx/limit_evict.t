#!/usr/bin/perl

# limit_evict.t: DGJ_LIMIT_KEYS (default 100 000) distinct keys through a
# 1 MiB zone: every request is answered (never 503 because the zone is
# full), the zone holds a bounded number of keys, the least recently used
# keys are forgotten and the recent ones remembered.  wrk drives it; make
# bench runs the same with one million keys.

use strict;
use warnings;

use File::Temp qw(tempdir);
use Test::More;
use DgjTest qw(base_url wait_until);
use DgjLimit qw(limit_conf limit_conf_remove metrics statuses);

my $keys = $ENV{DGJ_LIMIT_KEYS} || 100_000;
my $dir = tempdir(CLEANUP => 1);

limit_conf('evict', "dgj_limit_zone name=t_evict size=1m;\n", <<'LOC');
location = /_t/limit/evict {
    dgj_limit zone=t_evict key=$http_x_key rate=1r/m nodelay;
    empty_gif;
}
LOC

open(my $fh, '>', "$dir/keys.lua") or die $!;
print $fh <<"LUA";
local n = 0
request = function()
    n = n + 1
    return wrk.format("GET", "/_t/limit/evict", { ["X-Key"] = "key" .. n })
end
LUA
close($fh);

# wrk runs for its whole duration even after thread:stop(), so the test
# watches the admitted count and stops wrk (SIGINT: it prints its figures)
# once every key has been sent

my $rule = 'dgj_limit_requests_total{zone="t_evict",rule="$http_x_key 1r/m",';
my $pid = open(my $wrk, '-|', 'wrk', '-t1', '-c4', '-d300s', '-s',
               "$dir/keys.lua", base_url() . '/') or die "wrk: $!";
wait_until(280, sub {
    my $m = metrics();
    return ($m->{$rule . 'result="passed"}'} // 0)
           + ($m->{$rule . 'result="rejected"}'} // 0) >= $keys;
});
kill 'INT', $pid;
my $out = do { local $/; <$wrk> };
close($wrk);
my ($sent) = $out =~ /(\d+) requests in/;
my ($non2xx) = $out =~ /Non-2xx or 3xx responses: (\d+)/;
my ($errors) = $out =~ /Socket errors: (.*)/;

cmp_ok($sent // 0, '>=', $keys, "evict-1.1: $keys distinct keys were sent")
    or diag($out);
is($non2xx // 0, 0, 'evict-1.2: every request was admitted (a fresh key '
   . 'is never refused, never 503 for a full zone)') or diag($out);
ok(!defined $errors, 'evict-1.3: no socket errors') or diag($out);

my $m = metrics();
my $held = $m->{'dgj_limit_zone_keys{zone="t_evict"}'};
my $evicted = $m->{'dgj_limit_zone_evicted_total{zone="t_evict"}'};
my $used = $m->{'dgj_limit_zone_bytes{zone="t_evict",kind="used"}'};
ok($held > 10_000 && $held < 17_000,
   "evict-2.1: the 1 MiB zone holds a bounded number of keys ($held, "
   . sprintf('%.0f', 1048576 / $held) . ' bytes each)');
cmp_ok($evicted, '>=', $sent - $held - 1000,
       "evict-2.2: the rest were evicted ($evicted)");
cmp_ok($used, '<=', 1048576, 'evict-2.3: used memory stays within the zone');

my @old = statuses(2, '/_t/limit/evict', { 'X-Key' => 'key1' });
is("@old", '200 429', 'evict-3.1: the oldest key was forgotten (admitted '
   . 'afresh), then is remembered again');
my @recent = statuses(1, '/_t/limit/evict', { 'X-Key' => "key" . ($sent - 10) });
is("@recent", '429', 'evict-3.2: a recent key is still remembered');

limit_conf_remove('evict');

done_testing();
