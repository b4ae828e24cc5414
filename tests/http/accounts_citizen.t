# Citizens sign in without a password: an SMS code (resend limit, wrong
# codes, attempt limit, single use, gateway failures) or WeChat (the app's
# code exchange and the browser's authorise / callback round trip with its
# state cookie).  A failure never creates an account.
use strict;
use warnings;
use utf8;

use FindBin;
use lib "$FindBin::Bin/../lib";

use Test::More;
use Time::HiRes qw(time);
use DgjTest qw(spread_sources base_url http sql decode_json_body);

# many sign-ins: not from one address (DgjTest::spread_sources)
spread_sources();
use DgjLogin qw(api sms_code peers_url peers_json cookies_of cookie_header
               set_clock_offset);

my $var = $ENV{DGJ_VAR};

# the demo peer answers again and the clock is the wall clock, whatever
# happens
END {
    if ($var) {
        eval { peers_json('POST', '/_fake/mode',
                          { sms => 'ok', wechat => 'ok' }) };
        set_clock_offset(0);
    }
}

# --- helpers ---------------------------------------------------------------

sub count_users {
    return (sql('admin', 'SELECT COUNT(*) FROM users'))[0][0];
}

sub user_of_phone {
    my ($phone) = @_;

    my ($row) = sql('admin', "SELECT user_id FROM user_personal"
                             . " WHERE phone = '$phone'");

    return $row ? $row->[0] : undef;
}

sub user_of_openid {
    my ($openid) = @_;

    my ($row) = sql('admin', "SELECT user_id FROM wechat_identities"
                             . " WHERE openid = '$openid'");

    return $row ? $row->[0] : undef;
}

sub roles_of {
    my ($id) = @_;

    return join ',', map { $_->[0] }
        sql('admin', "SELECT r.name FROM user_roles ur JOIN roles r"
                     . " ON r.id = ur.role_id WHERE ur.user_id = $id"
                     . " ORDER BY r.name");
}

my $serial = 0;

sub new_phone {
    return sprintf '138%04d%04d', $$ % 10000, ++$serial;
}

sub send_sms {
    my ($phone) = @_;

    return api('POST', '/api/v1/auth/sms/send', { phone => $phone });
}

sub sms_login {
    my ($phone, $code) = @_;

    return api('POST', '/api/v1/auth/sms/login',
               { phone => $phone, code => $code, client => 'app' });
}

# a six-digit code that is not CODE
sub wrong {
    my ($code) = @_;

    return sprintf '%06d', ($code + 1) % 1000000;
}

sub mode {
    my (%m) = @_;

    my $now = peers_json('POST', '/_fake/mode', \%m);
    die "the demo peer refused mode @{[ %m ]}\n"
        unless ref $now eq 'HASH' && $now->{sms};
}

my $peer_timeout = 5;
if (open(my $fh, '<', "$var/conf/fcgi-main.conf")) {
    while (<$fh>) {
        $peer_timeout = $1 if /^\s*peer_timeout\s*=\s*(\d+)/;
    }
}

# --- SMS: the good path ---------------------------------------------------

my $p1 = new_phone();
my $users0 = count_users();

my ($res, $b) = send_sms($p1);
is($res->{status}, 202, 'cit-1.1: POST /auth/sms/send: 202');
my $masked = substr($p1, 0, 3) . '****' . substr($p1, 7);
is($b->{phone}, $masked, 'cit-1.2: the reply shows the phone masked');
unlike($res->{content}, qr/\Q$p1\E/, 'cit-1.3: ... and nowhere in full');

