# Administration of accounts end to end: which role reaches which route
# class, separation of duties (三权分立), users, departments, organisation
# verification, the security policy and the auditor's record.
use strict;
use warnings;
use utf8;

use FindBin;
use lib "$FindBin::Bin/../lib";

use Test::More;
use Time::HiRes qw(time);
use DgjTest qw(spread_sources sql wait_until);

# many sign-ins: not from one address (DgjTest::spread_sources)
spread_sources();
use DgjLogin qw(staff_login totp_code api sms_code valid_uscc);

my $tag = $$ % 100000;

# --- sign-in: each demo account once, renewed by its refresh token ---------

my %demo = (sysadmin => 'demo.sysadmin', secadmin => 'demo.secadmin',
            auditor => 'demo.auditor', intake => 'demo.intake',
            handler => 'demo.handler', reviewer => 'demo.reviewer',
            supervisor => 'demo.supervisor',
            project_manager => 'demo.pm', analyst => 'demo.analyst',
            ops => 'demo.ops');

my %session;
my @secrets;    # every password and token seen: none may leak

sub remember {
    my ($role, $b) = @_;

    $session{$role}{access} = $b->{access_token};
    $session{$role}{refresh} = $b->{refresh_token}
        if $b->{refresh_token};
    $session{$role}{at} = time();
    $session{$role}{user} = $b->{user} if $b->{user};
    push @secrets, grep { defined } $b->{access_token}, $b->{refresh_token};
}

# tok(ROLE) -> a live Bearer token (staff tokens live 120 s)
sub tok {
    my ($role) = @_;

    my $s = $session{$role};
    return $s->{access} if $s && time() - $s->{at} < 60;

    if ($s && $s->{refresh}) {
        my ($res, $b) = api('POST', '/api/v1/auth/refresh',
                            { refresh_token => $s->{refresh},
                              client => 'app' });
        die "refresh of $role failed: $res->{status} $res->{content}\n"
            unless $res->{status} == 200 && $b->{access_token};
        remember($role, $b);

        return $b->{access_token};
    }

    my ($res, $b) = staff_login($demo{$role});
    die "login of $demo{$role} failed: $res->{status} $res->{content}\n"
        unless $res->{status} == 200 && $b->{access_token};
    remember($role, $b);

    return $b->{access_token};
}

sub code_of {
    my ($b) = @_;

    return ref $b eq 'HASH' && ref $b->{error} ? $b->{error}{code} : '';
}

sub msg_of {
    my ($b) = @_;

    return ref $b eq 'HASH' && ref $b->{error} ? $b->{error}{message} : '';
}

sub one {
    my ($q) = @_;

    my @rows = sql('admin', $q);

    return @rows ? $rows[0][0] : undef;
}

my $water = one("SELECT id FROM departments WHERE code = 'city.water'");
my $housing = one("SELECT id FROM departments WHERE code = 'city.housing'");

# the security policy is restored whatever happens below
my $threshold0 = one("SELECT value FROM security_policy"
                     . " WHERE name = 'lockout_threshold'");

END {
    restore_policy() if defined $threshold0;
}

sub restore_policy {
    my $ok = eval {
        my ($res) = api('PUT', '/api/v1/security/policy',
                        { lockout_threshold => $threshold0 + 0 },
                        tok('secadmin'));
        $res->{status} == 200;
    };
    sql('admin', "UPDATE security_policy SET value = $threshold0"
                 . " WHERE name = 'lockout_threshold'") unless $ok;
}

tok($_) for sort keys %demo;
my $admin_id = $session{sysadmin}{user}{id};
ok($admin_id, 'every demo staff account signs in once');

# a citizen: SMS code to a fresh number
my $phone = sprintf '139%08d', $tag * 100 + int(rand(100));
my ($res, $b) = api('POST', '/api/v1/auth/sms/send', { phone => $phone });
is($res->{status}, 202, 'citizen: SMS code sent');
my $code = sms_code($phone);
($res, $b) = api('POST', '/api/v1/auth/sms/login',
                 { phone => $phone, code => $code, client => 'app' });
is($res->{status}, 200, 'citizen signs in with the SMS code');
my $citizen = $b->{access_token};
push @secrets, grep { defined } $b->{access_token}, $b->{refresh_token};

