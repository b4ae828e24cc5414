# The security admin's ban API: MariaDB first, then the ban file and
# nginx's control socket; every worker refuses a banned account within 1 s,
# an unban lifts it as fast, bans survive an nginx restart, and only the
# security admin may touch them.
use strict;
use warnings;
use utf8;

use FindBin;
use lib "$FindBin::Bin/../lib";

use Test::More;
use JSON::PP;
use Time::HiRes qw(time sleep);
use DgjTest qw(spread_sources sql stack wait_until);

# many sign-ins: not from one address (DgjTest::spread_sources)
spread_sources();
use DgjLogin qw(login_app api sms_code);
use DgjAuth qw(mint);

my $var = $ENV{DGJ_VAR};
my $ctl = "$var/run/ctl/nginx.sock";
my $ban_file = "$var/state/bans.list";

sub control_bans {
    my $out = `curl -s --unix-socket $ctl http://localhost/_dgj/bans`;
    my $v = eval { decode_json($out) };

    return $v ? $v->{bans} : [];
}

sub in_control {
    my ($kind, $value) = @_;

    return scalar grep { $_->{kind} eq $kind && $_->{value} eq $value }
                  @{ control_bans() };
}

sub file_has {
    my ($re) = @_;

    open(my $fh, '<:encoding(UTF-8)', $ban_file) or return 0;
    local $/;
    my $text = <$fh>;

    return $text =~ $re ? 1 : 0;
}

my $sec = login_app('demo.secadmin');
my $intake = login_app('demo.intake');

# --- only the security admin --------------------------------------------

my $n0 = (sql('admin', "SELECT COUNT(*) FROM bans"))[0][0];
my ($res, $b) = api('POST', '/api/v1/security/bans',
                    { kind => 'ip', value => '203.0.113.9', minutes => 5,
                      reason => 'not allowed' }, $intake);
is($res->{status}, 403, 'an intake operator cannot ban (403)');
is((sql('admin', "SELECT COUNT(*) FROM bans"))[0][0], $n0, 'and nothing is stored');

($res) = api('GET', '/api/v1/security/bans');
is($res->{status}, 401, 'anonymous: 401');

# every other role, with a validly signed token, is refused before a worker
# sees the request; the one holding all but secadmin too
for my $roles (qw(citizen organisation org_pending intake handler reviewer
                  supervisor project_manager analyst ops sysadmin auditor),
               'intake,handler,reviewer,supervisor,project_manager,analyst,ops,sysadmin')
{
    my $t = mint(user => 900000 + length($roles), roles => $roles, level => 2);
    my ($r1) = api('POST', '/api/v1/security/bans',
                   { kind => 'ip', value => '203.0.113.10', minutes => 5,
                     reason => 'not allowed' }, $t);
    my ($r2) = api('GET', '/api/v1/security/bans', undef, $t);
    is("$r1->{status} $r2->{status}", '403 403', "role $roles may not ban or list bans");
}
is((sql('admin', "SELECT COUNT(*) FROM bans"))[0][0], $n0,
   'and none of them stored a ban');

# --- an address ban --------------------------------------------------------

($res, $b) = api('POST', '/api/v1/security/bans',
                 { kind => 'ip', value => '203.0.113.7', minutes => 10,
                   reason => '撞库 credential stuffing, ticket 4711' }, $sec);
is($res->{status}, 201, 'secadmin bans an address: 201');
is($b->{value}, '203.0.113.7', 'the reply has the ban');
my $ip_ban = $b->{id};

ok(wait_until(1, sub { in_control('ip', '203.0.113.7') }),
   'nginx holds the ban at once (control socket)');
ok(file_has(qr/^ip 203\.0\.113\.7 \d+ 撞库 credential stuffing, ticket 4711$/m),
   'the ban file has it for the next start');

($res, $b) = api('POST', '/api/v1/security/bans',
                 { kind => 'cidr', value => '198.51.100.77/24', minutes => 60,
                   reason => 'drill red team' }, $sec);
is($res->{status}, 201, 'a block: 201');
is($b->{value}, '198.51.100.0/24', 'the block is stored with its host bits zero');
my $cidr_ban = $b->{id};

my @bad = ([{ kind => 'host', value => '1.2.3.4', minutes => 1, reason => 'x' }, 'kind'],
           [{ kind => 'ip', value => 'not-an-ip', minutes => 1, reason => 'x' }, 'address'],
           [{ kind => 'ip', value => '1.2.3.4/24', minutes => 1, reason => 'x' }, 'one address'],
           [{ kind => 'cidr', value => '10.0.0.0/4', minutes => 1, reason => 'x' }, 'prefix'],
           [{ kind => 'ip', value => '1.2.3.4', minutes => 0, reason => 'x' }, 'minutes'],
           [{ kind => 'ip', value => '1.2.3.4', minutes => 1, reason => "a\nb" }, 'one line'],
           [{ kind => 'ip', value => '1.2.3.4', minutes => 1 }, 'reason'],
           [{ kind => 'user', value => '99999999', minutes => 1, reason => 'x' }, 'no user']);