my $code = sms_code($p1);
like($code // '', qr/^\d{6}$/, 'cit-1.4: the gateway got a six-digit code');

($res, $b) = send_sms($p1);
is($res->{status}, 429, 'cit-1.5: a second code within 60 s: 429');
is($b->{error}{code}, 'sms_too_soon', 'cit-1.6: ... sms_too_soon');
my $retry = $res->{headers}{'retry-after'} // '';
ok($retry =~ /^\d+$/ && $retry > 0 && $retry <= 60,
   'cit-1.7: ... with Retry-After in seconds') or diag("Retry-After $retry");
is(sms_code($p1), $code, 'cit-1.8: ... and no new code was sent');

($res, $b) = sms_login($p1, wrong($code));
is($res->{status}, 401, 'cit-1.9: a wrong code: 401');
is($b->{error}{code}, 'sms_code_invalid', 'cit-1.10: ... sms_code_invalid');
is(count_users(), $users0, 'cit-1.11: ... and no account');

($res, $b) = sms_login($p1, $code);
is($res->{status}, 200, 'cit-1.12: the right code: 200');
ok($b->{access_token} && $b->{refresh_token}, 'cit-1.13: an app session');
is($b->{user}{kind}, 'citizen', 'cit-1.14: a citizen account ...');
is($b->{user}{roles}, 'citizen', 'cit-1.15: ... with the role citizen');
my $uid = $b->{user}{id};
is(count_users(), $users0 + 1, 'cit-1.16: one account was created');
is(user_of_phone($p1), $uid, 'cit-1.17: ... for this phone');
is(roles_of($uid), 'citizen', 'cit-1.18: ... holding only citizen');

my ($r2, $me) = api('GET', '/api/v1/auth/me', undef, $b->{access_token});
is($r2->{status}, 200, 'cit-1.19: the token works');
is($me->{phone}, $masked, 'cit-1.20: /auth/me shows the phone masked');
is($me->{auth_level}, 1, 'cit-1.21: an SMS code is one factor');

($res, $b) = sms_login($p1, $code);
is($res->{status}, 401, 'cit-1.22: the same code again: 401');
is($b->{error}{code}, 'sms_code_invalid', 'cit-1.23: ... sms_code_invalid');

# a minute later: a new code, the same account
set_clock_offset(61);
($res) = send_sms($p1);
is($res->{status}, 202, 'cit-1.24: after 60 s a new code may be sent');
my $code2 = sms_code($p1);
isnt($code2, $code, 'cit-1.25: ... a new code')
    or diag('the same code twice: rare but possible');
($res, $b) = sms_login($p1, $code2);
is($res->{status}, 200, 'cit-1.26: the second sign-in: 200');
is($b->{user}{id}, $uid, 'cit-1.27: ... the same account');
is(count_users(), $users0 + 1, 'cit-1.28: ... and still one account');
set_clock_offset(0);

# --- SMS: attempts, bad input ---------------------------------------------

my $p2 = new_phone();
($res) = send_sms($p2);
is($res->{status}, 202, 'cit-2.1: a code for another phone');
my $code_p2 = sms_code($p2);
my $n401 = 0;
for (1 .. 5) {
    ($res, $b) = sms_login($p2, wrong($code_p2));
    $n401++ if $res->{status} == 401
               && $b->{error}{code} eq 'sms_code_invalid';
}
is($n401, 5, 'cit-2.2: five wrong codes: 401 sms_code_invalid each');
($res, $b) = sms_login($p2, $code_p2);
is($res->{status}, 401, 'cit-2.3: after 5 wrong codes the right one fails');
is($b->{error}{code}, 'sms_code_invalid', 'cit-2.4: ... sms_code_invalid');
ok(!defined user_of_phone($p2), 'cit-2.5: ... and no account');

for my $bad ('12345', '2381234567', '1381234567x', '+1 202 555 0100') {
    ($res, $b) = send_sms($bad);
    is($res->{status} . ' ' . ($b->{error}{code} // ''), '400 invalid_phone',
       "cit-2.6: send to '$bad': 400 invalid_phone");
}
($res, $b) = sms_login('12345', '123456');
is($res->{status} . ' ' . ($b->{error}{code} // ''), '400 invalid_phone',
   'cit-2.7: sign-in with an invalid phone: 400 invalid_phone');

($res, $b) = sms_login(new_phone(), '123456');
is($res->{status}, 401, 'cit-2.8: a phone that never got a code: 401');
is($b->{error}{code}, 'sms_code_invalid', 'cit-2.9: ... sms_code_invalid');

# --- SMS: the gateway fails -------------------------------------------------

for my $m ('error', 'timeout', 'down') {
    my $p = new_phone();
    my $before = count_users();

    mode(sms => $m);
    my $t0 = time();
    ($res, $b) = send_sms($p);
    my $took = time() - $t0;
    mode(sms => 'ok');

    is($res->{status}, 502, "cit-3.1: gateway $m: 502");
    is($b->{error}{code}, 'sms_failed', "cit-3.2: gateway $m: sms_failed");
    like($b->{error}{message} // '', qr/SMS could not be sent/,
         "cit-3.3: gateway $m: the message says the SMS was not sent");
    cmp_ok($took, '<=', $peer_timeout + 2,
           "cit-3.4: gateway $m: answered within peer_timeout + 2 s");
    ok(!defined sms_code($p), "cit-3.5: gateway $m: no message delivered");
    is((sql('admin', "SELECT COUNT(*) FROM sms_codes WHERE phone = '$p'"
                     . ' AND used_at IS NULL'))[0][0], 0,
       "cit-3.6: gateway $m: no code left usable");
    ($res) = sms_login($p, '123456');
    is($res->{status}, 401, "cit-3.7: gateway $m: a guessed code: 401");
    is(count_users(), $before, "cit-3.8: gateway $m: no account");
}

# --- WeChat, the app's code exchange ----------------------------------------

sub wx_code {
    my ($openid) = @_;

    my $code = sprintf 'wxc%d%04d%s', $$, ++$serial, int(rand(1e6));
    my $ok = peers_json('POST', '/_fake/wechat/codes',
                        { code => $code, openid => $openid });
    die "the demo peer refused the code\n" unless $ok && $ok->{ok};

    return $code;
}

sub wx_login {
    my ($code) = @_;

    return api('POST', '/api/v1/auth/wechat/login',
               { code => $code, client => 'app' });
}

my $openid = "oDGJtest_$$" . '_a';
my $users1 = count_users();
my $wc = wx_code($openid);

($res, $b) = wx_login($wc);
is($res->{status}, 200, 'cit-4.1: WeChat sign-in with a fresh code: 200');
is($b->{user}{kind}, 'citizen', 'cit-4.2: ... a citizen account');
is($b->{user}{roles}, 'citizen', 'cit-4.3: ... with the role citizen');
ok($b->{access_token}, 'cit-4.4: ... an app session');
my $wuid = $b->{user}{id};
is(user_of_openid($openid), $wuid, 'cit-4.5: the openid is linked to it');
is(count_users(), $users1 + 1, 'cit-4.6: one account was created');

($res, $b) = wx_login(wx_code($openid));
is($res->{status}, 200, 'cit-4.7: the same openid again: 200');
is($b->{user}{id}, $wuid, 'cit-4.8: ... the same account');

($res, $b) = wx_login($wc);
is($res->{status}, 401, 'cit-4.9: a used code: 401');
is($b->{error}{code}, 'wechat_code_invalid', 'cit-4.10: ... '
   . 'wechat_code_invalid');

($res, $b) = wx_login("nosuchcode$$");
is($res->{status}, 401, 'cit-4.11: an unknown code: 401');
is($b->{error}{code}, 'wechat_code_invalid', 'cit-4.12: ... '
   . 'wechat_code_invalid');
is(count_users(), $users1 + 1, 'cit-4.13: no account for either');

for my $m ('error', 'timeout') {
    my $oid = "oDGJtest_$$" . "_$m";
    my $c = wx_code($oid);
    my $before = count_users();

    mode(wechat => $m);
    my $t0 = time();
    ($res, $b) = wx_login($c);
    my $took = time() - $t0;
    mode(wechat => 'ok');

    is($res->{status}, 502, "cit-5.1: WeChat $m: 502");
    is($b->{error}{code}, 'wechat_failed', "cit-5.2: WeChat $m: "
       . 'wechat_failed');
    like($b->{error}{message} // '', qr/WeChat sign-in is not available/,
         "cit-5.3: WeChat $m: the message says so");
    cmp_ok($took, '<=', $peer_timeout + 2,
           "cit-5.4: WeChat $m: answered within peer_timeout + 2 s");
    ok(!defined user_of_openid($oid), "cit-5.5: WeChat $m: no identity");
    is(count_users(), $before, "cit-5.6: WeChat $m: no account");
}

# --- WeChat in the browser -----------------------------------------------

($res) = http()->get(base_url() . '/api/v1/auth/wechat/start?next=/after');
is($res->{status}, 302, 'cit-6.1: GET /auth/wechat/start: 302');
my $to = $res->{headers}{location} // '';
my $peers = peers_url();
like($to, qr{^\Q$peers\E/connect/oauth2/authorize\?},
     'cit-6.2: ... to the WeChat authorise page');
my %q = map { my ($k, $v) = split /=/, $_, 2;
              ($k => ($v // '') =~ s/%([0-9A-Fa-f]{2})/chr hex $1/ger) }
        split /&/, ($to =~ /\?([^#]*)/)[0] // '';
ok(length($q{appid} // ''), 'cit-6.3: ... with the appid');
is($q{redirect_uri}, base_url() . '/api/v1/auth/wechat/callback',
   'cit-6.4: ... our callback as redirect_uri');
like($q{state} // '', qr/^[A-Za-z0-9]{16,128}$/, 'cit-6.5: ... and a state');
my $wx = cookies_of($res)->{dgj_wx};
ok($wx, 'cit-6.6: ... and a dgj_wx cookie binding it to this browser');

($res) = http()->get($to);
is($res->{status}, 302, 'cit-6.7: the authorise page sends the browser back');
my $back = $res->{headers}{location} // '';
like($back, qr{^\Q$q{redirect_uri}\E\?.*code=.*state=\Q$q{state}\E},
     'cit-6.8: ... to our callback with a code and the state');
(my $cb = $back) =~ s{^\Q@{[ base_url() ]}\E}{};

my $users2 = count_users();
($res, $b) = api('GET', $cb);
is($res->{status}, 401, 'cit-6.9: the callback without the dgj_wx cookie: 401');
is($b->{error}{code}, 'wechat_state_invalid', 'cit-6.10: ... '
   . 'wechat_state_invalid');

(my $other = $cb) =~ s/state=[A-Za-z0-9]+/state=0123456789abcdef0123456789abcdef/;
($res, $b) = api('GET', $other, undef, undef, { Cookie => "dgj_wx=$wx" });
is($res->{status}, 401, 'cit-6.11: the callback with another state: 401');
is($b->{error}{code}, 'wechat_state_invalid', 'cit-6.12: ... '
   . 'wechat_state_invalid');

my ($ostate, $ohex) = split /\./, $wx, 2;
($res, $b) = api('GET', $cb, undef, undef,
                 { Cookie => 'dgj_wx=0123456789abcdef0123456789abcdef.'
                             . ($ohex // '') });
is($res->{status}, 401, 'cit-6.13: the callback with another browser\'s '
   . 'cookie: 401');
is(count_users(), $users2, 'cit-6.14: no account from any of them');

($res) = api('GET', $cb, undef, undef, { Cookie => "dgj_wx=$wx" });
is($res->{status}, 303, 'cit-6.15: the callback with the cookie: 303');
is($res->{headers}{location}, '/after', 'cit-6.16: ... to /after');
my $jar = cookies_of($res);
ok($jar->{dgj_at}, 'cit-6.17: ... signed in (dgj_at)');

($res, $me) = api('GET', '/api/v1/auth/me', undef, undef,
                  { Cookie => cookie_header({ dgj_at => $jar->{dgj_at} }) });
is($res->{status}, 200, 'cit-6.18: the cookie works');
is($me->{roles}, 'citizen', 'cit-6.19: ... a citizen');

($res, $b) = api('GET', $cb, undef, undef, { Cookie => "dgj_wx=$wx" });
is($res->{status}, 401, 'cit-6.20: the same callback again: 401');

# next must stay on this site
($res) = http()->get(base_url()
                     . '/api/v1/auth/wechat/start?next=//evil.example/x');
my $evil = cookies_of($res)->{dgj_wx} // '';
my (undef, $hex) = split /\./, $evil, 2;
my $kept = pack 'H*', $hex // '';
unlike($kept, qr/evil/, 'cit-6.21: start?next=//evil.example keeps no '
   . 'foreign next');

done_testing();
