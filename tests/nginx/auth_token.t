#!/usr/bin/perl

# auth_token.t: inline authentication on the running gateway: tokens minted
# with build/bin/dgj-token against the stack's key ring give the statuses,
# JSON codes and $dgj_* variables the contract promises; client headers
# cannot set identity; roles x the shipped staff route classes; level 2;
# the login redirect; CSRF for cookie-authenticated writes; Bearer before
# the cookie.  Test-only locations are added and removed again.

use strict;
use warnings;

use Test::More;
use DgjTest qw(base_url http decode_json_body);
use DgjAuth qw(mint csrf new_session add_server_conf remove_server_conf);

my $echo = 'content_by_lua_block { ngx.say(ngx.var.dgj_user_id, "|", '
    . 'ngx.var.dgj_roles, "|", ngx.var.dgj_dept, "|", ngx.var.dgj_session, '
    . '"|", ngx.var.dgj_auth_status, "|", ngx.var.dgj_auth_level) }';

add_server_conf('authtest', <<"CONF");
location = /t/echo     { dgj_auth optional; default_type text/plain; $echo }
location = /t/ret      { dgj_auth optional; return 200 "\$dgj_user_id|\$dgj_roles|\$dgj_dept|\$dgj_session|\$dgj_auth_status|\$dgj_auth_level\\n"; }
location = /t/off      { default_type text/plain; $echo }
location = /t/on       { dgj_auth on; default_type text/plain; $echo }
location = /t/level2   { dgj_auth on; dgj_auth_level 2; default_type text/plain; $echo }
location = /t/login    { dgj_auth on; dgj_auth_login_url /login; default_type text/plain; $echo }
location = /t/nocsrf   { dgj_auth on; dgj_auth_csrf off; default_type text/plain; $echo }
location = /t/sub      { dgj_auth optional; default_type text/plain;
                         content_by_lua_block { local r = ngx.location.capture("/t/inner") ngx.print(r.body) } }
location = /t/inner    { internal; default_type text/plain; $echo }
CONF

my $url = base_url();

sub req {
    my ($method, $path, $headers) = @_;

    return http()->request($method, "$url$path", { headers => $headers || {} });
}

sub bearer {
    return { Authorization => "Bearer $_[0]" };
}

my $s1 = new_session();
my $now = time();
my $tok = mint(user => 42, roles => 'intake,reviewer', dept => 7,
               session => $s1, ttl => 120, level => 1);

# --- variables and statuses --------------------------------------------

my $res = req('GET', '/t/echo', bearer($tok));
is($res->{content}, "42|intake,reviewer|7|$s1|OK|1\n",
   'authtok-1.1: a valid Bearer token fills every variable');

$res = req('GET', '/t/echo');
is($res->{content}, "||||NONE|\n",
   'authtok-1.2: no token: anonymous, status NONE');

$res = req('GET', '/t/ret', bearer($tok));
is($res->{content}, "42|intake,reviewer|7|$s1|OK|1\n",
   'authtok-1.3: variables are usable in the rewrite phase (return)');

$res = req('GET', '/t/off', bearer($tok));
is($res->{content}, "||||OFF|\n", 'authtok-1.4: dgj_auth off: status OFF');

$res = req('GET', '/t/sub', bearer($tok));
is($res->{content}, "42|intake,reviewer|7|$s1|OK|1\n",
   'authtok-1.5: a subrequest reuses the main request\'s identity');

my $expired = mint(user => 42, roles => 'intake', session => $s1, ttl => -5);
$res = req('GET', '/t/echo', bearer($expired));
is($res->{content}, "||||EXPIRED|\n",
   'authtok-2.1: optional + expired token: anonymous, status EXPIRED');

my ($kid, $payload, $mac) = split /\./, $tok;
my %bad = (
    'tampered key id' => "x$kid.$payload.$mac",
    'tampered payload' => "$kid." . flip($payload) . ".$mac",
    'tampered mac' => "$kid.$payload." . flip($mac),
    'truncated' => substr($tok, 0, length($tok) - 4),
    'garbage' => 'hello.world',
    'huge' => 'a' x 1100,
);

sub flip {
    my ($s) = @_;

    my $i = int(length($s) / 2);
    substr($s, $i, 1) = substr($s, $i, 1) eq 'A' ? 'B' : 'A';

    return $s;
}

for my $what (sort keys %bad) {
    $res = req('GET', '/t/echo', bearer($bad{$what}));
    is($res->{content}, "||||INVALID|\n",
       "authtok-2.2: $what: anonymous, status INVALID");
}

my $future = mint(user => 42, session => $s1, iat => $now + 3600,
                  ttl => 60);
