# The system admin's and the security admin's pages and the admin APIs
# they added (calendar days and years, the dispatch catalogue, the
# limiter's state): each page and write refused to every other role with
# nothing changed; hostile names shown escaped; the separation of duties
# refused; holidays, swapped working days and a catalogue change stored
# and seen by the deadline arithmetic.  Everything changed is put back.
use strict;
use warnings;
use utf8;

use FindBin;
use lib "$FindBin::Bin/../lib";

use Test::More;
use Encode qw(decode);
use JSON::PP;
use DgjTest qw(spread_sources sql http base_url);

spread_sources();
use DgjLogin qw(login_app api);
use DgjWorkflow qw(staff_token dept_id);

binmode(Test::More->builder->$_, ':encoding(UTF-8)')
    for qw(output failure_output todo_output);

my $HOSTILE = '<script>alert("a")</script>';

sub page {
    my ($path, $token) = @_;

    my $res = http()->get(base_url() . $path,
                          { headers => $token
                                ? { Authorization => "Bearer $token" }
                                : {} });
    $res->{text} = decode('UTF-8', $res->{content} // '');

    return $res;
}

my @admin_pages = map { "/console/admin$_" }
    '', qw(/users /departments /categories /rules /calendar);

# --- refusals ---------------------------------------------------------------

is(page('/console/admin')->{status}, 302,
   'adm-1.1: signed out: to the sign-in page');
like(page('/console/security')->{headers}{location} // '', qr{/api/v1/auth/resume\?next=%2Fconsole%2Fsecurity$},
     'adm-1.2: the security page too');

for my $roles (qw(citizen intake handler reviewer supervisor analyst
                  secadmin auditor ops))
{
    my $t = staff_token($roles);
    my @st = map { page($_, $t)->{status} } @admin_pages;
    is("@st", join(' ', ('403') x @admin_pages),
       "adm-1.3: $roles: every admin page refused");
}

for my $roles (qw(intake supervisor sysadmin auditor)) {
    my $t = staff_token($roles);
    is(page('/console/security', $t)->{status}, 403,
       "adm-1.4: $roles: the security page refused");
    my ($r) = api('GET', '/api/v1/security/limits', undef, $t);
    is($r->{status}, 403, "adm-1.5: $roles: the limiter state refused");
}

sub day_row {
    my ($day) = @_;

    my @r = sql('admin', "SELECT kind, name FROM calendar_days"
                         . " WHERE day = '$day'");

    return @r ? "$r[0][0] $r[0][1]" : 'none';
}

sub category_dept {
    return (sql('admin', "SELECT default_department_id FROM categories"
                         . " WHERE code = '0301'"))[0][0];
}

my $cat_id = (sql('admin', "SELECT id FROM categories WHERE code = '0301'"))[0][0];
my $cat_dept0 = category_dept();
my $day = '2027-03-10';          # a Wednesday, an ordinary working day
my $day0 = day_row($day);

for my $roles (qw(intake supervisor secadmin auditor analyst)) {
    my $t = staff_token($roles);
    my @st = (
        (api('PUT', "/api/v1/admin/calendar/days/$day",
             { kind => 'holiday', name => '测试' }, $t))[0]{status},
        (api('DELETE', '/api/v1/admin/calendar/days/2026-01-01', undef,
             $t))[0]{status},
        (api('PATCH', '/api/v1/admin/calendar/years/2027',
             { provisional => JSON::PP::false }, $t))[0]{status},
        (api('PATCH', "/api/v1/admin/categories/$cat_id",
             { default_department_id => 2 }, $t))[0]{status},
    );
    is("@st", '403 403 403 403', "adm-1.6: $roles: the admin writes refused");
}
is(day_row($day), $day0, 'adm-1.7: the day unchanged');
is(day_row('2026-01-01'), 'holiday 元旦', 'adm-1.8: New Year kept');
is(category_dept(), $cat_dept0, 'adm-1.9: the catalogue unchanged');
is((sql('admin', 'SELECT provisional FROM calendar_years WHERE year = 2027'))[0][0],
   1, 'adm-1.10: 2027 still provisional');

# --- the pages, with hostile names -----------------------------------------

my $admin = login_app('demo.sysadmin');
my $sys = staff_token('sysadmin');

for my $path (@admin_pages) {
    my $p = page($path, $sys);
    is($p->{status}, 200, "adm-2.1: $path for the system admin");
    like($p->{text}, qr{href="/console/admin/calendar"}, "adm-2.2: $path: sub-navigation");
}

my ($res, $b) = api('POST', '/api/v1/admin/departments',
                    { code => "test.adm.$$", name => "部$$" . $HOSTILE,
                      kind => 'other' }, $admin);
is($res->{status}, 201, 'adm-2.3: a department named with a payload');

my $user = "adm.x$$";
($res, $b) = api('POST', '/api/v1/admin/users',
                 { username => $user, display_name => "用户$HOSTILE",
                   department_id => dept_id("test.adm.$$"),
                   roles => ['handler'] }, $admin);
is($res->{status}, 201, 'adm-2.4: a user named with a payload')
    or diag($res->{content});
ok(length($b->{initial_password} // '') >= 12
   && ($b->{totp_secret} // '') =~ /^[A-Z2-7]+=*$/,
   'adm-2.5: the initial password and TOTP secret in the reply (shown once)');
my $uid = $b->{id} // $b->{user}{id};

for my $path ('/console/admin/departments', "/console/admin/users?q=$user") {
    my $p = page($path, $sys);
    unlike($p->{text}, qr/<script>alert/, "adm-2.6: $path: no live script");
    like($p->{text}, qr/&lt;script&gt;alert\(&quot;a&quot;\)/,
         "adm-2.7: $path: the payload escaped");
}

my $up = page("/console/admin/users?q=$user", $sys);
like($up->{text}, qr/data-user="\Q$user\E"/, 'adm-2.8: the search finds the user');
unlike($up->{text}, qr/\Q$b->{initial_password}\E/,
       'adm-2.9: the password is nowhere in the list') if $b->{initial_password};

# separation of duties (三权分立): refused, shown as the API says
($res, $b) = api('PUT', "/api/v1/admin/users/$uid/roles",
                 { roles => ['sysadmin', 'auditor'] }, $admin);
is($res->{status}, 403, 'adm-3.1: sysadmin and auditor on one account: 403');
is($b->{error}{code}, 'duty_conflict', 'adm-3.2: duty_conflict');
is((sql('admin', "SELECT GROUP_CONCAT(r.name) FROM user_roles ur JOIN roles r"
                 . " ON r.id = ur.role_id WHERE ur.user_id = $uid"))[0][0],
   'handler', 'adm-3.3: the roles unchanged');
my $js = http()->get(base_url() . '/static/js/console-admin.js')->{content};
like(decode('UTF-8', $js), qr/duty_conflict: "三权分立/,
     'adm-3.4: the page explains duty_conflict in Chinese');

# --- the calendar -----------------------------------------------------------

($res) = api('PUT', "/api/v1/admin/calendar/days/$day",
             { kind => 'workday', name => '调休' }, $sys);
is($res->{status}, 400, 'adm-4.1: a Wednesday cannot be a swapped workday');
($res, $b) = api('PUT', "/api/v1/admin/calendar/days/$day",
                 { kind => 'holiday' }, $sys);
is($b->{error}{code}, 'name_required', 'adm-4.2: a holiday needs a name');
($res) = api('PUT', '/api/v1/admin/calendar/days/2027-02-30',
             { kind => 'holiday', name => 'x' }, $sys);
is($res->{status}, 404, 'adm-4.3: an impossible date');
($res) = api('PUT', "/api/v1/admin/calendar/days/$day",
             { kind => 'holiday', name => 'x', when => 1 }, $sys);
is($res->{status}, 400, 'adm-4.4: an unknown field');
is(day_row($day), $day0, 'adm-4.5: nothing stored');

($res, $b) = api('POST', '/api/v1/calendar/due',
                 { from => '2027-03-09', working_days => 1 });
is($b->{due}, '2027-03-10', 'adm-4.6: before: Mar 10 is a working day');

($res, $b) = api('PUT', "/api/v1/admin/calendar/days/$day",
                 { kind => 'holiday', name => "测试假日$HOSTILE" }, $sys);
is($res->{status}, 200, 'adm-4.7: a holiday added') or diag($res->{content});
is(day_row($day), "holiday 测试假日$HOSTILE", 'adm-4.8: stored');

($res, $b) = api('POST', '/api/v1/calendar/due',
                 { from => '2027-03-09', working_days => 1 });
is($b->{due}, '2027-03-11', 'adm-4.9: after: the deadline skips it');

my $cp = page('/console/admin/calendar?year=2027', $sys);
like($cp->{text}, qr/data-day="$day"/, 'adm-4.10: on the calendar page');
unlike($cp->{text}, qr/<script>alert/, 'adm-4.11: its name escaped');

($res) = api('PUT', '/api/v1/admin/calendar/days/2027-03-13',
             { kind => 'workday', name => '调休' }, $sys);
is($res->{status}, 200, 'adm-4.12: a Saturday made a working day');

($res) = api('DELETE', "/api/v1/admin/calendar/days/$day", undef, $sys);
is($res->{status}, 204, 'adm-4.13: the holiday removed');
($res) = api('DELETE', '/api/v1/admin/calendar/days/2027-03-13', undef, $sys);
is($res->{status}, 204, 'adm-4.14: the swapped day removed');
($res) = api('DELETE', "/api/v1/admin/calendar/days/$day", undef, $sys);
is($res->{status}, 404, 'adm-4.15: an ordinary day cannot be removed');
is(day_row($day), 'none', 'adm-4.16: back to an ordinary day');

($res, $b) = api('PATCH', '/api/v1/admin/calendar/years/2027',
                 { provisional => JSON::PP::true, source => '测试' }, $sys);
is($res->{status}, 200, 'adm-4.17: a year\'s provisional mark set');
is($b->{provisional}, 1, 'adm-4.18: still provisional');

# --- the dispatch catalogue -------------------------------------------------

my $other = dept_id('city.housing') || 2;
($res, $b) = api('PATCH', "/api/v1/admin/categories/$cat_id",
                 { default_department_id => $other }, $sys);
is($res->{status}, 200, 'adm-5.1: the default department changed')
    or diag($res->{content});
is(category_dept(), $other, 'adm-5.2: stored');
my $topic = (sql('admin', "SELECT id FROM categories WHERE code = '03'"))[0][0];
($res, $b) = api('PATCH', "/api/v1/admin/categories/$topic",
                 { default_department_id => $other }, $sys);
is($b->{error}{code}, 'category_not_leaf', 'adm-5.3: not for a topic');
($res, $b) = api('PATCH', "/api/v1/admin/categories/$cat_id",
                 { default_department_id => 999999 }, $sys);
is($b->{error}{code}, 'unknown_department', 'adm-5.4: an unknown department');
($res) = api('PATCH', "/api/v1/admin/categories/$cat_id",
             { default_department_id => 0 + $cat_dept0 }, $sys);
is(category_dept(), $cat_dept0, 'adm-5.5: put back');

# --- the security page --------------------------------------------------------

my $sec = staff_token('secadmin');
($res, $b) = api('GET', '/api/v1/security/limits', undef, $sec);
is($res->{status}, 200, 'adm-6.1: the limiter state for the security admin');
ok((grep { $_->{name} eq 'dgj_limit_requests_total' } @{ $b->{samples} }),
   'adm-6.2: with the per-rule counters');
my $sp = page('/console/security', $sec);
is($sp->{status}, 200, 'adm-6.3: the security page');
like($sp->{text}, qr/data-testid="limit-rules"/, 'adm-6.4: the limiter table');
like($sp->{text}, qr/name="lockout_threshold" value="\d+"/,
     'adm-6.5: the policy form');

done_testing();
