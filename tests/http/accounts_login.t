# Staff and organisation sign-in: password + TOTP, the same answer for every
# wrong credential, lockout after 5 failures, TOTP replay, password expiry
# and change with the MLPS policy, and the auth_events record.
use strict;
use warnings;
use utf8;

use FindBin;
use lib "$FindBin::Bin/../lib";

use Test::More;
use DgjTest qw(spread_sources sql);

# many sign-ins: not from one address (DgjTest::spread_sources)
spread_sources();
use DgjLogin qw(demo_account totp_code staff_login login_app api
               set_clock_offset clock_offset);

my $intake = demo_account('demo.intake');

# --- a good login ----------------------------------------------------------

my ($res, $b) = staff_login('demo.intake');
is($res->{status}, 200, 'staff login with password and TOTP: 200');
ok($b->{access_token} && $b->{refresh_token}, 'an app login gets both tokens');
is($b->{user}{roles}, 'intake', 'the reply names the roles');
ok($b->{session}{expires_in} > 0 && $b->{session}{expires_in} <= 120,
   'a staff access token lives at most 120 s');
like($b->{session}{csrf_token}, qr/^[A-Za-z0-9_-]{43}$/, 'a CSRF token');

my ($r2, $me) = api('GET', '/api/v1/auth/me', undef, $b->{access_token});
is($r2->{status}, 200, 'GET /auth/me with the Bearer token');
is($me->{username}, 'demo.intake', 'me: the right account');
is($me->{auth_level}, 2, 'password + TOTP is auth level 2');

($r2, $me) = api('GET', '/api/v1/auth/me');
is($r2->{status}, 401, 'GET /auth/me anonymous: 401');
is($me->{error}{code}, 'unauthenticated', 'code unauthenticated');

# --- wrong credentials: one answer -----------------------------------------

my %bad;
($res, $b) = api('POST', '/api/v1/auth/login',
                 { username => 'no.such.user', password => 'Whatever-123!',
                   totp => '123456' });
$bad{unknown} = [$res->{status}, $b->{error}{code}, $b->{error}{message}];

($res, $b) = staff_login('demo.intake', 'Wrong-password-1', $intake->{secret});
$bad{password} = [$res->{status}, $b->{error}{code}, $b->{error}{message}];

($res, $b) = api('POST', '/api/v1/auth/login',
                 { username => 'demo.intake',
                   password => $intake->{password}, totp => '000000' });
$bad{totp} = [$res->{status}, $b->{error}{code}, $b->{error}{message}];

($res, $b) = api('POST', '/api/v1/auth/login',
                 { username => 'demo.intake',
                   password => $intake->{password} });
$bad{no_totp} = [$res->{status}, $b->{error}{code}, $b->{error}{message}];

is($bad{unknown}[0], 401, 'unknown user: 401');
is($bad{unknown}[1], 'invalid_credentials', 'unknown user: invalid_credentials');
for my $k (qw(password totp no_totp)) {
    is_deeply($bad{$k}, $bad{unknown},
              "$k: the same status, code and message as an unknown user");
}

# --- TOTP replay -------------------------------------------------------------

my $step = int((time() + clock_offset()) / 30) + 1;
open(my $fh, '>>', "$ENV{DGJ_VAR}/totp-steps") or die $!;
print $fh "demo.reviewer $step\n";
close $fh;

my $rev = demo_account('demo.reviewer');
my $code = totp_code($rev->{secret}, $step);
($res) = api('POST', '/api/v1/auth/login',
             { username => 'demo.reviewer', password => $rev->{password},
               totp => $code, client => 'app' });
is($res->{status}, 200, 'a TOTP code works once');
($res, $b) = api('POST', '/api/v1/auth/login',
                 { username => 'demo.reviewer', password => $rev->{password},
                   totp => $code, client => 'app' });
is($res->{status}, 401, 'the same code a second time is refused');

# --- a fresh account: created by the system admin ---------------------------

my $admin = login_app('demo.sysadmin');
my $dept = (sql('app', "SELECT id FROM departments WHERE code = 'city.water'"))[0][0];
my $uname = 'lock.' . $$;

($res, $b) = api('POST', '/api/v1/admin/users',
                 { username => $uname, display_name => '锁定测试',
                   department_id => $dept + 0, roles => ['handler'] },
                 $admin);
