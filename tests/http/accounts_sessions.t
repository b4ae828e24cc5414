# Sessions as a browser and an app see them: the cookies a browser login
# sets, CSRF on cookie requests, refresh and resume, sign-out refused by
# every nginx worker at once, idle and absolute timeouts (the workers'
# clock moved forward), sessions ended by a role change or a disabled
# account, and the same API over HTTPS with Secure cookies.
use strict;
use warnings;
use utf8;

use FindBin;
use lib "$FindBin::Bin/../lib";

use Test::More;
use HTTP::Tiny;
use JSON::PP;
use MIME::Base64 qw(decode_base64);
use POSIX qw(_exit);
use Time::HiRes qw(time sleep);
use DgjTest qw(spread_sources http base_url sql wait_until decode_json_body);

# many sign-ins: not from one address (DgjTest::spread_sources)
spread_sources();
use DgjPool qw(read_pid);
use DgjLogin qw(login_app api totp_code sms_code cookies_of cookie_header
               set_clock_offset);

my $json = JSON::PP->new->utf8->canonical;
my $var = $ENV{DGJ_VAR};

# the workers' clock goes back to the wall clock whatever happens
END { set_clock_offset(0) if $var; }

# --- helpers ---------------------------------------------------------------

# call(BASE, METHOD, PATH, BODY|undef, HEADERS?) -> (res, decoded)
sub call {
    my ($base, $method, $path, $body, $headers) = @_;

    my $ua = http(verify_SSL => 0);
    my %opt = (headers => { Accept => 'application/json',
                            %{ $headers || {} } });
    if (defined $body) {
        $opt{content} = ref $body ? $json->encode($body) : $body;
        $opt{headers}{'Content-Type'} = 'application/json';
    }

    my $res = $ua->request($method, $base . $path, \%opt);

    return ($res, decode_json_body($res));
}

sub with_cookies {
    my ($jar, %more) = @_;

    return { Cookie => cookie_header($jar), %more };
}

# the whole Set-Cookie line for NAME, or ''
sub set_cookie {
    my ($res, $name) = @_;

    my $h = $res->{headers}{'set-cookie'};
    for my $line (ref $h ? @$h : defined $h ? ($h) : ()) {
        return $line if $line =~ /^\Q$name\E=/;
    }

    return '';
}

# the session id inside an access token
sub session_of {
    my ($token) = @_;

    my (undef, $payload) = split /\./, $token;
    $payload =~ tr{-_}{+/};
    $payload .= '=' x ((4 - length($payload) % 4) % 4);

    return (split /\|/, decode_base64($payload))[4];
}

sub end_reason {
    my ($session) = @_;

    my ($row) = sql('admin', "SELECT end_reason FROM sessions"
                             . " WHERE id = '$session'");

    return $row ? $row->[0] // '' : '(no row)';
}

my $admin = login_app('demo.sysadmin');
my $dept = (sql('app', "SELECT id FROM departments"
                       . " WHERE code = 'city.water'"))[0][0];
my $serial = 0;

# a fresh staff account whose initial password is changed already:
# { id, username, password, secret }; one TOTP step is spent on it
sub new_staff {
    my ($role) = @_;

    my $name = sprintf 'sess.%d.%d', $$, ++$serial;
    my ($res, $b) = api('POST', '/api/v1/admin/users',
                        { username => $name, display_name => '会话测试',
                          department_id => $dept + 0, roles => [$role] },
                        $admin);
    die "creating $name: $res->{status} $res->{content}\n"
        unless $res->{status} == 201;

    my $u = { id => $b->{user}{id}, username => $name,
              secret => $b->{totp_secret}, password => 'Kx7!pQ-w2#Lm' . $serial };

    ($res) = api('POST', '/api/v1/auth/password',
                 { username => $name, old_password => $b->{initial_password},
                   totp => totp_code($u->{secret},
                                     DgjLogin::fresh_step($name)),
                   new_password => $u->{password} });
    die "password of $name: $res->{status} $res->{content}\n"
        unless $res->{status} == 200;

    return $u;
}

# staff_signin(BASE, USER, CLIENT) -> (res, body)
sub staff_signin {
    my ($base, $u, $client) = @_;

    my $body = { username => $u->{username}, password => $u->{password},
                 totp => totp_code($u->{secret},
                                   DgjLogin::fresh_step($u->{username})) };
    $body->{client} = $client if $client;

    return call($base, 'POST', '/api/v1/auth/login', $body);
}

my $phones = 0;

