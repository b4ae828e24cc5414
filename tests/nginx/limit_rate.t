#!/usr/bin/perl

# limit_rate.t: the dgj_limit rules on the running gateway: rate
# exactness over a window, burst with nodelay, delay and delay=N, two
# workers never admitting more than one would, key separation, several
# rules that must all pass, allow-list, dry run, the status code, the 429
# body and headers, and the Prometheus counters.

use strict;
use warnings;

use HTTP::Tiny;
use POSIX qw(floor);
use Test::More;
use Time::HiRes qw(time sleep);
use DgjTest qw(base_url decode_json_body);
use DgjLimit qw(limit_conf limit_conf_remove counter client hit statuses);

my $loc = sub {
    my ($path, $rules) = @_;
    return "location = $path {\n$rules\n"
           . "    add_header X-Limit \$dgj_limit_status always;\n"
           . "    add_header X-Pid \$pid always;\n"
           . "    empty_gif;\n}\n";
};

my $zones = <<'HTTP';
dgj_limit_zone name=t_rate size=1m;
dgj_limit_zone name=t_multi size=64k;
HTTP

limit_conf('rate', $zones, join('',
    $loc->('/_t/limit/exact',
           'dgj_limit zone=t_rate key=$http_x_key rate=10r/s burst=5 nodelay;'),
    $loc->('/_t/limit/burst',
           'dgj_limit zone=t_rate key=$http_x_key rate=1r/m burst=3 nodelay;'),
    $loc->('/_t/limit/delay',
           'dgj_limit zone=t_rate key=$http_x_key rate=10r/s burst=10;'),
    $loc->('/_t/limit/delay2',
           'dgj_limit zone=t_rate key=$http_x_key rate=5r/s burst=10 delay=2;'),
    $loc->('/_t/limit/workers',
           'dgj_limit zone=t_rate key=$http_x_key rate=5r/s burst=10 nodelay;'),
    $loc->('/_t/limit/multi',
           "dgj_limit zone=t_rate key=\$http_x_a rate=1r/m burst=5 nodelay;\n"
           . 'dgj_limit zone=t_multi key=$http_x_b rate=1r/m nodelay;'),
    $loc->('/_t/limit/allow',
           "dgj_limit zone=t_rate key=\$http_x_key rate=1r/m nodelay;\n"
           . 'dgj_limit_allow 10.0.0.0/8 127.0.0.1;'),
    $loc->('/_t/limit/dry',
           "dgj_limit zone=t_rate key=\$http_x_key rate=2r/m nodelay;\n"
           . 'dgj_limit_dry_run on;'),
    $loc->('/_t/limit/code',
           "dgj_limit zone=t_rate key=\$http_x_key rate=3r/m burst=3 nodelay;\n"
           . "dgj_limit_status_code 503;\ndgj_limit_log_level info;"),
));

# rate-1: over a fixed window of steady hammering, admitted = rate x time
# + burst, within 1

{
    my $http = client();
    my ($ok, $n) = (0, 0);
    my $t0 = time();
    my $last = $t0;
    # the window ends when the last request is sent: a client descheduled
    # near the end must not count as the server admitting too few
    while (1) {
        my $now = time();
        last if $now - $t0 >= 3.0;
        $last = $now;
        my $res = hit($http, '/_t/limit/exact', { 'X-Key' => 'exact' });
        $ok++ if $res->{status} == 200;
        $n++;
    }
    my $want = 10 * ($last - $t0) + 5;
    cmp_ok($n, '>', $ok, "rate-1.1: the client sent more than the rate "
                         . "($n requests)");
    ok(abs($ok - $want) <= 1,
       "rate-1.2: $ok admitted in " . sprintf('%.2f', $last - $t0)
       . " s at 10r/s burst=5 (want $want +- 1)");
}

# rate-2: burst=3 nodelay: four at once, then 429 with the JSON body

