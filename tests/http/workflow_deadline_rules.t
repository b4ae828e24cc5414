# The system admin's deadline rules API: the seeded rules listed with their
# categories and status, new versions added (today at the earliest) and
# never changing an older one, every bad body refused with a clear code and
# nothing stored, every other role refused.  The versions added here give
# the same deadlines as the seeded rules, so later suites are unaffected.
# Which version an appeal gets is tested by build/tests/db/test_deadline_db.
use strict;
use warnings;
use utf8;

use FindBin;
use lib "$FindBin::Bin/../lib";

use Test::More;
use POSIX qw(strftime);
use DgjTest qw(spread_sources sql);

spread_sources();
use DgjLogin qw(login_app api clock_offset);
use DgjAuth qw(mint);

binmode(Test::More->builder->$_, ':encoding(UTF-8)')
    for qw(output failure_output todo_output);

my $path = '/api/v1/admin/deadline-rules';

# Beijing dates on the workers' clock
sub beijing_date {
    my ($days) = @_;

    return strftime('%Y-%m-%d',
                    gmtime(time() + clock_offset() + 8 * 3600
                           + $days * 86400));
}

my ($today, $tomorrow, $yesterday) = map { beijing_date($_) } 0, 1, -1;

sub count { return (sql('admin', 'SELECT COUNT(*) FROM deadline_rules'))[0][0] }

my $admin = login_app('demo.sysadmin');
my $admin_id = (sql('admin', "SELECT id FROM users WHERE username = 'demo.sysadmin'"))[0][0];

# --- only the system admin ---------------------------------------------------

my $n0 = count();
my $ok_body = { stage => 'review', appeal_type => 'praise',
                unit => 'working_days', amount => 2,
                effective_from => $tomorrow };

my ($res, $b) = api('GET', $path);
is($res->{status}, 401, 'anonymous: 401');

for my $roles (qw(citizen organisation org_pending intake handler reviewer
                  supervisor project_manager analyst ops secadmin auditor),
               'intake,handler,reviewer,supervisor,project_manager,analyst,ops,secadmin,auditor')
{
    my $t = mint(user => 910000 + length($roles), roles => $roles, level => 2);
    my ($r1) = api('GET', $path, undef, $t);
    my ($r2) = api('POST', $path, $ok_body, $t);
    is("$r1->{status} $r2->{status}", '403 403',
       "role $roles may not list or add deadline rules");
}
is(count(), $n0, 'and none of them stored a rule');

# --- the list -------------------------------------------------------------

($res, $b) = api('GET', $path, undef, $admin);
is($res->{status}, 200, 'the system admin lists the rules');
is($b->{count}, $n0, 'all of them');
is($b->{today}, $today, 'with today\'s Beijing date');

my ($intake) = grep { $_->{stage} eq 'intake' && !defined $_->{priority} }
               @{ $b->{items} };
ok($intake && $intake->{unit} eq 'working_days' && $intake->{amount} == 1
   && $intake->{effective_from} eq '2026-01-01'
   && $intake->{status} eq 'in_force',
   'the seeded intake rule: 1 working day from 2026-01-01, in force');

my ($leaf_id, $leaf_code, $leaf_name, $leaf_days) = @{ (sql('admin',
    "SELECT id, code, name, handling_days FROM categories"
    . " WHERE level = 2 AND handling_days IS NOT NULL ORDER BY id LIMIT 1"))[0] };
