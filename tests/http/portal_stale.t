#!/usr/bin/perl

# portal_stale.t: stale-if-error (docs/portal.md).  With MariaDB stopped,
# and then with the FastCGI pool stopped, the home page, the catalogue on
# the submission form and the disclosures render from the lua_shared_dict
# cache with a notice that the figures may be a little old; a submission
# gets "try again shortly" (503) with everything typed kept; when the
# backend is back the notice goes away.

use strict;
use warnings;
use utf8;

use Test::More;
use IO::Socket::UNIX;
use Socket qw(SOCK_STREAM);
use DgjTest qw(stack wait_until get_json);
use DgjWorkflow qw(walk_to staff_token act);
use DgjPortal qw(new_visitor page_get page_post submit_form_fields);

binmode(Test::More->builder->$_, ':encoding(UTF-8)')
    for qw(output failure_output todo_output);

my $SOCK = "$ENV{DGJ_VAR}/run/fcgi/main.sock";

# portal.TTL is 10 s; a stale copy is served after a failed reload
my $TTL = 10;

# one published appeal, so that a disclosure page is cached too
my $no = walk_to('awaiting_feedback');
my ($r) = act($no, 'publish', staff_token('reviewer'),
              { publish => JSON::PP::true, public_title => '缓存测试公示',
                public_content => '某路段路灯不亮，已修复。' });
is($r->{status}, 200, 'stale-0: an appeal is published');

my @pages = ('/', '/wx/', '/submit', '/wx/submit', '/disclosures',
             '/wx/disclosures', "/disclosures/$no");
my $v = new_visitor();

# a list cached before the publication shows it within the fresh time
ok(wait_until(2 * $TTL, sub {
    my (undef, $h) = page_get($v, '/disclosures');
    return $h =~ /data-no="$no"/;
}), 'stale-0: the new disclosure is in the list');

# warm every worker's copy and the shared dict
for my $p (@pages) {
    for (1 .. 4) {
        my ($res) = page_get($v, $p);
        is($res->{status}, 200, "stale-1: $p answers 200 with the backend up")
            if $_ == 1;
    }
}

for my $fault ([ db => 'stop-db', 'start-db' ],
               [ pool => 'stop-fcgi', 'start-fcgi' ])
{
    my ($what, $stop, $start) = @$fault;

    ok(stack($stop), "stale-$what: $stop");

    # a pool that died leaves its socket behind: nginx is refused (an
    # error line), not told the path is gone (a crit line, which
    # tests/final/logs_clean.t counts as a failure)
    my $dead;
    if ($what eq 'pool') {
        unlink $SOCK;
        $dead = IO::Socket::UNIX->new(Local => $SOCK, Type => SOCK_STREAM);
        ok($dead, 'stale-pool: a dead socket is left at the pool\'s path');
        chmod 0777, $SOCK;
    }
    # past the fresh time: the next request tries to reload and fails
    sleep $TTL + 1;

    for my $p (@pages) {
        my ($res, $html);
        # the first request of each worker may be the one that reloads
        for (1 .. 3) {
            ($res, $html) = page_get($v, $p);
        }
        is($res->{status}, 200, "stale-$what: $p still answers 200");
        like($html, qr/data-testid="stale-notice"/,
             "stale-$what: $p says the data may be a little old");
        unlike($html, qr/SELECT\s.*\sFROM\s|mysql|traceback|\.lua:\d+/i,
               "stale-$what: $p shows no server detail");
    }

    my ($res, $html) = page_get($v, '/');
    like($html, qr/data-testid="figure-month-appeals">\d+/,
         "stale-$what: the home figures are there");
    ($res, $html) = page_get($v, '/disclosures');
    like($html, qr/data-no="$no"/, "stale-$what: the disclosure list is there");

    ($res, $html) = page_get($v, '/submit');
    my $title = "停电了 $what " . int(rand 1e6);
    ($res, $html) = page_post($v, '/submit', submit_form_fields($html,
        fields => { title => $title, content => "整栋楼停电三小时，$what。\n请尽快处理。" }));
    is($res->{status}, 503, "stale-$what: a submission gets 503");
    like($html, qr/系统繁忙，请稍后再试/, "stale-$what: saying try again shortly");
    like($html, qr/value="\Q$title\E"/, "stale-$what: the title is kept");
    like($html, qr/整栋楼停电三小时，$what。\n请尽快处理。<\/textarea>/,
         "stale-$what: the content is kept");
    ok($res->{headers}{'retry-after'}, "stale-$what: with Retry-After");

    ($res, $html) = page_get($v, '/follow');
    ($res, $html) = page_post($v, '/follow', [
        _csrf => DgjPortal::hidden($html, '_csrf'), tracking_no => $no,
        query_code => 'ABCDEF' ]);
    is($res->{status}, 503, "stale-$what: a query gets 503, not a false 'not found'");

    if ($dead) {
        close $dead;
        unlink $SOCK;
    }

    ok(stack($start), "stale-$what: $start");
    ok(wait_until(20, sub {
        my ($x) = get_json('/api/v1/districts');
        return $x->{status} == 200;
    }), "stale-$what: the API is back");
    ok(wait_until(10, sub {
        my ($x, $h) = page_get($v, '/');
        return $h !~ /data-testid="stale-notice"/;
    }), "stale-$what: the notice goes away once the backend is back");
}

done_testing();