{
    my $http = client();
    my @s = map { hit($http, '/_t/limit/burst', { 'X-Key' => 'b' }) } 1 .. 5;
    is(join(' ', map { $_->{status} } @s), '200 200 200 200 429',
       'rate-2.1: burst=3 nodelay admits 4 at once, the 5th is refused');
    is($s[3]{headers}{'x-limit'}, 'PASSED', 'rate-2.2: $dgj_limit_status '
       . 'PASSED for an admitted request');
    is($s[4]{headers}{'x-limit'}, 'REJECTED', 'rate-2.3: ... REJECTED');

    my $body = decode_json_body($s[4]);
    is($body && $body->{error}{code}, 'too_many_requests',
       'rate-2.4: the 429 body has code too_many_requests');
    like($body && $body->{request_id}, qr/^[0-9a-f]{32}$/,
         'rate-2.5: ... and the request id');
    like($s[4]{headers}{'content-type'}, qr{^application/json},
         'rate-2.6: ... as JSON');
    my $h = $s[4]{headers};
    ok($h->{'retry-after'} >= 55 && $h->{'retry-after'} <= 60,
       "rate-2.7: Retry-After says when (1r/m: $h->{'retry-after'} s)");
    is($h->{'ratelimit-limit'}, 4, 'rate-2.8: RateLimit-Limit is burst + 1');
    is($h->{'ratelimit-remaining'}, 0, 'rate-2.9: RateLimit-Remaining 0');
    is($s[1]{headers}{'ratelimit-remaining'}, 2,
       'rate-2.10: an admitted request shows what remains');
    ok($h->{'ratelimit-reset'} > 60 * 3,
       "rate-2.11: RateLimit-Reset is when the bucket is full again "
       . "($h->{'ratelimit-reset'} s)");
}

# rate-3: without nodelay, excess requests are delayed to the rate; with
# delay=2 the first two excess requests are not

{
    my $http = client();
    my @t;
    for (1 .. 5) {
        my $t = time();
        my $res = hit($http, '/_t/limit/delay', { 'X-Key' => 'd' });
        push @t, [ time() - $t, $res->{status}, $res->{headers}{'x-limit'} ];
    }
    ok($t[0][0] < 0.08 && $t[0][2] eq 'PASSED',
       'rate-3.1: the first request is not delayed');
    ok((!grep { $_->[0] < 0.07 || $_->[1] != 200 || $_->[2] ne 'DELAYED' }
            @t[1 .. 4]),
       'rate-3.2: each next one waits its turn at 10r/s (~100 ms), '
       . 'DELAYED: ' . join(' ', map { sprintf('%.3f', $_->[0]) } @t));

    @t = ();
    for (1 .. 5) {
        my $t = time();
        hit($http, '/_t/limit/delay2', { 'X-Key' => 'd2' });
        push @t, time() - $t;
    }
    my $fast = grep { $_ < 0.08 } @t[0 .. 2];
    is($fast, 3, 'rate-3.3: delay=2 serves the first two excess requests '
       . 'at once: ' . join(' ', map { sprintf('%.3f', $_) } @t));
    ok($t[3] > 0.12 && $t[4] > 0.12,
       'rate-3.4: ... and delays the ones after (5r/s: ~200 ms)');
}

# rate-4: two workers share one state: concurrent clients on fresh
# connections are admitted no more than one worker would admit