$res = req('GET', '/t/echo', bearer($future));
is($res->{content}, "||||INVALID|\n",
   'authtok-2.3: a token issued in the future is INVALID');

# a ring of our own: same kid, other key bytes -> bad MAC
my $other = "$ENV{DGJ_VAR}/other.keys";
open(my $kfh, '<', "$ENV{DGJ_VAR}/secrets/token.keys") or die $!;
my ($signline) = grep { /\ssign\s*$/ } <$kfh>;
close($kfh);
my ($skid) = split ' ', $signline;
open(my $ofh, '>', $other) or die $!;
print $ofh "$skid hmac-sha256 " . ('cd' x 32) . " sign\nzz hmac-sm3 "
    . ('ef' x 32) . "\n";
close($ofh);
open($ofh, '>', "$other.2") or die $!;
print $ofh "unknownkid hmac-sha256 " . ('cd' x 32) . " sign\n";
close($ofh);

$res = req('GET', '/t/echo', bearer(mint(user => 9, keys => $other)));
is($res->{content}, "||||INVALID|\n",
   'authtok-2.4: a token signed with the wrong key is INVALID');
$res = req('GET', '/t/echo', bearer(mint(user => 9, keys => "$other.2")));
is($res->{content}, "||||INVALID|\n",
   'authtok-2.5: a token under an unknown key id is INVALID');
unlink($other, "$other.2");

# --- dgj_auth on: statuses and JSON ------------------------------------