my ($cat_rule) = grep { ($_->{category_id} // 0) == $leaf_id } @{ $b->{items} };
ok($cat_rule && $cat_rule->{stage} eq 'handle'
   && $cat_rule->{category_code} eq $leaf_code
   && $cat_rule->{category_name} eq $leaf_name
   && $cat_rule->{amount} == $leaf_days,
   "the handling rule of category $leaf_code names it ($leaf_name, "
   . "$leaf_days working days)");

my @stages = map { $_->{stage} } @{ $b->{items} };
my %rank = (intake => 1, sign => 2, handle => 3, review => 4, rating => 5,
            rehandle => 6, assist => 7);
ok(!grep({ $rank{$stages[$_ - 1]} > $rank{$stages[$_]} } 1 .. $#stages),
   'listed in the order of the stages');

($res, $b) = api('GET', "$path?stage=rating", undef, $admin);
ok($res->{status} == 200 && $b->{count} >= 1
   && !grep({ $_->{stage} ne 'rating' } @{ $b->{items} })
   && grep({ $_->{unit} eq 'calendar_days' && $_->{amount} == 7 }
           @{ $b->{items} }),
   '?stage=rating lists the rating rules only (7 calendar days)');

($res, $b) = api('GET', "$path?stage=lunch", undef, $admin);
is($res->{status}, 400, 'an unknown stage filter: 400');
like($b->{error}{message} // '', qr/stage/, 'naming the stage');

# --- adding versions ---------------------------------------------------------

($res, $b) = api('POST', $path,
                 { %$ok_body, effective_from => $today,
                   note => '表扬类审核 v1' }, $admin);
is($res->{status}, 201, 'a version effective today: 201');
my $v1 = $b->{id};
ok($b->{stage} eq 'review' && $b->{appeal_type} eq 'praise'
   && !defined $b->{category_id} && !defined $b->{priority}
   && $b->{unit} eq 'working_days' && $b->{amount} == 2
   && $b->{effective_from} eq $today && $b->{note} eq '表扬类审核 v1'
   && $b->{created_by} eq 'demo.sysadmin' && $b->{status} eq 'in_force',
   'the reply is the stored rule, in force, created by demo.sysadmin');
is((sql('admin', "SELECT created_by FROM deadline_rules WHERE id = $v1"))[0][0],
   $admin_id, 'created_by is the caller from the token, not the body');

($res, $b) = api('POST', $path,
                 { %$ok_body, effective_from => $today, note => 'v2' },
                 $admin);
is($res->{status}, 201, 'a second version the same day: 201');
my $v2 = $b->{id};

($res, $b) = api('POST', $path,
                 { %$ok_body, effective_from => $tomorrow, note => 'v3' },
                 $admin);
is($res->{status}, 201, 'a version effective tomorrow: 201');
my $v3 = $b->{id};
is($b->{status}, 'scheduled', 'it is scheduled, not yet in force');

($res, $b) = api('POST', $path,
                 { stage => 'handle', category_id => $leaf_id + 0,
                   unit => 'working_days', amount => $leaf_days + 0,
                   effective_from => $tomorrow }, $admin);
ok($res->{status} == 201 && $b->{category_code} eq $leaf_code
   && $b->{category_name} eq $leaf_name && $b->{note} eq '',
   'a category version names its category; the note defaults to ""');
my $v4 = $b->{id};

($res, $b) = api('POST', $path,
                 { stage => 'review', priority => 'urgent', unit => 'hours',
                   amount => 4, effective_from => $tomorrow,
                   appeal_type => undef, category_id => undef }, $admin);
ok($res->{status} == 201 && $b->{priority} eq 'urgent'
   && !defined $b->{appeal_type} && !defined $b->{category_id},
   'null appeal_type and category_id mean any');
my $v5 = $b->{id};

($res, $b) = api('GET', "$path?stage=review", undef, $admin);
my %st = map { $_->{id} => $_->{status} } @{ $b->{items} };
is_deeply([ @st{$v1, $v2, $v3} ], [ 'superseded', 'in_force', 'scheduled' ],
          'v1 is superseded by v2 (same day, added later); v3 waits for '
          . 'tomorrow');
is(count(), $n0 + 5, 'five versions stored');
is((sql('admin', "SELECT COUNT(*) FROM deadline_rules"
               . " WHERE id = $v1 AND note = '表扬类审核 v1'"
               . " AND effective_from = '$today'"))[0][0], 1,
   'v1 itself is unchanged: rules are only added');

# --- bad bodies: 400, a clear code, nothing stored ---------------------------

my $n1 = count();
my ($topic_id) = @{ (sql('admin',
    "SELECT id FROM categories WHERE level = 1 ORDER BY id LIMIT 1"))[0] };

my @bad = (
    [ { effective_from => $yesterday }, 'effective_in_past', qr/past/,
      'a date in the past' ],
    [ { effective_from => '2026-02-30' }, 'invalid_field', qr/effective_from/,
      'a date that does not exist' ],
    [ { effective_from => '2026/09/01' }, 'invalid_field', qr/YYYY-MM-DD/,
      'a date written otherwise' ],
    [ { appeal_type => undef, category_id => 99999999 }, 'unknown_category',
      qr/99999999/, 'an unknown category' ],
    [ { appeal_type => undef, category_id => $topic_id + 0 },
      'category_not_leaf', qr/leaf/, 'a topic (non-leaf) category' ],
    [ { category_id => $leaf_id + 0 }, 'category_and_type', qr/not both/,
      'a category and a type together' ],
    [ { unit => 'weeks' }, 'invalid_field', qr/unit/, 'an unknown unit' ],
    [ { stage => 'lunch' }, 'invalid_field', qr/stage/, 'an unknown stage' ],
    [ { priority => 'high' }, 'invalid_field', qr/priority/,
      'an unknown priority' ],
    [ { appeal_type => 'gossip' }, 'invalid_field', qr/appeal_type/,
      'an unknown appeal type' ],
    [ { amount => 0 }, 'out_of_range', qr/amount/, 'amount 0' ],
    [ { amount => 1000 }, 'out_of_range', qr/amount/, 'amount 1000' ],
    [ { amount => '5' }, 'invalid_field', qr/amount.*integer/,
      'amount as a string' ],
    [ { amount => 2.5 }, 'invalid_field', qr/amount.*integer/,
      'amount as a fraction' ],
    [ { stage => 5 }, 'invalid_field', qr/stage/, 'stage as a number' ],
    [ { appeal_type => undef, category_id => "$leaf_id" }, 'invalid_field',
      qr/category_id.*integer/, 'category_id as a string' ],
    [ { effective_from => 20260901 }, 'invalid_field', qr/effective_from/,
      'effective_from as a number' ],
    [ { note => ['x'] }, 'invalid_field', qr/note/, 'note as an array' ],
    [ { note => 'x' x 201 }, 'invalid_field', qr/200 characters/,
      'a note of 201 characters' ],
    [ { note => "a\nb" }, 'invalid_field', qr/one line/,
      'a note of two lines' ],
    [ { created_by => 1 }, 'invalid_field', qr/created_by/,
      'created_by in the body' ],
);

for my $case (@bad) {
    my ($patch, $code, $re, $what) = @$case;
    my %body = (%$ok_body, %$patch);
    ($res, $b) = api('POST', $path, \%body, $admin);
    is("$res->{status} " . ($b->{error}{code} // ''), "400 $code",
       "$what: 400 $code");
    like($b->{error}{message} // '', $re, "$what: the message says why");
}

my %missing = %$ok_body;
delete $missing{unit};
($res, $b) = api('POST', $path, \%missing, $admin);
ok($res->{status} == 400 && $b->{error}{message} =~ /unit.*required/,
   'a missing unit: 400 naming it');

($res, $b) = api('POST', $path, '{"stage": "review",', $admin);
is("$res->{status} $b->{error}{code}", '400 invalid_json',
   'a body that is not JSON: 400 invalid_json');

is(count(), $n1, 'no bad body stored a rule');

($res) = api('PUT', $path, $ok_body, $admin);
is($res->{status}, 405, 'rules are never replaced: PUT is 405');
($res) = api('DELETE', "$path/$v1", undef, $admin);
is($res->{status}, 404, 'nor deleted: there is no route for one rule');

done_testing();