is($res->{status}, 201, 'sysadmin creates a staff account');
my ($pw, $secret) = ($b->{initial_password}, $b->{totp_secret});
like($b->{totp_uri}, qr{^otpauth://totp/.*secret=\Q$secret\E}, 'with a TOTP URI');

($res, $b) = staff_login($uname, $pw, $secret);
is($res->{status}, 403, 'an initial password must be changed first');
is($b->{error}{code}, 'password_change_required', 'code password_change_required');

my $pw2 = 'Wq8!mZ-vK3#tPa';
($res, $b) = api('POST', '/api/v1/auth/password',
                 { username => $uname, old_password => $pw,
                   totp => totp_code($secret, DgjLogin::fresh_step($uname)),
                   new_password => $pw2 });
is($res->{status}, 200, 'initial password changed with it and TOTP');

my $code_used = totp_code($secret, DgjLogin::fresh_step($uname));
($res, $b) = api('POST', '/api/v1/auth/login',
                 { username => $uname, password => $pw2, totp => $code_used,
                   client => 'app' });
is($res->{status}, 200, 'login with the new password');
my $tok = $b->{access_token};

($res, $b) = api('POST', '/api/v1/auth/password',
                 { username => $uname, old_password => $pw2,
                   totp => $code_used, new_password => 'Other-Pass-9x!Q' });
is($res->{status}, 401, 'a TOTP code spent on login does not change a password');

# policy, signed in (no second factor needed again)
my @weak = (['Short1!', 'password_too_short'],
            ['alllowercaseletters', 'password_too_simple'],
            ["X1!$uname" . 'Zz', 'password_contains_username'],
            ['Password123!', 'password_common'],
            [$pw2, 'password_reused'],
            [$pw, 'password_reused']);
for my $w (@weak) {
    ($res, $b) = api('POST', '/api/v1/auth/password',
                     { old_password => $pw2, new_password => $w->[0] },
                     $tok);
    is($res->{status}, 400, "weak new password refused: $w->[1]");
    is($b->{error}{code}, $w->[1], "code $w->[1]");
}

my $user_token = $tok;

# --- expiry --------------------------------------------------------------

sql('admin', "UPDATE users SET password_changed_at = NOW() - INTERVAL 181 DAY"
             . " WHERE username = '$uname'");
($res, $b) = staff_login($uname, $pw2, $secret);
is($res->{status}, 403, 'a staff password older than 180 days must change');
is($b->{error}{code}, 'password_change_required', 'code password_change_required');

sql('admin', "UPDATE users SET password_changed_at = NOW()"
             . " WHERE username = '$uname'");

# --- lockout ---------------------------------------------------------------

for my $i (1 .. 5) {
    ($res, $b) = api('POST', '/api/v1/auth/login',
                     { username => $uname, password => "Wrong-pass-$i!x" });
    is($res->{status}, 401, "failure $i: 401");
}

# a lock is checked before any credential: no TOTP code is spent on it
($res, $b) = api('POST', '/api/v1/auth/login',
                 { username => $uname, password => $pw2, totp => '000000' });
is($res->{status}, 429, 'the right password after 5 failures: locked (429)');
is($b->{error}{code}, 'account_locked', 'code account_locked');
ok($res->{headers}{'retry-after'} > 800, 'Retry-After about 15 minutes');

my @ev = map { "$_->[0] $_->[1]" }
         sql('admin', "SELECT e.event, e.detail FROM auth_events e JOIN users u"
                      . " ON u.id = e.user_id WHERE u.username = '$uname'"
                      . " ORDER BY e.id");
is(scalar(grep { $_ eq 'login_failed password' } @ev), 5,
   'five login_failed (password) events');
ok((grep { $_ eq 'login_failed totp' } @ev), 'the replayed TOTP is recorded');
@ev = map { (split ' ', $_)[0] } @ev;
ok((grep { $_ eq 'account_locked' } @ev), 'an account_locked event');
ok((grep { $_ eq 'password_changed' } @ev), 'a password_changed event');
ok((grep { $_ eq 'login_locked_out' } @ev), 'the refused login is recorded');

set_clock_offset(16 * 60);
($res, $b) = staff_login($uname, $pw2, $secret);
is($res->{status}, 200, 'after 15 minutes the account signs in again');
set_clock_offset(0);

# --- the record holds no secret --------------------------------------------

my @rows = sql('admin', 'SELECT subject, detail FROM auth_events');
my $all = join "\n", map { join ' ', map { $_ // '' } @$_ } @rows;
for my $secret_text ($pw, $pw2, $intake->{password}, $user_token) {
    unlike($all, qr/\Q$secret_text\E/, 'no password or token in auth_events');
}
unlike($all, qr/\Q$uname\E/, 'login names are masked in auth_events');

ok(!eval { sql('app', 'DELETE FROM auth_events'); 1 },
   'auth_events refuses DELETE (append-only)');
ok(!eval { sql('app', "UPDATE auth_events SET detail = 'x'"); 1 },
   'auth_events refuses UPDATE (append-only)');

done_testing();
