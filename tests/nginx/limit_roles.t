#!/usr/bin/perl

# limit_roles.t: the limiter against real identity from the auth module
# ($dgj_roles, $dgj_user_id, read lazily in PREACCESS before dgj_auth
# runs, in locations under "dgj_auth optional" as the API is): role multipliers give staff tokens the multiplied budget and
# anonymous callers, citizens and forged tokens the base one; "off" cancels
# an inherited multiplier; a rule keyed on $dgj_user_id separates users and
# leaves anonymous callers alone; auto-ban by=user bans the user id, not
# the address.  Tokens are minted with build/bin/dgj-token.

use strict;
use warnings;

use JSON::PP;
use Test::More;
use DgjTest qw(base_url);
use DgjAuth qw(mint);
use DgjLimit qw(limit_conf limit_conf_remove ctl client hit);

my $json = JSON::PP->new;

# burst=2: 3 at once for the base budget; 1r/m so nothing refills meanwhile
limit_conf('roles', <<'HTTP', <<'SERVER');
dgj_limit_zone name=t_roles size=1m;
dgj_limit_zone name=t_rban size=64k;
dgj_limit_auto_ban zone=t_rban rejections=2 window=30s ban=30s by=user;
HTTP
location /_t/limit/roles/ {
    dgj_auth optional;
    dgj_limit zone=t_roles key=$http_x_key rate=1r/m burst=2 nodelay;
    dgj_limit_role_multiplier intake=3 handler=5 ops=10;
    empty_gif;

    location /_t/limit/roles/off/ {
        dgj_limit_role_multiplier off;
        empty_gif;
    }
}
location = /_t/limit/user {
    dgj_auth optional;
    dgj_limit zone=t_roles key=$dgj_user_id rate=1r/m burst=1 nodelay;
    empty_gif;
}
location = /_t/limit/userban {
    dgj_auth optional;
    dgj_limit zone=t_rban key=$dgj_user_id rate=1r/m nodelay;
    empty_gif;
}
SERVER

sub bearer {
    my ($token) = @_;
    return defined $token ? { Authorization => "Bearer $token" } : {};
}

# admitted(PATH, KEY, TOKEN, N) -> (admitted of N at once, RateLimit-Limit)
sub admitted {
    my ($path, $key, $token, $n) = @_;

    my $http = client();
    my ($ok, $limit) = (0, undef);

    for (1 .. $n) {
        my $res = hit($http, $path, { %{ bearer($token) }, 'X-Key' => $key });
        $ok++ if $res->{status} == 200;
        $limit //= $res->{headers}{'ratelimit-limit'};
    }

    return ($ok, $limit);
}

my %tok = (
    citizen => mint(user => 910001, roles => 'citizen'),
    intake  => mint(user => 910002, roles => 'intake', dept => 3),
    both    => mint(user => 910003, roles => 'intake,handler', dept => 3),
    ops     => mint(user => 910004, roles => 'ops', dept => 1),
    other   => mint(user => 910005, roles => 'analyst,auditor', dept => 1),
);

# a staff token whose signature no longer matches: anonymous
(my $forged = mint(user => 910006, roles => 'ops', dept => 1))
    =~ s/(.)(.{4})$/($1 eq 'A' ? 'B' : 'A') . $2/e;

# roles-1: the budget follows the roles of a verified token

my @cases = (
    [ 'anonymous',                   'k-anon',    undef,          3 ],
    [ 'a citizen',                   'k-citizen', $tok{citizen},  3 ],
    [ 'staff without a multiplier',  'k-other',   $tok{other},    3 ],
    [ 'a forged ops token',          'k-forged',  $forged,        3 ],
    [ 'intake (x3)',                 'k-intake',  $tok{intake},   7 ],
    [ 'intake,handler (largest, x5)', 'k-both',   $tok{both},     11 ],
    [ 'ops (x10)',                   'k-ops',     $tok{ops},      21 ],
);

for my $c (@cases) {
    my ($who, $key, $token, $want) = @$c;
    my ($ok, $limit) = admitted('/_t/limit/roles/x', $key, $token, $want + 3);
    is($ok, $want, "roles-1: $who: $want admitted at once");
    is($limit, $want, "roles-1: $who: RateLimit-Limit $want");
}

my ($ok) = admitted('/_t/limit/roles/off/x', 'k-off', $tok{ops}, 6);
is($ok, 3, 'roles-1.8: "dgj_limit_role_multiplier off" gives ops the base '
   . 'budget');

# roles-2: a rule keyed on $dgj_user_id: one bucket per user

my @a = map { hit(client(), '/_t/limit/user', bearer($tok{intake}))->{status} }
        1 .. 3;
is("@a", '200 200 429', 'roles-2.1: user 910002: burst 1, then refused '
   . '(fresh connections, both workers)');
my @b = map { hit(client(), '/_t/limit/user', bearer($tok{ops}))->{status} }
        1 .. 3;
is("@b", '200 200 429', 'roles-2.2: user 910004 from the same address has '
   . 'a bucket of its own');
my @anon = map { hit(client(), '/_t/limit/user')->{status} } 1 .. 5;
is("@anon", '200 200 200 200 200', 'roles-2.3: an anonymous caller has an '
   . 'empty key and is not limited by a user rule');

# roles-3: auto-ban by=user bans the user id

my $http = client();
my @r = map { hit($http, '/_t/limit/userban', bearer($tok{citizen}))->{status} }
        1 .. 4;
is("@r", '200 429 429 403', 'roles-3.1: user 910001: the second rejection '
   . 'bans the user');

my ($s, $body) = ctl('GET', '/_dgj/bans');
my $l = $s == 200 ? $json->decode($body) : { bans => [] };
my ($ub) = grep { $_->{kind} eq 'user' && $_->{value} eq '910001' }
           @{ $l->{bans} };
ok($ub, 'roles-3.2: /_dgj/bans lists a user ban of 910001');
like($ub && $ub->{reason}, qr/^auto-ban: 2 rejections by zone t_rban/,
     'roles-3.3: ... with the auto-ban reason');
ok(!(grep { $_->{kind} ne 'user' && $_->{value} eq '127.0.0.1' }
     @{ $l->{bans} }), 'roles-3.4: ... and no ban of the address');

is(hit(client(), '/_t/limit/roles/y', bearer($tok{citizen}))->{status}, 403,
   'roles-3.5: the banned user is refused everywhere');
is(hit(client(), '/_t/limit/roles/y', bearer($tok{intake}))->{status}, 200,
   'roles-3.6: another user from the same address is served');
is(hit(client(), '/_t/limit/roles/y')->{status}, 200,
   'roles-3.7: so is an anonymous caller');

($s) = ctl('POST', '/_dgj/bans', "unban user 910001\n");
is($s, 200, 'roles-3.8: unban');
is(hit(client(), '/_t/limit/roles/z', bearer($tok{citizen}))->{status}, 200,
   'roles-3.9: the user is served again');

limit_conf_remove('roles');

done_testing();
