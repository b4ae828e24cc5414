# The supervision board and the department assessment (考核), API and
# pages: figures checked against appeals walked here for a department made
# here (its name an HTML payload, which every page shows escaped); each
# figure's appeals; urge from the board; every role that must not read or
# act refused with nothing changed.  The workers' clock is moved 15 days
# ahead for the late and overdue cases and put back at the end.
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
use DgjLogin qw(login_app api clock_offset set_clock_offset);
use DgjWorkflow qw(submission submit staff_token dept_id appeal_row act
                   walk_to_code);

binmode(Test::More->builder->$_, ':encoding(UTF-8)')
    for qw(output failure_output todo_output);

my $offset0 = clock_offset();
END { set_clock_offset($offset0) if defined $offset0 }

my $HOSTILE = '<script>alert("b")</script><img src=x>';

sub page {
    my ($path, $token) = @_;

    my $res = http()->get(base_url() . $path,
                          { headers => $token
                                ? { Authorization => "Bearer $token" }
                                : {} });
    $res->{text} = decode('UTF-8', $res->{content} // '');

    return $res;
}

# --- a department of our own, named with a payload -------------------------

my $admin = login_app('demo.sysadmin');
my $code = "test.board.$$";
my ($res, $b) = api('POST', '/api/v1/admin/departments',
                    { code => $code, name => "考$$" . $HOSTILE,
                      kind => 'other' }, $admin);
is($res->{status}, 201, 'board-1.1: a department named with a payload')
    or diag($res->{content});
my $dept = dept_id($code);

my $intake = staff_token('intake');
my $handler = staff_token('handler', $code);
my $reviewer = staff_token('reviewer');
my $supervisor = staff_token('supervisor');
my $analyst = staff_token('analyst');

sub dispatched {
    my ($r, $s) = submit(submission(title => "考核诉求 $$ <b>粗体</b>"));
    die "submit: $r->{status} $r->{content}\n" unless $r->{status} == 201;
    my $no = $s->{tracking_no};
    ($r) = act($no, 'dispatch', $intake, { department_id => $dept });
    die "dispatch: $r->{status} $r->{content}\n" unless $r->{status} == 200;

    return ($no, $s->{query_code});
}

# A1: signed and replied at once, approved, rated 2 (满意)
my ($a1, $code1) = walk_to_code('awaiting_feedback', dept => $code);
($res) = api('POST', '/api/v1/appeals/track/rate',
             { tracking_no => $a1, query_code => $code1, rating => 2,
               resolved => JSON::PP::true() });
is($res->{status}, 200, 'board-1.2: A1 walked to a rating of 2')
    or diag($res->{content});

# A2: returned by the department
my ($a2) = dispatched();
($res) = act($a2, 'return', $handler,
             { reason_code => 'not_our_duty',
               legal_basis => '《东莞市部门职责目录》第 3 条',
               comment => '不属本单位职责' });
is($res->{status}, 200, 'board-1.3: A2 returned') or diag($res->{content});

# A3: signed 15 days late; A4: never signed
my ($a3) = dispatched();
my ($a4) = dispatched();

set_clock_offset($offset0 + 15 * 86400);

($res, $b) = act($a3, 'sign', $handler);
is($res->{status}, 200, 'board-1.4: A3 signed 15 days late')
    or diag($res->{content});
my $a3_due = $b->{due_at};

# --- refusals first: nothing above may change ------------------------------

($res) = api('GET', '/api/v1/board');
is($res->{status}, 401, 'board-2.1: anonymous: 401');

for my $roles (qw(citizen intake handler reviewer project_manager sysadmin
                  secadmin auditor ops))
{
    my $t = staff_token($roles, $roles eq 'handler' ? $code : undef);
    my @st = map { (api('GET', $_, undef, $t))[0]{status} }
        '/api/v1/board', '/api/v1/board/assessment',
        "/api/v1/board/appeals?department=$dept&metric=signed";
    my $p = page('/console/board', $t);
    is(join(' ', @st, $p->{status}), '403 403 403 403',
       "board-2.2: $roles: the API and the page refuse");
    unlike($p->{text}, qr/\Q$a4\E/, "board-2.3: $roles: no appeal shown");
}

my $urges = appeal_row($a4)->{urge_count};
($res, $b) = act($a4, 'urge', $analyst, { comment => '请尽快签收' });
is($res->{status}, 403, 'board-2.4: an analyst reads the board, may not urge');
is(appeal_row($a4)->{urge_count}, $urges, 'board-2.5: nothing urged');

# --- the board --------------------------------------------------------------

($res, $b) = api('GET', '/api/v1/board', undef, $supervisor);
is($res->{status}, 200, 'board-3.1: supervisor reads the board');
my ($d) = grep { ($_->{department_id} // 0) == $dept } @{ $b->{departments} };
ok($d, 'board-3.2: our department is on the board');
# A4 unsigned, A2 back with intake, A3 in hand if its handling is over
is($d->{red}, 2 + ($a3_due lt $b->{now} ? 1 : 0),
   'board-3.3: red: A4 unsigned, A2 returned (intake late), A3 if late')
    if $d;
my ($item) = grep { $_->{tracking_no} eq $a4 } @{ $b->{items} };
is($item && $item->{warn}, 'red', 'board-3.4: A4 listed red');

my $p = page('/console/board', $supervisor);
is($p->{status}, 200, 'board-3.5: the board page');
like($p->{text}, qr/\Q$a4\E/, 'board-3.6: A4 on the page');
unlike($p->{text}, qr/<script>alert\("b"\)|<img src=x|<b>粗体/,
       'board-3.7: no payload in the page as markup');
like($p->{text}, qr/&lt;script&gt;alert\(&quot;b&quot;\)&lt;\/script&gt;/,
     'board-3.8: the department name shown escaped');
like($p->{text}, qr{data-api="/api/v1/appeals/\Q$a4\E/actions/urge"},
     'board-3.9: the urge form for A4');

my $pa = page('/console/board', $analyst);
is($pa->{status}, 200, 'board-3.10: an analyst reads the board page');
unlike($pa->{text}, qr{/actions/urge}, 'board-3.11: without action forms');

# urge from the board, as its form sends it
my $v = appeal_row($a4)->{version};
($res, $b) = api('POST', "/api/v1/appeals/$a4/actions/urge",
                 { version => 0 + $v, comment => '请今日内签收' }, $supervisor);
is($res->{status}, 200, 'board-3.12: supervisor urges A4')
    or diag($res->{content});
is(appeal_row($a4)->{urge_count}, $urges + 1, 'board-3.13: urged once');

# --- the assessment ---------------------------------------------------------

($res, $b) = api('GET', '/api/v1/board/assessment', undef, $supervisor);
is($res->{status}, 200, 'board-4.1: the assessment of the last 30 days');
my ($f) = grep { $_->{department_id} == $dept } @{ $b->{departments} };
ok($f, 'board-4.2: our department assessed') or BAIL_OUT('no figures');

my $now = $b->{now};
my $h_over = ($a3_due lt $now) ? 1 : 0;

is_deeply([ @{$f}{qw(signed signed_on_time sign_overdue)} ], [ 2, 1, 1 ],
          'board-4.3: signed 2 (A1 on time, A3 late), A4 unsigned overdue');
is($f->{sign_rate}, 0.3333, 'board-4.4: on-time sign rate 1 / 3');
is_deeply([ @{$f}{qw(replied replied_on_time handling_overdue)} ],
          [ 1, 1, $h_over ], 'board-4.5: one reply, on time; A3 in hand');
is($f->{completion_rate}, $h_over ? 0.5 : 1,
   'board-4.6: on-time completion rate');
is_deeply([ @{$f}{qw(returned received)} ], [ 1, 4 ],
          'board-4.7: 1 return of 4 dispatches received');
is($f->{return_rate}, 0.25, 'board-4.8: return rate 1 / 4');
is_deeply([ @{$f}{qw(rated satisfied)} ], [ 1, 1 ],
          'board-4.9: one rating, satisfied');
is($f->{satisfaction}, 1, 'board-4.10: satisfaction 100 %');
ok(defined $f->{handling_days} && $f->{handling_days} < 1,
   'board-4.11: A1 handled within the day (working days)');

# each figure's appeals
my %want = (signed_late => [$a3], sign_overdue => [$a4], returned => [$a2],
            rated => [$a1], replied => [$a1], dissatisfied => []);
for my $m (sort keys %want) {
    ($res, $b) = api('GET', "/api/v1/board/appeals?department=$dept"
                            . "&metric=$m", undef, $supervisor);
    is_deeply([ map { $_->{tracking_no} } @{ $b->{items} || [] } ],
              $want{$m}, "board-4.12: $m: its appeals");
}

my @rec = map { $_->{tracking_no} } @{ (api('GET',
    "/api/v1/board/appeals?department=$dept&metric=received", undef,
    $supervisor))[1]{items} };
is_deeply([ sort @rec ], [ sort $a1, $a2, $a3, $a4 ],
          'board-4.13: received: the four dispatches');

($res, $b) = api('GET', "/api/v1/board/appeals?department=$dept&metric=x",
                 undef, $supervisor);
is($b->{error}{code}, 'unknown_metric', 'board-4.14: an unknown metric');
($res, $b) = api('GET', '/api/v1/board/assessment?from=2026-02-01'
                        . '&to=2026-01-01', undef, $supervisor);
is($b->{error}{code}, 'invalid_range', 'board-4.15: a reversed period');

# the pages: the table links each figure to its appeals
$p = page('/console/board', $supervisor);
like($p->{text},
     qr{<tr data-dept="$dept">.*?data-fig="sign_rate"><a href="/console/board/appeals\?[^"]*metric=signed_late[^"]*">33\.3%</a>}s,
     'board-5.1: the sign rate 33.3 % links to the late signs');
like($p->{text}, qr{<tr data-dept="$dept">.*?data-fig="return_rate"><a [^>]*>25\.0%</a>}s,
     'board-5.2: the return rate 25.0 %');
my ($href) = $p->{text} =~ m{<tr data-dept="$dept">.*?data-fig="sign_overdue" href="([^"]+)"}s;
$href =~ s/&amp;/&/g if $href;
my $dp = page($href // '/console/board/appeals', $supervisor);
is($dp->{status}, 200, 'board-5.3: a figure\'s page');
like($dp->{text}, qr/\Q$a4\E/, 'board-5.4: lists A4');
unlike($dp->{text}, qr/\Q$a3\E/, 'board-5.5: and not A3');
is(page("/console/board/appeals?department=$dept&metric=nope",
        $supervisor)->{status}, 404, 'board-5.6: an unknown figure: 404');
is(page('/console/board/appeals?department=1&metric=signed',
        staff_token('intake'))->{status}, 403,
   'board-5.7: intake may not read a figure\'s page');

set_clock_offset($offset0);

done_testing();