sub json_error {
    my ($res, $status, $code, $name) = @_;

    my $j = decode_json_body($res);

    ok($res->{status} == $status
       && $j && $j->{error}{code} eq $code
       && length($j->{error}{message})
       && $j->{request_id} eq ($res->{headers}{'x-request-id'} // '')
       && $res->{headers}{'content-type'} =~ m{^application/json},
       $name) or diag("$res->{status} $res->{content}");
}

$res = req('GET', '/t/on');
json_error($res, 401, 'unauthenticated',
           'authtok-3.1: on + no token: 401 unauthenticated, JSON');
is($res->{headers}{'www-authenticate'}, 'Bearer',
   'authtok-3.2: ... with WWW-Authenticate: Bearer');

json_error(req('GET', '/t/on', bearer($expired)), 401, 'token_expired',
           'authtok-3.3: on + expired: 401 token_expired');
json_error(req('GET', '/t/on', bearer($bad{'tampered mac'})), 401,
           'unauthenticated', 'authtok-3.4: on + tampered: 401 '
           . 'unauthenticated');

$res = req('GET', '/t/on', bearer($tok));
is($res->{status}, 200, 'authtok-3.5: on + valid token: 200');

# --- a token verified once is kept by the worker, its expiry is not ----

my $short = mint(user => 43, roles => 'intake', session => $s1, ttl => 4);
my @seen = map { req('GET', '/t/on', bearer($short))->{content} } 1 .. 6;
is(scalar(grep { $_ eq "43|intake|0|$s1|OK|1\n" } @seen), 6,
   'authtok-3.6: a token sent again and again keeps its identity');

sleep(5);
my @late = map { req('GET', '/t/on', bearer($short)) } 1 .. 6;
is(scalar(grep { $_->{status} == 401
                 && $_->{content} =~ /"code":"token_expired"/ } @late), 6,
   'authtok-3.7: once past its expiry the same token gets 401 '
   . 'token_expired, though it verified before');

# --- identity cannot come from the client ------------------------------

$res = req('GET', '/t/echo', { 'DGJ-User-Id' => 1, 'X-Dgj-User-Id' => 1,
                               'Dgj-Roles' => 'sysadmin',
                               'X-Dgj-Auth-Status' => 'OK' });
is($res->{content}, "||||NONE|\n",
   'authtok-4.1: client headers named like the variables set nothing');

$res = req('GET', '/api/v1/admin/anything',
           { 'DGJ-User-Id' => 1, 'Dgj-Roles' => 'sysadmin',
             'X-Dgj-Roles' => 'sysadmin' });
is($res->{status}, 401,
   'authtok-4.2: ... and open no staff location');

# --- roles x shipped route classes -------------------------------------

my %class = (admin => 'sysadmin', security => 'secadmin',
             audit => 'auditor');

for my $role (qw(sysadmin secadmin auditor citizen)) {
    my $t = mint(user => 5, roles => "handler,$role");

    for my $c (sort keys %class) {
        $res = req('GET', "/api/v1/$c/x", bearer($t));

        if ($class{$c} eq $role) {
            ok($res->{status} != 401 && $res->{status} != 403,
               "authtok-5.1: $role reaches /api/v1/$c/ (the worker "
               . "answers $res->{status})");
        } else {
            json_error($res, 403, 'forbidden',
                       "authtok-5.2: $role is refused /api/v1/$c/ (403)");
        }
    }
}

json_error(req('GET', '/api/v1/audit/x'), 401, 'unauthenticated',
           'authtok-5.3: an anonymous caller gets 401 on a staff class');
is(req('GET', '/api/v1/overview', bearer($bad{garbage}))->{status}, 200,
   'authtok-5.4: the public API stays public with a bad token');

# --- level 2 ------------------------------------------------------------

json_error(req('GET', '/t/level2', bearer($tok)), 403, 'forbidden',
           'authtok-6.1: a one-factor token is refused where level 2 is '
           . 'required');
$res = req('GET', '/t/level2', bearer(mint(user => 42, level => 2)));
is($res->{status}, 200, 'authtok-6.2: a two-factor token passes');

# --- login redirect -----------------------------------------------------

$res = req('GET', '/t/login?a=1&b=x%20y');
is($res->{status}, 302, 'authtok-7.1: GET without a token is redirected');
like($res->{headers}{location},
     qr{/login\?next=%2Ft%2Flogin%3Fa%3D1%26b%3Dx%2520y$},
     'authtok-7.2: ... to login_url?next=<escaped request uri>');
json_error(req('POST', '/t/login'), 401, 'unauthenticated',
           'authtok-7.3: a POST gets 401 JSON, not a redirect');
is(req('GET', '/t/login', bearer($tok))->{status}, 200,
   'authtok-7.4: a signed-in GET is served');

# --- CSRF ---------------------------------------------------------------

my $cookie = { Cookie => "lang=zh; dgj_at=$tok; other=1" };
my $good = csrf($s1);

is(req('GET', '/t/on', $cookie)->{status}, 200,
   'authtok-8.1: a cookie token authenticates a GET');
json_error(req('POST', '/t/on', $cookie), 403, 'csrf_failed',
           'authtok-8.2: a cookie POST without X-CSRF-Token: 403');
json_error(req('DELETE', '/t/on', { %$cookie, 'X-CSRF-Token' => 'x' x 43 }),
           403, 'csrf_failed',
           'authtok-8.3: a cookie DELETE with a wrong token: 403');
json_error(req('PUT', '/t/on', { %$cookie,
                                 'X-CSRF-Token' => csrf(new_session()) }),
           403, 'csrf_failed',
           'authtok-8.4: another session\'s CSRF token: 403');
is(req('POST', '/t/on', { %$cookie, 'X-CSRF-Token' => $good })->{status},
   200, 'authtok-8.5: a cookie POST with its session\'s token passes');
is(req('PATCH', '/t/on', bearer($tok))->{status}, 200,
   'authtok-8.6: a Bearer PATCH needs no CSRF token');
is(req('POST', '/t/nocsrf', $cookie)->{status}, 200,
   'authtok-8.7: dgj_auth_csrf off: no check');
$res = req('POST', '/t/echo', $cookie);
is($res->{content}, "||||CSRF|\n",
   'authtok-8.8: optional + failed CSRF: anonymous, status CSRF');

# --- Bearer before cookie -----------------------------------------------

my $t2 = mint(user => 77, roles => 'citizen');
$res = req('GET', '/t/echo', { %{ bearer($t2) }, %$cookie });
like($res->{content}, qr/^77\|citizen\|/,
     'authtok-9.1: Bearer wins over the cookie');
$res = req('GET', '/t/echo', { %{ bearer('bad.token.x') }, %$cookie });
like($res->{content}, qr/\|INVALID\|/,
     'authtok-9.2: a bad Bearer does not fall back to the cookie');
$res = req('GET', '/t/echo', { Authorization => 'Basic Zm9vOmJhcg==',
                               %$cookie });
like($res->{content}, qr/^42\|/,
     'authtok-9.3: a non-Bearer Authorization leaves the cookie in use');

# --- logs ---------------------------------------------------------------

sleep(1);
my $logs = '';
for my $f (glob("$ENV{DGJ_VAR}/log/nginx/*.log")) {
    open(my $fh, '<', $f) or next;
    local $/;
    $logs .= <$fh>;
}
like($logs, qr/dgj auth: rejected: role \(user 5\)/,
     'authtok-10.1: refusals are logged with a stable reason');
ok(index($logs, $mac) < 0 && index($logs, $payload) < 0,
   'authtok-10.2: no token bytes in any nginx log');

remove_server_conf('authtest');

is(req('GET', '/t/echo')->{status}, 404,
   'authtok-11.1: the test locations are gone again');

done_testing();