{
    my $dir = "$ENV{DGJ_VAR}/limit-workers.$$";
    mkdir $dir;
    my $t0 = time();
    my @kids;
    for my $k (1 .. 6) {
        my $pid = fork();
        die "fork: $!" unless defined $pid;
        if ($pid == 0) {
            open(my $out, '>', "$dir/$k") or exit 1;
            while (time() - $t0 < 2.0) {
                my $res = HTTP::Tiny->new(timeout => 10)->get(
                    base_url() . '/_t/limit/workers',
                    { headers => { 'X-Key' => 'w' } });
                print $out "$res->{status} "
                           . ($res->{headers}{'x-pid'} // '-') . "\n";
            }
            close($out);
            exit 0;
        }
        push @kids, $pid;
    }
    waitpid($_, 0) for @kids;
    my $elapsed = time() - $t0;

    my (%pids, $ok, $n);
    for my $k (1 .. 6) {
        open(my $in, '<', "$dir/$k") or next;
        while (<$in>) {
            my ($s, $p) = split;
            $n++;
            $ok++ if $s == 200;
            $pids{$p} = 1 if $s == 200 || $s == 429;
        }
        unlink "$dir/$k";
    }
    rmdir $dir;

    is(scalar keys %pids, 2, 'rate-4.1: both nginx workers served '
       . "($n requests)");
    my $max = floor(5 * $elapsed) + 11;
    ok($ok <= $max && $ok >= 10,
       "rate-4.2: $ok admitted across the workers in "
       . sprintf('%.2f', $elapsed) . " s at 5r/s burst=10 (at most $max)");
}

# rate-5: keys are separate buckets

{
    my @a = statuses(3, '/_t/limit/burst', { 'X-Key' => 'sep-a' });
    my @b = statuses(1, '/_t/limit/burst', { 'X-Key' => 'sep-b' });
    my @a2 = statuses(2, '/_t/limit/burst', { 'X-Key' => 'sep-a' });
    is("@a @b @a2", '200 200 200 200 200 429',
       'rate-5.1: one key\'s use does not touch another key');
}

# rate-6: several rules all must pass, and a request one rule refuses is
# not charged to the others

{
    my $http = client();
    my @s;
    push @s, hit($http, '/_t/limit/multi', { 'X-A' => 'm', 'X-B' => 'b1' })
                 ->{status};
    push @s, hit($http, '/_t/limit/multi', { 'X-A' => 'm', 'X-B' => 'b1' })
                 ->{status};
    for my $b (2 .. 7) {
        push @s, hit($http, '/_t/limit/multi', { 'X-A' => 'm', 'X-B' => "b$b" })
                     ->{status};
    }
    is("@s", '200 429 200 200 200 200 200 429',
       'rate-6.1: the second rule refuses b1 again; the first rule was not '
       . 'charged for it (6 of m admitted, the 7th refused)');
}

# rate-7: the allow-list exempts an address; dry run only counts

{
    my @s = statuses(5, '/_t/limit/allow', { 'X-Key' => 'allow' });
    is("@s", '200 200 200 200 200', 'rate-7.1: 127.0.0.1 is allow-listed');

    my $http = client();
    my @r = map { hit($http, '/_t/limit/dry', { 'X-Key' => 'dry' }) } 1 .. 4;
    is(join(' ', map { $_->{status} } @r), '200 200 200 200',
       'rate-7.2: dry run refuses nothing');
    is(join(' ', map { $_->{headers}{'x-limit'} } @r),
       'PASSED DRY_RUN DRY_RUN DRY_RUN',
       'rate-7.3: ... and marks what it would have refused DRY_RUN');
}

# rate-8: dgj_limit_status_code

{
    my @s = statuses(5, '/_t/limit/code', { 'X-Key' => 'code' });
    is("@s", '200 200 200 200 503',
       'rate-8.1: dgj_limit_status_code 503 replaces 429');
}

# rate-9: Prometheus counters per zone and rule

{
    is(counter('t_rate', '$http_x_key 1r/m', 'passed'), 4 + 4 + 1,
       'rate-9.1: passed counts every admitted request of the rule');
    is(counter('t_rate', '$http_x_key 1r/m', 'rejected'), 1 + 1,
       'rate-9.2: rejected counts the refused ones');
    is(counter('t_rate', '$http_x_key 2r/m', 'dry_run'), 3,
       'rate-9.3: dry_run counts what dry run would have refused');
    is(counter('t_rate', '$http_x_key 10r/s', 'delayed'), 4,
       'rate-9.4: delayed counts the delayed ones');
    is(counter('t_multi', '$http_x_b 1r/m', 'rejected'), 1,
       'rate-9.5: each zone and rule has its own counters');
}

limit_conf_remove('rate');

done_testing();
