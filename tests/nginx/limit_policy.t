#!/usr/bin/perl

# limit_policy.t: the shipped policy of conf/nginx.conf.in: strict limits
# on login, SMS codes, submission and query-by-code (even from this host);
# generous ones on pages and the API, from which loopback is exempt; none
# on static files; staff tokens get more of the general API limit, never
# of the credential limits.  One request each, so that no bucket is left
# spent.

use strict;
use warnings;

use HTTP::Tiny;
use Test::More;
use DgjTest qw(base_url);
use DgjAuth qw(mint);

sub req {
    my ($method, $path, $token) = @_;
    my $res = HTTP::Tiny->new(timeout => 15)->request($method, base_url() . $path,
                                   { content => '', headers => {
                                     'Content-Type' => 'application/json',
                                     $token ? (Authorization => "Bearer $token")
                                            : () } });
    return $res->{headers};
}

my @cases = (
    [ 'GET',  '/api/v1/auth/login',         11,  'login: 10r/m per IP, burst 10' ],
    [ 'GET',  '/api/v1/auth/password',      11,  'password change: as login' ],
    [ 'POST', '/api/v1/auth/sms/send',      3,   'SMS code: 2r/m per IP, burst 2' ],
    [ 'POST', '/api/v1/auth/sms/login',     11,  'SMS sign-in: 10r/m per IP' ],
    [ 'GET',  '/api/v1/auth/wechat/start',  21,  'WeChat: 20r/m per IP' ],
    [ 'POST', '/api/v1/appeals',            4,   'submission: 6r/m per IP, burst 3' ],
    [ 'GET',  '/api/v1/appeals',            101, 'listing appeals: the general API limit' ],
    [ 'GET',  '/api/v1/appeals/track/DG1',  11,  'query by code: 10r/m per IP' ],
);

for my $c (@cases) {
    my ($method, $path, $limit, $what) = @$c;
    my $h = req($method, $path);
    is($h->{'ratelimit-limit'}, $limit, "policy-1: $method $path: $what");
}

ok(!defined req('GET', '/api/v1/health')->{'ratelimit-limit'},
   'policy-2.1: the general API limit exempts this host (loopback)');
ok(!defined req('POST', '/api/v1/auth/refresh')->{'ratelimit-limit'},
   'policy-2.4: refreshing a session is under the general limit, not login\'s');
ok(!defined req('GET', '/')->{'ratelimit-limit'},
   'policy-2.2: ... and so does the pages limit');
ok(!defined req('GET', '/static/dgj-none.css')->{'ratelimit-limit'},
   'policy-2.3: static files are not limited');

# the general API rule is multiplied by the caller's roles (a token sent
# with the request, verified in PREACCESS); the credential rules are not

my %tok = (
    citizen => mint(user => 920001, roles => 'citizen'),
    intake  => mint(user => 920002, roles => 'intake', dept => 3),
    ops     => mint(user => 920003, roles => 'ops', dept => 1),
);

my @roles = (
    [ 'GET',  '/api/v1/appeals',         'citizen', 101,  'a citizen: the base API budget' ],
    [ 'GET',  '/api/v1/appeals',         'intake',  401,  'intake staff: x4' ],
    [ 'GET',  '/api/v1/appeals',         'ops',     1001, 'ops (monitoring, the app\'s server calls): x10' ],
    [ 'GET',  '/api/v1/auth/login',      'ops',     11,   'login: never multiplied' ],
    [ 'GET',  '/api/v1/appeals/track/DG1', 'intake', 11,  'query by code: never multiplied' ],
    [ 'POST', '/api/v1/appeals',         'citizen', 4,    'a citizen submits at 6r/m per IP' ],
    [ 'POST', '/api/v1/appeals',         'intake',  401,  'intake typing in calls: only the API budget' ],
    [ 'POST', '/api/v1/appeals',         'ops',     1001, 'the platform interface: only the API budget' ],
);

for my $c (@roles) {
    my ($method, $path, $who, $limit, $what) = @$c;
    my $h = req($method, $path, $tok{$who});
    is($h->{'ratelimit-limit'}, $limit, "policy-3: $method $path as $who: $what");
}

done_testing();
