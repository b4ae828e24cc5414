# Deadlines as the appeals see them: the intake, sign, handling, review and
# rating clocks each action starts; urgent appeals in hours; a new rule
# version applies only to stages that start on or after its date, and
# never moves a deadline already running; the warning sits at 80 % of the
# working time.  The workers' clock is moved through the test clock file
# and put back at the end.
use strict;
use warnings;
use utf8;

use FindBin;
use lib "$FindBin::Bin/../lib";

use Test::More;
use JSON::PP;
use POSIX qw(strftime);
use DgjTest qw(sql spread_sources);
use DgjLogin qw(api clock_offset set_clock_offset);
use DgjWorkflow qw(submission submit staff_token dept_id appeal_row act
                   walk_to);

binmode(Test::More->builder->$_, ':encoding(UTF-8)')
    for qw(output failure_output todo_output);

spread_sources();

my $offset0 = clock_offset();
END { set_clock_offset($offset0 // 0) }

# Beijing date of the workers' clock, plus days
sub bj_date {
    my ($days) = @_;

    return strftime('%Y-%m-%d', gmtime(time + clock_offset() + 8 * 3600 + 86400 * ($days // 0)));
}

sub working_days_between {
    my ($from, $to) = @_;

    return (sql('admin', "SELECT COUNT(*) FROM (SELECT DATE_ADD('$from', INTERVAL n DAY) AS d"
        . " FROM (SELECT a.i + 10 * b.i AS n FROM (SELECT 0 i UNION SELECT 1 UNION SELECT 2"
        . " UNION SELECT 3 UNION SELECT 4 UNION SELECT 5 UNION SELECT 6 UNION SELECT 7"
        . " UNION SELECT 8 UNION SELECT 9) a, (SELECT 0 i UNION SELECT 1 UNION SELECT 2"
        . " UNION SELECT 3 UNION SELECT 4 UNION SELECT 5) b) k) days"
        . " LEFT JOIN calendar_days c ON c.day = days.d"
        . " WHERE days.d > '$from' AND days.d <= '$to'"
        . " AND (c.kind = 'workday' OR (c.kind IS NULL AND WEEKDAY(days.d) < 5))"))[0][0];
}

my $intake = staff_token('intake');
my $eco = staff_token('handler', 'city.ecology');
my $admin = staff_token('sysadmin');

# --- each action starts its stage's clock ---------------------------------------

my ($res, $b) = submit();
my $no = $b->{tracking_no};
my $row = appeal_row($no);
my $sub_day = substr($row->{due_at}, 0, 10);
like($row->{due_at}, qr/ 23:59:59$/, 'a working-day deadline ends at 23:59:59');
is(working_days_between(bj_date(0), $sub_day), 1,
   "intake: 1 working day after the day of submission ($sub_day)");
ok($row->{warn_at} lt $row->{due_at}, 'the warning comes before the deadline');

act($no, 'dispatch', $intake);
$row = appeal_row($no);
is($row->{stage}, 'sign', 'dispatch starts the sign clock');
is(working_days_between(bj_date(0), substr($row->{due_at}, 0, 10)), 1, 'sign: 1 working day');
is(working_days_between(bj_date(0), substr($row->{handle_due_at}, 0, 10)), 10,
   'handling: the category\'s 10 working days (噪声扰民), from dispatch');

act($no, 'sign', $eco);
my $signed = appeal_row($no);
is($signed->{due_at}, $row->{handle_due_at}, 'signing runs toward the handling deadline');

act($no, 'extension_request', $eco, { days => 3, comment => '需要现场监测' });
act($no, 'extension_approve', $intake);
my $ext = appeal_row($no);
is(working_days_between(substr($signed->{due_at}, 0, 10), substr($ext->{handle_due_at}, 0, 10)), 3,
   'an approved extension adds its working days to the deadline');
is($ext->{due_at}, $ext->{handle_due_at}, 'and the running stage follows');

act($no, 'reply', $eco, { reply => '已监测并处理。', outcome => 'resolved' });
$row = appeal_row($no);
is($row->{stage}, 'review', 'the reply starts the review clock');
is(working_days_between(bj_date(0), substr($row->{due_at}, 0, 10)), 2, 'review: 2 working days');

act($no, 'approve', staff_token('reviewer'));
$row = appeal_row($no);
my ($hours) = sql('admin', "SELECT TIMESTAMPDIFF(HOUR, stage_started_at, due_at) FROM appeals"
                           . " WHERE tracking_no = '$no'");
is($hours->[0], 7 * 24, 'the rating window: 7 calendar days, to the hour');

# --- urgent appeals count hours ----------------------------------------------------

($res, $b) = submit(submission(channel => 'hotline', priority => 'urgent'), $intake);
my $u = $b->{tracking_no};
($hours) = sql('admin', "SELECT TIMESTAMPDIFF(MINUTE, submitted_at, due_at) FROM appeals"
                        . " WHERE tracking_no = '$u'");
is($hours->[0], 120, 'urgent intake: 2 hours');
act($u, 'dispatch', $intake);
($hours) = sql('admin', "SELECT TIMESTAMPDIFF(MINUTE, stage_started_at, due_at),"
                        . " TIMESTAMPDIFF(MINUTE, stage_started_at, handle_due_at),"
                        . " TIMESTAMPDIFF(SECOND, stage_started_at, warn_at)"
                        . " FROM appeals WHERE tracking_no = '$u'");
is($hours->[0], 120, 'urgent sign: 2 hours');
is($hours->[1], 24 * 60, 'urgent handling: 24 hours');
is($hours->[2], 96 * 60, 'the warning at 80 % of the 2 hours (96 minutes)');

# --- a new rule version: from its date, never backwards ----------------------------------

my $running = walk_to('submitted');
my $running_due = appeal_row($running)->{due_at};
my $tomorrow = bj_date(1);
($res, $b) = api('POST', '/api/v1/admin/deadline-rules',
                 { stage => 'intake', unit => 'working_days', amount => 3,
                   effective_from => $tomorrow, note => 'test: 3 working days' }, $admin);
is($res->{status}, 201, "a new intake rule effective $tomorrow") or diag $res->{content};

($res, $b) = submit();
is(working_days_between(bj_date(0), substr(appeal_row($b->{tracking_no})->{due_at}, 0, 10)), 1,
   'a submission today still gets 1 working day');

set_clock_offset($offset0 + 86400);
($res, $b) = submit();
my $later = appeal_row($b->{tracking_no});
is(working_days_between(bj_date(0), substr($later->{due_at}, 0, 10)), 3,
   'a submission on that date gets 3 working days');
is(appeal_row($running)->{due_at}, $running_due, 'the appeal already running keeps its deadline');

# the default again from the day after, so that later suites see the seed
($res) = api('POST', '/api/v1/admin/deadline-rules',
             { stage => 'intake', unit => 'working_days', amount => 1,
               effective_from => bj_date(1), note => 'test: back to 1 working day' }, $admin);
is($res->{status}, 201, 'a later version restores 1 working day');
set_clock_offset($offset0 + 86400 * 2);
($res, $b) = submit();
is(working_days_between(bj_date(0), substr(appeal_row($b->{tracking_no})->{due_at}, 0, 10)), 1,
   'and the day after, a submission gets 1 working day again');

# --- overdue is visible from the stored times ---------------------------------------------

set_clock_offset($offset0 + 86400 * 30);
my ($late) = sql('admin', "SELECT COUNT(*) FROM appeals WHERE tracking_no = '$running'"
                          . " AND due_at < '" . bj_date(0) . " 00:00:00'");
is($late->[0], 1, 'a month later the untouched appeal is past its deadline (红牌)');
set_clock_offset($offset0);

done_testing();