# a citizen signed in by SMS on a phone used nowhere else: (res, body)
sub citizen_signin {
    my ($base, $client) = @_;

    my $phone = sprintf '137%04d%04d', $$ % 10000, ++$phones;
    my ($res) = call($base, 'POST', '/api/v1/auth/sms/send',
                     { phone => $phone });
    die "sms to $phone: $res->{status} $res->{content}\n"
        unless $res->{status} == 202;

    my $body = { phone => $phone, code => sms_code($phone) };
    $body->{client} = $client if $client;

    return call($base, 'POST', '/api/v1/auth/sms/login', $body);
}

sub citizen_app {
    my ($res, $b) = citizen_signin(base_url(), 'app');
    die "citizen login: $res->{status} $res->{content}\n"
        unless $res->{status} == 200;

    return $b;
}

sub refresh_app {
    my ($secret) = @_;

    return call(base_url(), 'POST', '/api/v1/auth/refresh',
                { refresh_token => $secret, client => 'app' });
}

# what nginx says to a request with these headers at a dgj_auth-on
# location that no test account may use: "403 forbidden" while the token
# is good, "401 session_revoked" once it is revoked
sub gate {
    my ($headers) = @_;

    my ($res, $b) = call(base_url(), 'GET', '/api/v1/admin/roles', undef,
                         $headers);

    return $res->{status} . ' ' . ($b ? $b->{error}{code} // '' : '');
}

sub nginx_workers {
    my $master = read_pid('nginx.pid') or die "nginx is not running\n";

    return split ' ', `pgrep -P $master`;
}

sub log_size {
    return -s "$var/log/nginx/error.log" // 0;
}

# pids of the nginx workers that logged a revoked session past OFFSET
sub refusing_workers {
    my ($offset) = @_;

    my %seen;
    open(my $log, '<', "$var/log/nginx/error.log") or return ();
    seek($log, $offset, 0);
    while (<$log>) {
        $seen{$1} = 1 if /\[info\] (\d+)#\d+: \*\d+ dgj auth: revoked session/;
    }

    return keys %seen;
}

# revoked_everywhere(NAME, HEADERS, OFFSET, T0): refused within 1 s of T0,
# then many fresh connections from parallel clients until every nginx
# worker has refused it; every answer must be a refusal
sub revoked_everywhere {
    my ($name, $headers, $offset, $t0) = @_;

    ok(wait_until(1, sub { gate($headers) eq '401 session_revoked' })
       && time() - $t0 <= 1.5,
       "$name: nginx refuses the token within 1 s (401 session_revoked)");

    my @workers = nginx_workers();
    my ($bad, $total) = (0, 0);
    my %hit;
    my $deadline = time() + 10;

    while (time() < $deadline) {
        my @kids;
        for (1 .. 4) {
            my $pid = fork();
            die "fork: $!" unless defined $pid;
            if ($pid == 0) {
                my $n = 0;
                for (1 .. 8) {
                    $n++ if gate($headers) ne '401 session_revoked';
                }
                _exit($n);
            }
            push @kids, $pid;
        }
        for my $pid (@kids) {
            waitpid($pid, 0);
            $bad += $? >> 8;
            $total += 8;
        }

        %hit = map { $_ => 1 } refusing_workers($offset);
        last unless grep { !$hit{$_} } @workers;
    }

    is($bad, 0, "$name: $total requests on fresh connections: all refused");
    ok(!(grep { !$hit{$_} } @workers),
       "$name: every nginx worker (" . scalar(@workers) . ') refused it')
        or diag("workers @workers; refusing: " . join(' ', sort keys %hit));
}

# --- a browser login: cookies, not tokens ----------------------------------

my $s1 = new_staff('handler');
my ($res, $b) = staff_signin(base_url(), $s1);
is($res->{status}, 200, 'sess-1.1: browser login of a staff member: 200');

my $at = set_cookie($res, 'dgj_at');
my $rt = set_cookie($res, 'dgj_rt');
my $cs = set_cookie($res, 'dgj_csrf');

like($at, qr/;\s*HttpOnly(;|$)/i, 'sess-1.2: dgj_at is HttpOnly');
like($at, qr/;\s*SameSite=Lax(;|$)/i, 'sess-1.3: dgj_at is SameSite=Lax');
like($at, qr/;\s*Path=\/(;|$)/, 'sess-1.4: dgj_at has Path=/');
my ($age) = $at =~ /;\s*Max-Age=(\d+)/i;
ok(defined $age && $age > 0 && $age <= 120,
   'sess-1.5: a staff dgj_at lives at most 120 s') or diag($at);
unlike($at, qr/;\s*Secure/i, 'sess-1.6: no Secure flag over plain HTTP');

like($rt, qr/;\s*HttpOnly(;|$)/i, 'sess-1.7: dgj_rt is HttpOnly');
like($rt, qr{;\s*Path=/api/v1/auth/(;|$)},
     'sess-1.8: dgj_rt is sent only to /api/v1/auth/');
# docs/security.md#csrf-and-cookies
like($rt, qr/;\s*SameSite=Strict(;|$)/i, 'sess-1.9: dgj_rt is SameSite=Strict');

ok(length($cs) && $cs !~ /HttpOnly/i,
   'sess-1.10: dgj_csrf is readable by the page (not HttpOnly)') or diag($cs);
like($cs, qr/;\s*SameSite=Strict(;|$)/i,
     'sess-1.11: dgj_csrf is SameSite=Strict');

my $jar = cookies_of($res);
ok(!exists $b->{access_token} && !exists $b->{refresh_token},
   'sess-1.12: no token in the JSON body of a browser login');
unlike($res->{content}, qr/\Q$jar->{dgj_at}\E|\Q$jar->{dgj_rt}\E/,
       'sess-1.13: ... not even inside another field');
is($b->{session}{csrf_token}, $jar->{dgj_csrf},
   'sess-1.14: the body gives the page its CSRF token');

my $me;
($res, $me) = call(base_url(), 'GET', '/api/v1/auth/me', undef,
                   with_cookies($jar));
is($res->{status}, 200, 'sess-1.15: GET /auth/me with the cookie: 200');
is($me->{username}, $s1->{username}, 'sess-1.16: ... the right account');

# --- CSRF -------------------------------------------------------------------

($res, $b) = call(base_url(), 'POST', '/api/v1/auth/logout', '',
                  with_cookies($jar));
is($res->{status} . ' ' . ($b->{error}{code} // ''), '403 csrf_failed',
   'sess-2.1: a cookie POST /auth/logout without X-CSRF-Token: 403 '
   . 'csrf_failed');
unlike(set_cookie($res, 'dgj_at'), qr/Max-Age=0/i,
       'sess-2.2: ... and does not clear the browser\'s cookies');

($res, $me) = call(base_url(), 'GET', '/api/v1/auth/me', undef,
                   with_cookies($jar));
is($res->{status}, 200, 'sess-2.3: the session still works afterwards');

($res, $b) = call(base_url(), 'POST', '/api/v1/auth/logout', '',
                  with_cookies($jar,
                               'X-CSRF-Token' => 'AAAA' . $jar->{dgj_csrf}));
is($res->{status}, 403, 'sess-2.4: a wrong X-CSRF-Token: 403');
unlike(set_cookie($res, 'dgj_at'), qr/Max-Age=0/i,
       'sess-2.5: ... and the cookies stay');
($res, $me) = call(base_url(), 'GET', '/api/v1/auth/me', undef,
                   with_cookies($jar));
is($res->{status}, 200, 'sess-2.6: the session still works');

# --- refresh and resume ---------------------------------------------------

# a token is minted per second: a new one needs a new second
sleep(1.1);
($res, $b) = call(base_url(), 'POST', '/api/v1/auth/refresh', '',
                  { Cookie => "dgj_rt=$jar->{dgj_rt}" });
is($res->{status}, 200, 'sess-3.1: POST /auth/refresh with the dgj_rt '
   . 'cookie: 200');
my $fresh = cookies_of($res);
ok($fresh->{dgj_at} && $fresh->{dgj_at} ne $jar->{dgj_at},
   'sess-3.2: ... a new dgj_at cookie');
ok(!exists $b->{access_token}, 'sess-3.3: ... and no token in the body');
$jar->{dgj_at} = $fresh->{dgj_at} if $fresh->{dgj_at};

($res, $me) = call(base_url(), 'GET', '/api/v1/auth/me', undef,
                   with_cookies($jar));
is($res->{status}, 200, 'sess-3.4: the refreshed cookie works');

($res) = call(base_url(), 'GET', '/api/v1/auth/resume?next=/x', undef,
              { Cookie => "dgj_rt=$jar->{dgj_rt}" });
is($res->{status}, 303, 'sess-3.5: GET /auth/resume?next=/x with a '
   . 'session: 303');
is($res->{headers}{location}, '/x', 'sess-3.6: ... back to /x');
ok(cookies_of($res)->{dgj_at}, 'sess-3.7: ... with a fresh dgj_at');

($res) = call(base_url(), 'GET', '/api/v1/auth/resume?next=/x');
is($res->{status}, 303, 'sess-3.8: /auth/resume without a session: 303');
my $loc = $res->{headers}{location} // '';
my ($next) = $loc =~ m{^/login\?next=([^&]*)$};
ok(defined $next && ($next =~ s/%([0-9A-Fa-f]{2})/chr hex $1/ger) eq '/x',
   'sess-3.9: ... to /login?next=<the encoded /x>') or diag($loc);

($res) = call(base_url(), 'GET', '/api/v1/auth/resume?next=/x', undef,
              { Cookie => 'dgj_rt=' . ('ab' x 32) });
is($res->{status}, 303, 'sess-3.10: an unknown refresh secret: 303 ...');
like($res->{headers}{location} // '', qr{^/login\?next=},
     'sess-3.11: ... to the login page');

for my $evil ('//evil.example', '//evil.example/x', '/\\evil.example',
              'https://evil.example/', '%2F%2Fevil.example',
              '/%09/evil.example')
{
    for my $who (['with', { Cookie => "dgj_rt=$jar->{dgj_rt}" }],
                 ['without', {}])
    {
        ($res) = call(base_url(), 'GET', "/api/v1/auth/resume?next=$evil",
                      undef, $who->[1]);
        my $to = $res->{headers}{location} // '';
        my $target = $to =~ m{^/login\?next=(.*)$}
                     ? ($1 =~ s/%([0-9A-Fa-f]{2})/chr hex $1/ger) : $to;
        ok($res->{status} == 303 && $to =~ m{^/[^/\\]|^/$}
           && $target =~ m{^/(?![/\\])} && $target !~ /evil\.example/,
           "sess-3.12: next=$evil $who->[0] a session stays on this site")
            or diag("$res->{status} $to");
    }
}

# --- sign-out: refused by every worker at once ------------------------------

my $offset = log_size();
($res, $b) = call(base_url(), 'POST', '/api/v1/auth/logout', '',
                  with_cookies($jar, 'X-CSRF-Token' => $jar->{dgj_csrf}));
my $t0 = time();
is($res->{status}, 200, 'sess-4.1: logout with the X-CSRF-Token header: 200');
ok($b->{signed_out}, 'sess-4.2: ... signed_out');
like(set_cookie($res, 'dgj_at'), qr/Max-Age=0/i,
     'sess-4.3: ... the cookies are cleared');

revoked_everywhere('sess-4.4', with_cookies($jar), $offset, $t0);

($res, $b) = call(base_url(), 'POST', '/api/v1/auth/refresh', '',
                  { Cookie => "dgj_rt=$jar->{dgj_rt}" });
is($res->{status}, 401, 'sess-4.5: refresh after logout: 401');
is($b->{error}{code}, 'session_expired', 'sess-4.6: ... session_expired');
is(end_reason(session_of($jar->{dgj_at})), 'logout',
   'sess-4.7: the session row ended with reason logout');

# a Bearer POST is not CSRF-able: no header needed
my $c1 = citizen_app();
($res, $b) = call(base_url(), 'POST', '/api/v1/auth/logout', '',
                  { Authorization => "Bearer $c1->{access_token}" });
ok($res->{status} == 200 && $b->{signed_out},
   'sess-4.8: a Bearer POST /auth/logout needs no X-CSRF-Token')
    or diag("$res->{status} $res->{content}");
($res, $b) = refresh_app($c1->{refresh_token});
is($res->{status}, 401, 'sess-4.9: ... and its refresh is refused');

# --- app refresh --------------------------------------------------------------

my $c2 = citizen_app();
sleep(1.1);
($res, $b) = refresh_app($c2->{refresh_token});
is($res->{status}, 200, 'sess-5.1: app refresh {refresh_token, client app}: '
   . '200');
ok($b->{access_token} && $b->{access_token} ne $c2->{access_token},
   'sess-5.2: ... a new access token in the body');
ok(!set_cookie($res, 'dgj_at'), 'sess-5.3: ... and no cookie');
ok($b->{session}{expires_in} > 0 && $b->{session}{expires_in} <= 600,
   'sess-5.4: a citizen token lives at most 600 s');
($res, $me) = call(base_url(), 'GET', '/api/v1/auth/me', undef,
                   { Authorization => "Bearer $b->{access_token}" });
is($res->{status}, 200, 'sess-5.5: the new token works');

# --- idle timeout (staff: 900 s) --------------------------------------------

my $s2 = new_staff('handler');
($res, $b) = staff_signin(base_url(), $s2, 'app');
is($res->{status}, 200, 'sess-6.1: app login of a staff member');
my $s2_tok = $b;

set_clock_offset(600);
($res) = refresh_app($s2_tok->{refresh_token});
is($res->{status}, 200, 'sess-6.2: refresh after 10 idle minutes: 200');

set_clock_offset(600 + 901);
($res, $b) = refresh_app($s2_tok->{refresh_token});
is($res->{status}, 401, 'sess-6.3: refresh after 901 idle seconds: 401');
is($b->{error}{code}, 'session_expired', 'sess-6.4: ... session_expired');
is(end_reason(session_of($s2_tok->{access_token})), 'idle_timeout',
   'sess-6.5: the session row ended with reason idle_timeout');
set_clock_offset(0);
($res) = refresh_app($s2_tok->{refresh_token});
is($res->{status}, 401, 'sess-6.6: ... and stays ended');

# --- absolute timeout (12 h) --------------------------------------------------

my $c3 = citizen_app();
my $ok = 0;
my @offsets = (map { 3600 * $_ } 1 .. 11);
for my $o (@offsets, 43200 - 60) {
    set_clock_offset($o);
    ($res, $b) = refresh_app($c3->{refresh_token});
    if ($res->{status} == 200) {
        $ok++;
    } else {
        diag("refresh at +$o s: $res->{status} $res->{content}");
    }
}
is($ok, scalar(@offsets) + 1, 'sess-7.1: a citizen refreshing every hour '
   . 'keeps the session for 12 h');

set_clock_offset(43200);
($res, $b) = refresh_app($c3->{refresh_token});
is($res->{status}, 401, 'sess-7.2: at 12 h the refresh is refused: 401');
is($b->{error}{code}, 'session_expired', 'sess-7.3: ... session_expired');
is(end_reason(session_of($c3->{access_token})), 'absolute_timeout',
   'sess-7.4: the session row ended with reason absolute_timeout');
set_clock_offset(0);

# --- a role change ends the sessions everywhere -------------------------------

my $s3 = new_staff('handler');
($res, $b) = staff_signin(base_url(), $s3, 'app');
is($res->{status}, 200, 'sess-8.1: app login of a staff member');
my $s3_tok = $b;
my $bearer = { Authorization => "Bearer $s3_tok->{access_token}" };
is(gate($bearer), '403 forbidden', 'sess-8.2: the token is good (a handler '
   . 'may not use admin routes)');

$offset = log_size();
($res, $b) = api('PUT', "/api/v1/admin/users/$s3->{id}/roles",
                 { roles => ['reviewer'] }, $admin);
$t0 = time();
is($res->{status}, 200, 'sess-8.3: sysadmin changes the roles: 200');
is($b->{sessions_ended}, 1, 'sess-8.4: ... one session ended');

revoked_everywhere('sess-8.5', $bearer, $offset, $t0);

($res, $b) = refresh_app($s3_tok->{refresh_token});
is($res->{status}, 401, 'sess-8.6: the old refresh secret is refused');
is(end_reason(session_of($s3_tok->{access_token})), 'roles_changed',
   'sess-8.7: the session row ended with reason roles_changed');

# --- a disabled account ends the sessions everywhere --------------------------

my $c4 = citizen_app();
$bearer = { Authorization => "Bearer $c4->{access_token}" };
is(gate($bearer), '403 forbidden', 'sess-9.1: the citizen token is good');

$offset = log_size();
($res, $b) = api('PATCH', "/api/v1/admin/users/$c4->{user}{id}",
                 { status => 'disabled' }, $admin);
$t0 = time();
is($res->{status}, 200, 'sess-9.2: sysadmin disables the account: 200');

revoked_everywhere('sess-9.3', $bearer, $offset, $t0);

($res, $b) = refresh_app($c4->{refresh_token});
is($res->{status}, 401, 'sess-9.4: the refresh secret is refused');
is(end_reason(session_of($c4->{access_token})), 'account_disabled',
   'sess-9.5: the session row ended with reason account_disabled');

# --- HTTPS ----------------------------------------------------------------

my $tls = $ENV{DGJ_TLS_URL};
ok($tls && $tls =~ m{^https://}, 'sess-10.1: the stack has an HTTPS URL');

($res, $b) = citizen_signin($tls);
is($res->{status}, 200, 'sess-10.2: a browser login over HTTPS: 200')
    or diag($res->{content});
for my $name (qw(dgj_at dgj_rt dgj_csrf)) {
    like(set_cookie($res, $name), qr/;\s*Secure(;|$)/i,
         "sess-10.3: $name is Secure over HTTPS");
}

my $tjar = cookies_of($res);
($res, $me) = call($tls, 'GET', '/api/v1/auth/me', undef,
                   with_cookies($tjar));
is($res->{status}, 200, 'sess-10.4: GET /auth/me over HTTPS with the cookie');
is($me->{roles}, 'citizen', 'sess-10.5: ... a citizen');

done_testing();