# --- role x route class ------------------------------------------------------

my %allowed = ('/api/v1/admin/users' => ['sysadmin'],
               '/api/v1/security/policy' => ['secadmin'],
               '/api/v1/audit/auth-events' => ['auditor'],
               '/api/v1/organisations' => ['project_manager', 'sysadmin']);

for my $path (sort keys %allowed) {
    my %ok = map { $_ => 1 } @{ $allowed{$path} };

    for my $role (sort keys %demo) {
        ($res, $b) = api('GET', $path, undef, tok($role));
        my $want = $ok{$role} ? 200 : 403;
        is($res->{status}, $want, "matrix: $role GET $path: $want");
        is(code_of($b), 'forbidden', "matrix: $role: code forbidden")
            if $want == 403;
    }

    ($res, $b) = api('GET', $path, undef, $citizen);
    is($res->{status}, 403, "matrix: citizen GET $path: 403");

    ($res, $b) = api('GET', $path);
    is($res->{status}, 401, "matrix: anonymous GET $path: 401");
    is(code_of($b), 'unauthenticated', 'matrix: code unauthenticated');
}

# refused writes change nothing
my $nobody = "refused.$tag";
($res, $b) = api('POST', '/api/v1/admin/users',
                 { username => $nobody, display_name => '拒绝',
                   department_id => $water + 0, roles => ['handler'] },
                 tok('intake'));
is($res->{status}, 403, 'intake POST /admin/users: 403');
is(one("SELECT COUNT(*) FROM users WHERE username = '$nobody'"), 0,
   'and no account was made');

($res, $b) = api('PUT', '/api/v1/security/policy',
                 { lockout_threshold => 9 }, tok('sysadmin'));
is($res->{status}, 403, 'sysadmin PUT /security/policy: 403');
is(one("SELECT value FROM security_policy WHERE name = 'lockout_threshold'"),
   $threshold0, 'and the policy is unchanged');

($res, $b) = api('POST', '/api/v1/admin/departments',
                 { code => "refused$tag", name => "拒绝$tag", kind => 'city' },
                 $citizen);
is($res->{status}, 403, 'citizen POST /admin/departments: 403');
is(one("SELECT COUNT(*) FROM departments WHERE code = 'refused$tag'"), 0,
   'and no department was made');

# --- users ---------------------------------------------------------------

my $prefix = "adm$tag";
my $a_phone = sprintf '138%08d', $tag * 100 + int(rand(100));
my $a_masked = '138****' . substr($a_phone, -4);
my $c_phone = sprintf '136%08d', $tag * 100 + int(rand(100));

sub create_user {
    my ($name, %extra) = @_;

    return api('POST', '/api/v1/admin/users',
               { username => $name, display_name => "测试$name",
                 department_id => $water + 0, roles => ['handler'],
                 %extra },
               tok('sysadmin'));
}

($res, $b) = create_user("$prefix.a", real_name => '张三',
                         phone => $a_phone);