my $before = (sql('admin', "SELECT COUNT(*) FROM bans"))[0][0];
for my $case (@bad) {
    ($res, $b) = api('POST', '/api/v1/security/bans', $case->[0], $sec);
    is($res->{status}, 400, "bad ban refused: $case->[1]");
    like($b->{error}{message}, qr/\Q$case->[1]\E/i, "the message says $case->[1]");
}
is((sql('admin', "SELECT COUNT(*) FROM bans"))[0][0], $before,
   'no bad ban was stored');

{
    local $DgjTest::SPREAD = 0;     # from 127.0.0.1 itself
    ($res, $b) = api('POST', '/api/v1/security/bans',
                     { kind => 'ip', value => '127.0.0.1', minutes => 1,
                       reason => 'oops' }, $sec);
}
is($b->{error}{code}, 'self_ban_refused', 'banning one\'s own address is refused');

# --- an account ban: every worker, within 1 s ---------------------------------

my $phone = '139' . sprintf('%08d', $$ % 100000000);
api('POST', '/api/v1/auth/sms/send', { phone => $phone });
($res, $b) = api('POST', '/api/v1/auth/sms/login',
                 { phone => $phone, code => sms_code($phone), client => 'app' });
is($res->{status}, 200, 'a citizen signs in');
my ($citizen, $cid) = ($b->{access_token}, $b->{user}{id});

sub me_status {
    my ($res) = api('GET', '/api/v1/auth/me', undef, $citizen);
    return $res->{status};
}

is(me_status(), 200, 'the citizen is served');

($res, $b) = api('POST', '/api/v1/security/bans',
                 { kind => 'user', value => "$cid", minutes => 30,
                   reason => 'SMS abuse' }, $sec);
is($res->{status}, 201, 'the account is banned');
my $user_ban = $b->{id};
my $t0 = time();

ok(wait_until(1, sub { me_status() == 403 }), 'refused within 1 s');
my @st = map { me_status() } 1 .. 20;
is(scalar(grep { $_ != 403 } @st), 0,
   'and refused on every one of 20 new connections (both nginx workers)');

# --- survives a restart of nginx (from the file) ------------------------------

ok(stack('stop-nginx') && stack('start-nginx'), 'nginx restarted');
is(me_status(), 403, 'the ban holds after an nginx restart');

# --- the file is rebuilt from MariaDB --------------------------------------

open(my $fh, '>', $ban_file) or die $!;
close $fh;
is(system("TZ=Asia/Shanghai $ENV{DGJ_ROOT}/build/bin/dgj-fcgi"
          . " -c $var/conf/fcgi-main.conf -B"), 0, 'dgj-fcgi -B rewrites the file');
ok(file_has(qr/^user $cid \d+ SMS abuse$/m), 'from the bans in MariaDB');

# --- unban -------------------------------------------------------------------

($res) = api('DELETE', "/api/v1/security/bans/$user_ban", undef, $sec);
is($res->{status}, 204, 'the ban is lifted');
ok(wait_until(1, sub { me_status() == 200 }), 'the account is served again within 1 s');
ok(!file_has(qr/^user $cid /m), 'and it left the ban file');

($res, $b) = api('DELETE', "/api/v1/security/bans/$user_ban", undef, $sec);
is($res->{status}, 409, 'lifting it again: 409');
is($b->{error}{code}, 'not_in_force', 'code not_in_force');

($res) = api('DELETE', "/api/v1/security/bans/$ip_ban", undef, $sec);
is($res->{status}, 204, 'the address ban is lifted');
ok(wait_until(1, sub { !in_control('ip', '203.0.113.7') }), 'nginx lets it go');

($res) = api('DELETE', "/api/v1/security/bans/$cidr_ban", undef, $sec);
is($res->{status}, 204, 'the block ban is lifted (the stack is as before)');

# --- the record ---------------------------------------------------------------

($res, $b) = api('GET', '/api/v1/security/bans?all=1', undef, $sec);
is($res->{status}, 200, 'the list, lifted ones included');
my ($u) = grep { $_->{id} == $user_ban } @{ $b->{bans} };
ok($u && !$u->{active} && $u->{lifted_by} eq 'demo.secadmin',
   'a lifted ban says who lifted it');

my @ev = map { $_->[0] }
         sql('admin', "SELECT event FROM auth_events WHERE event LIKE 'ban%'");
is(scalar(grep { $_ eq 'ban_added' } @ev), 3, 'three ban_added events');
is(scalar(grep { $_ eq 'ban_lifted' } @ev), 3, 'three ban_lifted events');

done_testing();