is($res->{status}, 201, 'users: sysadmin creates a staff account (201)');
my $a_id = $b->{user}{id};
my ($a_pw, $a_secret) = ($b->{initial_password}, $b->{totp_secret});
like($a_pw, qr/^\S{12,}$/, 'users: an initial password is shown');
like($b->{totp_uri}, qr{^otpauth://totp/.*secret=\Q$a_secret\E},
     'users: the TOTP URI is shown');
is($b->{must_change_password}, JSON::PP::true(), 'users: it must change');
push @secrets, $a_pw;

($res, $b) = api('GET', "/api/v1/admin/users/$a_id", undef, tok('sysadmin'));
is($res->{status}, 200, 'users: GET one');
ok(!exists $b->{initial_password} && !exists $b->{totp_secret}
   && $res->{content} !~ /\Q$a_pw\E|\Q$a_secret\E/,
   'users: the password and TOTP secret are shown only once');

($res, $b) = create_user("$prefix.a");
is($res->{status}, 409, 'users: a duplicate username: 409');
is(code_of($b), 'already_exists', 'users: code already_exists');

my @bad = ([{ username => "9$prefix" }, 'username'],
           [{ username => "Bad Name" }, 'username'],
           [{ department_id => 999999 }, 'department_id'],
           [{ roles => ['no_such_role'] }, 'roles'],
           [{ roles => ['citizen'] }, 'roles'],
           [{ roles => ['organisation'] }, 'roles']);
for my $case (@bad) {
    my ($over, $field) = @$case;
    my $name = $over->{username} // "$prefix.bad";
    my %args = %$over;
    delete $args{username};
    ($res, $b) = create_user($name, %args);
    my $what = join ',', map { ref $_ ? "@$_" : $_ } values %$over;
    is($res->{status}, 400, "users: bad $field ($what): 400");
    like(msg_of($b), qr/"\Q$field\E"/, "users: the message names \"$field\"");
}
is(one("SELECT COUNT(*) FROM users WHERE username LIKE '%$prefix.bad%'"
       . " OR username LIKE '9$prefix%'"), 0, 'users: no bad account made');

($res, $b) = create_user("$prefix.b");
my $b_id = $b->{user}{id};
push @secrets, $b->{initial_password};
($res, $b) = create_user("$prefix.c", real_name => '欧阳修文',
                         phone => '+86 ' . $c_phone);
my $c_id = $b->{user}{id};
push @secrets, $b->{initial_password};
ok($b_id && $c_id, 'users: two more accounts');

# paging by id: limit 2, then after next_after
($res, $b) = api('GET', "/api/v1/admin/users?q=$prefix&limit=2", undef,
                 tok('sysadmin'));
is($res->{status}, 200, 'users: list with q and limit');
is_deeply([map { $_->{id} } @{ $b->{users} }], [$a_id, $b_id],
          'users: the first page holds the first two');
is($b->{next_after}, $b_id, 'users: next_after is the last id of the page');
my %row = map { $_->{id} => $_ } @{ $b->{users} };
is($row{$a_id}{phone}, $a_masked, 'users: phone masked in the list');
is($row{$a_id}{real_name}, '张*', 'users: real name masked in the list');
unlike($res->{content}, qr/\Q$a_phone\E|张三/, 'users: no clear text either');

($res, $b) = api('GET', "/api/v1/admin/users?q=$prefix&limit=2"
                        . "&after=$b->{next_after}", undef, tok('sysadmin'));
is_deeply([map { $_->{id} } @{ $b->{users} }], [$c_id],
          'users: the next page holds the rest');
ok(!defined $b->{next_after}, 'users: and no next_after');
is($b->{users}[0]{phone}, '136****' . substr($c_phone, -4),
   'users: a +86 number stored bare, masked');
is($b->{users}[0]{real_name}, '欧阳**', 'users: compound surname kept');

# wildcards in q are characters: only the account whose display name
# holds them matches
($res, $b) = create_user("$prefix.w", display_name => '测试 50%_折扣!');
push @secrets, $b->{initial_password};
for my $w ([ '%25_', '%_' ], [ '_', '_' ], [ '!', '!' ]) {
    my ($r2, $b2) = api('GET', "/api/v1/admin/users?q=$w->[0]&limit=100",
                        undef, tok('sysadmin'));
    is_deeply([ map { $_->{username} } @{ $b2->{users} || [] } ],
              [ "$prefix.w" ],
              "users: q=$w->[1] matches those characters, not a wildcard");
}

($res, $b) = api('GET', '/api/v1/admin/users?kind=organisation&limit=100',
                 undef, tok('sysadmin'));
ok(!grep({ $_->{kind} ne 'organisation' } @{ $b->{users} }),
   'users: kind filter');

($res, $b) = api('PATCH', "/api/v1/admin/users/$b_id",
                 { status => 'disabled' }, tok('sysadmin'));
is($res->{status}, 200, 'users: disable an account');
($res, $b) = api('GET', "/api/v1/admin/users?q=$prefix&status=disabled",
                 undef, tok('sysadmin'));
is_deeply([map { $_->{id} } @{ $b->{users} }], [$b_id],
          'users: status filter finds the disabled one only');

# the new account changes its password, signs in, then is reset
my $a_name = "$prefix.a";
my $a_pw2 = 'Vq7#nR-kP2!xZa';
($res, $b) = api('POST', '/api/v1/auth/password',
                 { username => $a_name, old_password => $a_pw,
                   totp => totp_code($a_secret,
                                     DgjLogin::fresh_step($a_name)),
                   new_password => $a_pw2 });
is($res->{status}, 200, 'users: the initial password is changed');
my $a_step = DgjLogin::fresh_step($a_name);
my $a_code = totp_code($a_secret, $a_step);
($res, $b) = api('POST', '/api/v1/auth/login',
                 { username => $a_name, password => $a_pw2,
                   totp => $a_code, client => 'app' });
is($res->{status}, 200, 'users: the account signs in');
my $a_tok = $b->{access_token};
push @secrets, $a_pw2, $a_tok, $b->{refresh_token};

($res, $b) = api('POST', "/api/v1/admin/users/$a_id/reset", {},
                 tok('sysadmin'));
is($res->{status}, 200, 'users: reset password: 200');
my $a_pw3 = $b->{initial_password};
ok($a_pw3 && $a_pw3 ne $a_pw && $a_pw3 ne $a_pw2,
   'users: reset shows a new initial password');
push @secrets, $a_pw3;
ok(wait_until(1, sub {
       (api('GET', '/api/v1/auth/me', undef, $a_tok))[0]{status} == 401 }),
   'users: the session open before the reset has ended');
is(one("SELECT COUNT(*) FROM sessions WHERE user_id = $a_id"
       . " AND ended_at IS NULL"), 0, 'users: no open session left');
($res, $b) = api('POST', '/api/v1/auth/login',
                 { username => $a_name, password => $a_pw2 });
is($res->{status}, 401, 'users: the old password no longer works');

# a reset without a new TOTP secret keeps the spent codes spent
($res, $b) = api('POST', '/api/v1/auth/login',
                 { username => $a_name, password => $a_pw3,
                   totp => $a_code, client => 'app' });
is($res->{status}, 401,
   'users: the TOTP code spent before the reset is refused after it');

($res, $b) = api('POST', "/api/v1/admin/users/$c_id/reset",
                 { totp => JSON::PP::true() }, tok('sysadmin'));
is($res->{status}, 200, 'users: reset with a new TOTP secret');
my ($c_pw, $c_secret) = ($b->{initial_password}, $b->{totp_secret});
like($b->{totp_uri}, qr{secret=\Q$c_secret\E}, 'users: its URI is shown');
push @secrets, $c_pw;
($res, $b) = staff_login("$prefix.c", $c_pw, $c_secret);
is(code_of($b), 'password_change_required',
   'users: the new secret and password work (and must be changed)');

# --- 三权分立 ------------------------------------------------------------

sub roles_of {
    my ($id) = @_;

    return join ',', map { $_->[0] }
        sql('admin', "SELECT r.name FROM user_roles ur JOIN roles r"
                     . " ON r.id = ur.role_id WHERE ur.user_id = $id"
                     . " ORDER BY r.name");
}

my $c_roles = roles_of($c_id);
for my $pair (['sysadmin', 'auditor'], ['secadmin', 'auditor'],
              ['sysadmin', 'secadmin'])
{
    ($res, $b) = api('PUT', "/api/v1/admin/users/$c_id/roles",
                     { roles => $pair }, tok('sysadmin'));
    is($res->{status}, 403, "duties: @$pair on one account: 403");
    is(code_of($b), 'duty_conflict', 'duties: code duty_conflict');
    is(roles_of($c_id), $c_roles, 'duties: user_roles unchanged');
}

($res, $b) = create_user("$prefix.d", roles => ['secadmin', 'auditor']);
is(code_of($b), 'duty_conflict', 'duties: no new account with two duties');
is(one("SELECT COUNT(*) FROM users WHERE username = '$prefix.d'"), 0,
   'duties: and none was made');

($res, $b) = api('PUT', "/api/v1/admin/users/$admin_id/roles",
                 { roles => ['sysadmin', 'analyst'] }, tok('sysadmin'));
is($res->{status}, 403, 'duties: a sysadmin changing his own roles: 403');
is(code_of($b), 'self_grant_refused', 'duties: code self_grant_refused');
is(roles_of($admin_id), 'sysadmin', 'duties: his roles are unchanged');

($res, $b) = api('PATCH', "/api/v1/admin/users/$admin_id",
                 { status => 'disabled' }, tok('sysadmin'));
is($res->{status}, 403, 'duties: a sysadmin disabling himself: 403');
is(one("SELECT status FROM users WHERE id = $admin_id"), 'active',
   'duties: he stays active');

my @refused = sql('admin', "SELECT user_id, detail FROM auth_events"
                           . " WHERE event = 'role_change_refused'"
                           . " AND user_id IN ($c_id, $admin_id)");
ok((grep { $_->[0] == $admin_id } @refused),
   'duties: role_change_refused recorded for the self-grant');
ok((grep { $_->[0] == $c_id } @refused),
   'duties: role_change_refused recorded for the duty conflict');

($res, $b) = api('PUT', "/api/v1/admin/users/$c_id/roles",
                 { roles => ['auditor', 'analyst'] }, tok('sysadmin'));
is($res->{status}, 200, 'duties: one duty role with others is allowed');
is(roles_of($c_id), 'analyst,auditor', 'duties: the roles changed');

# --- departments -----------------------------------------------------------

($res, $b) = api('GET', '/api/v1/admin/departments', undef, tok('sysadmin'));
is($res->{status}, 200, 'departments: list');
ok((grep { $_->{code} eq 'city.water' } @{ $b->{departments} }),
   'departments: the seeded ones are listed');

my $dcode = "test.d$tag";
($res, $b) = api('POST', '/api/v1/admin/departments',
                 { code => $dcode, name => "测试部门$tag", kind => 'city' },
                 tok('sysadmin'));
is($res->{status}, 201, 'departments: create (201)');
my $d_id = $b->{id};
is($b->{active}, 1, 'departments: active');

($res, $b) = api('POST', '/api/v1/admin/departments',
                 { code => $dcode, name => "另一个$tag", kind => 'city' },
                 tok('sysadmin'));
is($res->{status}, 409, 'departments: duplicate code: 409');
($res, $b) = api('POST', '/api/v1/admin/departments',
                 { code => "$dcode.x", name => "测试部门$tag",
                   kind => 'city' }, tok('sysadmin'));
is($res->{status}, 409, 'departments: duplicate name: 409');
($res, $b) = api('POST', '/api/v1/admin/departments',
                 { code => "$dcode.y", name => "坏类型$tag",
                   kind => 'bureau' }, tok('sysadmin'));
is($res->{status}, 400, 'departments: bad kind: 400');
like(msg_of($b), qr/"kind"/, 'departments: the message names "kind"');

($res, $b) = api('PATCH', "/api/v1/admin/departments/$d_id",
                 { name => "改名部门$tag" }, tok('sysadmin'));
is($res->{status}, 200, 'departments: rename');
is($b->{name}, "改名部门$tag", 'departments: the new name');

($res, $b) = api('PATCH', "/api/v1/admin/departments/$d_id",
                 { active => JSON::PP::false() }, tok('sysadmin'));
is($res->{status}, 200, 'departments: deactivate');
is($b->{active}, 0, 'departments: inactive');

($res, $b) = create_user("$prefix.e", department_id => $d_id + 0);
is($res->{status}, 400, 'departments: no new staff in an inactive one');

# --- organisations ---------------------------------------------------------

my $uscc = valid_uscc(sprintf '%08d', $tag * 1000 + int(rand(1000)));
(my $bad_uscc = $uscc) =~ s/(.)$/$1 eq '0' ? '1' : '0'/e;
my $org_name = "org$tag";
my $org_pw = 'Org-Pass-7x!Qw';
push @secrets, $org_pw;
my %org = (username => $org_name, password => $org_pw,
           name => "测试社会组织$tag", org_kind => 'social',
           contact_name => '李四',
           contact_phone => sprintf('137%08d', $tag * 100 + int(rand(100))));

($res, $b) = api('POST', '/api/v1/auth/register/organisation',
                 { %org, uscc => $bad_uscc });
is($res->{status}, 400, 'orgs: a wrong check character: 400');
is(code_of($b), 'invalid_uscc', 'orgs: code invalid_uscc');

(my $bad_org = $uscc) =~ s/^(.{16})(.)/$1 . ($2 eq '0' ? '1' : '0')/e;
($res, $b) = api('POST', '/api/v1/auth/register/organisation',
                 { %org, uscc => $bad_org });
is(code_of($b), 'invalid_uscc', 'orgs: a wrong organisation code: '
   . 'invalid_uscc');

($res, $b) = api('POST', '/api/v1/auth/register/organisation',
                 { %org, uscc => $uscc });
is($res->{status}, 201, "orgs: register with a valid code ($uscc): 201");
my $org_id = $b->{user}{id};

($res, $b) = staff_login($org_name, $org_pw);
is($res->{status}, 200, 'orgs: the organisation signs in at once');
is($b->{user}{roles}, 'org_pending', 'orgs: as org_pending');
my $org_tok = $b->{access_token};
push @secrets, $org_tok, $b->{refresh_token};

($res, $b) = api('GET', '/api/v1/admin/users', undef, $org_tok);
is($res->{status}, 403, 'orgs: its token is valid (403 on a staff route)');

($res, $b) = api('GET', '/api/v1/organisations', undef,
                 tok('project_manager'));
my ($listed) = grep { $_->{id} == $org_id } @{ $b->{organisations} };
ok($listed, 'orgs: the project manager sees it pending');
is($listed->{phone}, substr($org{contact_phone}, 0, 3) . '****'
                     . substr($org{contact_phone}, -4),
   'orgs: contact phone masked');
is($listed->{real_name}, '李*', 'orgs: contact name masked');

($res, $b) = api('POST', "/api/v1/organisations/$org_id/verify", undef,
                 tok('intake'));
is($res->{status}, 403, 'orgs: intake may not verify');

($res, $b) = api('POST', "/api/v1/organisations/$org_id/verify", undef,
                 tok('project_manager'));
is($res->{status}, 200, 'orgs: the project manager verifies (200)');
my $t0 = time();
ok(wait_until(1, sub {
       my ($r2, $b2) = api('GET', '/api/v1/admin/users', undef, $org_tok);
       $r2->{status} == 401 && code_of($b2) eq 'session_revoked' }),
   'orgs: nginx refuses the old token within 1 s (session_revoked)');
note(sprintf 'revoked after %.3f s', time() - $t0);

($res, $b) = staff_login($org_name, $org_pw);
is($b->{user}{roles}, 'organisation', 'orgs: a new sign-in: organisation');
push @secrets, grep { defined } $b->{access_token}, $b->{refresh_token};

($res, $b) = api('POST', "/api/v1/organisations/$org_id/verify", undef,
                 tok('sysadmin'));
is($res->{status}, 409, 'orgs: verifying twice: 409');

($res, $b) = api('GET', '/api/v1/organisations?status=pending', undef,
                 tok('sysadmin'));
ok(!grep({ $_->{id} == $org_id } @{ $b->{organisations} }),
   'orgs: no longer pending');

# --- security policy -----------------------------------------------------

($res, $b) = api('GET', '/api/v1/security/policy', undef, tok('secadmin'));
is($res->{status}, 200, 'policy: secadmin reads it');
my %pol = map { $_->{name} => $_ } @{ $b->{policy} };
is($pol{lockout_threshold}{value}, $threshold0, 'policy: lockout_threshold');
my $before = $res->{content};

for my $put ({ lockout_threshold => 1 }, { lockout_threshold => 1000 },
             { lockout_minutes => 30, lockout_threshold => 99 })
{
    ($res, $b) = api('PUT', '/api/v1/security/policy', $put,
                     tok('secadmin'));
    is($res->{status}, 400, 'policy: out of range: 400');
    is(code_of($b), 'out_of_range', 'policy: code out_of_range');
    ($res) = api('GET', '/api/v1/security/policy', undef, tok('secadmin'));
    is($res->{content}, $before, 'policy: nothing changed');
}

($res, $b) = api('PUT', '/api/v1/security/policy',
                 { lockout_threshold => 4 }, tok('secadmin'));
is($res->{status}, 200, 'policy: lockout_threshold 4');

($res, $b) = create_user("$prefix.f");
my ($f_name, $f_id, $f_pw, $f_secret) = ("$prefix.f", $b->{user}{id},
                                         $b->{initial_password},
                                         $b->{totp_secret});
push @secrets, $f_pw;
for my $i (1 .. 3) {
    ($res) = api('POST', '/api/v1/auth/login',
                 { username => $f_name, password => "Wrong-pass-$i!x" });
    is($res->{status}, 401, "policy: failure $i: 401");
}
ok(!defined one("SELECT locked_until FROM users WHERE id = $f_id"),
   'policy: not locked after 3 failures');
($res) = api('POST', '/api/v1/auth/login',
             { username => $f_name, password => 'Wrong-pass-4!x' });
is($res->{status}, 401, 'policy: failure 4: 401');
($res, $b) = staff_login($f_name, $f_pw, $f_secret);
is($res->{status}, 429, 'policy: the 4th failure locked the account');
is(code_of($b), 'account_locked', 'policy: code account_locked');

# (late, so that a fresh TOTP step has come without waiting)
($res, $b) = staff_login($a_name, $a_pw3, $a_secret);
is(code_of($b), 'password_change_required',
   'users: the reset password works and must be changed');

# --- auditor -----------------------------------------------------------------

($res, $b) = api('GET', '/api/v1/audit/auth-events?limit=500', undef,
                 tok('auditor'));
is($res->{status}, 200, 'audit: the auditor reads auth-events');
my %seen = map { $_->{event} => 1 } @{ $b->{events} };
for my $ev (qw(login_failed roles_changed policy_changed user_created
               org_verified account_locked password_reset)) {
    ok($seen{$ev}, "audit: a $ev row");
}

my $all = $res->{content};
($res, $b) = api('GET', '/api/v1/audit/auth-events?limit=5', undef,
                 tok('auditor'));
my @p1 = map { $_->{id} } @{ $b->{events} };
is(scalar @p1, 5, 'audit: a page of 5');
is($b->{next_before}, $p1[-1], 'audit: next_before is the last id');
($res, $b) = api('GET', "/api/v1/audit/auth-events?limit=5"
                        . "&before=$b->{next_before}", undef, tok('auditor'));
my @p2 = map { $_->{id} } @{ $b->{events} };
ok(@p2 && $p2[0] < $p1[-1], 'audit: the next page goes on, newest first');
is_deeply([@p1, @p2], [sort { $::b <=> $::a } @p1, @p2],
          'audit: ids descending over both pages');

($res, $b) = api('GET', "/api/v1/audit/auth-events?user_id=$f_id", undef,
                 tok('auditor'));
is_deeply([sort keys %{ { map { $_->{user_id} => 1 } @{ $b->{events} } } }],
          [$f_id], 'audit: user_id filter');

my @leaks = grep { index($all, $_) >= 0 } grep { length } @secrets;
is(scalar @leaks, 0, 'audit: no password or token text in the reply');

# --- no password anywhere ----------------------------------------------------

my $dump = do {
    open(my $fh, '-|', 'mariadb-dump', '--defaults-file=' . $ENV{DGJ_ADMIN_CNF},
         '--skip-comments', '--no-create-info', 'dgj')
        or die "mariadb-dump: $!";
    local $/;
    my $t = <$fh>;
    close $fh;
    $t // '';
};
ok(length $dump > 1000, 'secrets: the database dumped');
my @passwords = ($a_pw, $a_pw2, $a_pw3, $f_pw, $org_pw);
is(scalar(grep { index($dump, $_) >= 0 } @passwords), 0,
   'secrets: no password in any table');

my $logs = '';
for my $f (grep { -f } glob("$ENV{DGJ_VAR}/log/*"),
                       glob("$ENV{DGJ_VAR}/log/*/*")) {
    open(my $fh, '<', $f) or next;
    local $/;
    $logs .= <$fh> // '';
}
ok(length $logs, 'secrets: the logs read');
my @in_log = grep { index($logs, $_) >= 0 } grep { length } @secrets;
is(scalar @in_log, 0, 'secrets: no password or token in var/log');

done_testing();
