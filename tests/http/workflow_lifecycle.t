# The appeal's closed loop through the API: submit, accept, dispatch with
# an assisting unit, sign, assist reply, extension, reply, review, rate;
# each step's state, stage, deadline and event row; the return and
# re-dispatch, direct answer, merge, reject, dissatisfaction review and
# re-handling once; urge and supervise.
use strict;
use warnings;
use utf8;

use FindBin;
use lib "$FindBin::Bin/../lib";

use Test::More;
use JSON::PP;
use DgjTest qw(sql spread_sources);

# many submissions: not from one address (the per-address submit limit)
spread_sources();
use DgjLogin qw(api);
use DgjWorkflow qw(submission submit staff_token dept_id appeal_row act
                   act_raw version_of events_of walk_to citizen_token);

binmode(Test::More->builder->$_, ':encoding(UTF-8)')
    for qw(output failure_output todo_output);

my $intake = staff_token('intake');
my $reviewer = staff_token('reviewer');
my $supervisor = staff_token('supervisor');
my $eco = staff_token('handler', 'city.ecology');
my $water = staff_token('handler', 'city.water');
my $housing = staff_token('handler', 'city.housing');

sub ok_act {
    my ($no, $action, $token, $body, $want_state, $name) = @_;

    my ($res, $b) = act($no, $action, $token, $body);
    is($res->{status}, 200, "$name (200)") or diag $res->{content};
    is($b->{state}, $want_state, "$name: state $want_state")
        if defined $want_state;

    return $b;
}

sub last_event {
    my ($no) = @_;

    my @e = events_of($no);

    return $e[-1];
}

# --- the full loop --------------------------------------------------------

my ($res, $b) = submit();
is($res->{status}, 201, 'a portal submission is created (201)') or diag $res->{content};
like($b->{tracking_no}, qr/^DG\d{8}\d{6}$/, 'it gets a tracking number DG+date+6-digit sequence');
like($b->{query_code}, qr/^[2-9A-HJKMNP-Z]{6}$/, 'and a 6-character query code');
is($b->{state}, 'submitted', 'state submitted');
is($b->{stage}, 'intake', 'the intake clock runs');
ok($b->{due_at}, 'with an intake deadline');
is($b->{version}, 1, 'version 1');
my $no = $b->{tracking_no};
my ($mac) = sql('admin', "SELECT HEX(query_code_mac) FROM appeals WHERE tracking_no = '$no'");
isnt($mac->[0], unpack('H*', $b->{query_code}), 'the query code is not stored as such');
is_deeply([ events_of($no) ], [ [ 'submit', undef, 'submitted', 'public', 'anonymous' ] ],
          'one public submit event by an anonymous submitter');

ok_act($no, 'accept', $intake, {}, 'accepted', 'intake accepts');

my $b2 = ok_act($no, 'dispatch', $intake,
                { department_id => dept_id('city.ecology'),
                  assist_department_ids => [ dept_id('city.water') ] },
                'dispatched', 'intake dispatches to ecology with water assisting');
is($b2->{stage}, 'sign', 'the sign clock runs');
ok($b2->{handle_due_at}, 'and the handling deadline is set');
is(appeal_row($no)->{lead_department_id}, dept_id('city.ecology'), 'ecology leads');
my ($task) = sql('admin', "SELECT t.id, t.state FROM appeal_tasks t JOIN appeals a ON a.id = t.appeal_id"
                          . " WHERE a.tracking_no = '$no'");
is($task->[1], 'open', 'an open assist task for water');

($res) = act($no, 'sign', $water);
is($res->{status}, 403, 'the assisting department cannot sign (403)');
like($res->{content}, qr/not_your_department/, 'code not_your_department');

my $b3 = ok_act($no, 'sign', $eco, {}, 'handling', 'the lead handler signs');
is($b3->{due_at}, $b2->{handle_due_at}, 'the handling deadline set at dispatch stands');

($res) = act($no, 'reply', $eco, { reply => '已处理完毕。', outcome => 'resolved' });
is($res->{status}, 409, 'no reply while an assist task is open (409)');
like($res->{content}, qr/assist_pending/, 'code assist_pending');

($res) = act($no, 'assist_reply', $housing, { task_id => 0 + $task->[0], reply => '无' });
is($res->{status}, 404, 'a department with nothing to do with it cannot see it (404)');

ok_act($no, 'assist_reply', $water, { task_id => 0 + $task->[0],
                                      reply => '经核查, 周边无排水问题。' },
       'handling', 'water answers its sub-task');
is((sql('admin', "SELECT state FROM appeal_tasks WHERE id = $task->[0]"))[0][0], 'replied',
   'the task is replied');

ok_act($no, 'extension_request', $eco, { days => 5, comment => '需协调夜间执法' },
       'handling', 'the lead asks for 5 more working days');
($res) = act($no, 'extension_request', $eco, { days => 3, comment => 'again' });
is($res->{status}, 409, 'a second request while one waits is refused (409)');
my $before = appeal_row($no)->{handle_due_at};
ok_act($no, 'extension_approve', $intake, {}, 'handling', 'intake approves the extension');
my $after = appeal_row($no);
ok($after->{handle_due_at} gt $before, "the due date moved ($before -> $after->{handle_due_at})");
is($after->{extensions_count}, 1, 'one extension counted');
ok(!defined $after->{pending_extension_days}, 'nothing pending any more');

my $b4 = ok_act($no, 'reply', $eco, { reply => '已责令工地夜间停工。', outcome => 'resolved' },
                'replied', 'the lead replies');
is($b4->{stage}, 'review', 'the review clock runs');

ok_act($no, 'send_back', $reviewer, { comment => '请补充处罚决定书编号' }, 'handling',
       'the reviewer sends it back');
ok_act($no, 'reply', $eco, { reply => '已责令停工, 处罚决定书 东环罚[2026]1号。',
                             outcome => 'resolved' }, 'replied', 'the lead replies again');
my $b5 = ok_act($no, 'approve', $reviewer, {}, 'awaiting_feedback', 'the reviewer approves');
is($b5->{stage}, 'rating', 'the 7-day rating window runs');

($res) = act($no, 'rate', $intake, { rating => 1, resolved => JSON::PP::true });
is($res->{status}, 403, 'staff cannot rate for the citizen (403)');

my @ev = events_of($no);
is_deeply([ map { $_->[0] } @ev ],
          [ qw(submit accept dispatch sign assist_reply extension_request
               extension_approve reply send_back reply approve) ],
          'one event per successful action, in order; refused ones leave none');
my %vis = map { $_->[0] => $_->[3] } @ev;
is($vis{assist_reply}, 'internal', 'assist replies are internal');
is($vis{send_back}, 'internal', 'a send-back is internal');
is($vis{approve}, 'public', 'the approved reply is public');
is($ev[3][4], 'handler', 'each event records the role it was taken as');

# --- rating by the signed-in citizen who submitted ------------------------

my ($citizen, $cid) = citizen_token();
my ($other) = citizen_token();
($res, $b) = submit(submission(), $citizen);
is($res->{status}, 201, 'a signed-in citizen submits');
my $mine = $b->{tracking_no};
is((sql('admin', "SELECT submitter_user_id FROM appeals WHERE tracking_no = '$mine'"))[0][0],
   $cid, 'the appeal belongs to the account');

for my $s ([ accept => $intake, {} ],
           [ dispatch => $intake, {} ],
           [ sign => $eco, {} ],
           [ reply => $eco, { reply => '已回复。', outcome => 'answered' } ],
           [ approve => $reviewer, {} ]) {
    my ($r) = act($mine, $s->[0], $s->[1], $s->[2]);
    is($r->{status}, 200, "$s->[0] (200)") or diag $r->{content};
}
is(appeal_row($mine)->{lead_department_id}, dept_id('city.ecology'),
   'dispatch without a department uses the category\'s default (噪声 -> ecology)');

($res) = act($mine, 'rate', $other, { rating => 1, resolved => JSON::PP::true });
is($res->{status}, 404, 'another citizen cannot rate it (404)');
($res) = act($mine, 'rate', $citizen, { rating => 6, resolved => JSON::PP::true });
is($res->{status}, 400, 'rating 6 is refused (400)');
($res) = act($mine, 'rate', $citizen, { rating => 2 });
is($res->{status}, 400, '"resolved" is required apart from the rating (400)');
is(appeal_row($mine)->{state}, 'awaiting_feedback', 'and nothing changed');

ok_act($mine, 'rate', $citizen, { rating => 4, resolved => JSON::PP::false,
                                  comment => '施工仍在继续' },
       'dissatisfied', 'a poor rating opens the dissatisfaction review');
my $row = appeal_row($mine);
is($row->{rating}, 4, 'rating stored');
is($row->{resolved}, 0, '"was it resolved?" stored apart: no');

($res) = act($mine, 'uphold', $reviewer, {});
is($res->{status}, 400, 'upholding needs a finding (400)');
ok_act($mine, 'uphold', $supervisor, { comment => '经核实, 承办单位未落实' },
       'reopened', 'the review upholds it: re-handling');
is(appeal_row($mine)->{reopen_count}, 1, 'one re-handling counted');
my $b6 = ok_act($mine, 'sign', $eco, {}, 'handling', 'the lead signs the re-handling');
is($b6->{stage}, 'rehandle', 'on the 15-working-day re-handling clock');
ok_act($mine, 'reply', $eco, { reply => '已再次督促并复查。', outcome => 'resolved' },
       'replied', 'replies again');
ok_act($mine, 'approve', $reviewer, {}, 'awaiting_feedback', 'approved again');
ok_act($mine, 'rate', $citizen, { rating => 5, resolved => JSON::PP::false },
       'dissatisfied', 'rated poorly again');
($res) = act($mine, 'uphold', $reviewer, { comment => '再次重办' });
is($res->{status}, 409, 'a second re-handling is refused (409)');
like($res->{content}, qr/reopen_limit/, 'code reopen_limit');
ok_act($mine, 'dismiss', $reviewer, { comment => '已依法处理, 诉求人期望超出职权' },
       'closed', 'the review dismisses it: closed');
ok(appeal_row($mine)->{closed_at}, 'closed_at set');
($res) = act($mine, 'note', $intake, { comment => '归档备注' });
is($res->{status}, 200, 'a closed appeal still takes internal notes');
($res) = act($mine, 'rate', $citizen, { rating => 1, resolved => JSON::PP::true });
is($res->{status}, 409, 'but no new rating (409)');

# --- return and re-dispatch -----------------------------------------------

my $r1 = walk_to('handling', dept => 'city.housing');
($res) = act($r1, 'return', $housing, { reason_code => 'not_our_duty' });
is($res->{status}, 400, 'a return without the legal basis is refused (400)');
($res) = act($r1, 'return', $housing, { reason_code => 'because', legal_basis => '三定方案第三条' });
is($res->{status}, 400, 'an unknown reason code is refused (400)');
ok_act($r1, 'return', $housing, { reason_code => 'not_our_duty',
                                  legal_basis => '《东莞市生态环境局职能配置》第三条' },
       'returned', 'the department returns it with reason and basis');
is(last_event($r1)->[3], 'internal', 'the return is internal');
ok_act($r1, 'redispatch', $intake, { department_id => dept_id('city.ecology') },
       'dispatched', 'intake re-dispatches to ecology');
is(appeal_row($r1)->{lead_department_id}, dept_id('city.ecology'), 'ecology now leads');
($res) = act($r1, 'sign', $housing);
is($res->{status}, 404, 'housing no longer sees it (404)');
ok_act($r1, 'return', $eco, { reason_code => 'wrong_district', legal_basis => '属地管理原则' },
       'returned', 'ecology returns it too');
ok_act($r1, 'refuse_return', $intake, { comment => '属市级事权, 请办理' },
       'dispatched', 'intake refuses the return: back to ecology');
ok_act($r1, 'sign', $eco, {}, 'handling', 'ecology signs');
($res) = act($r1, 'return', $eco, { reason_code => 'not_our_duty', legal_basis => '同上' });
is($res->{status}, 409, 'a third return is refused (409)');
like($res->{content}, qr/return_limit/, 'code return_limit');
is(appeal_row($r1)->{returns_count}, 2, 'two returns counted');

# --- direct answer, merge, reject -----------------------------------------

($res, $b) = submit(submission(category_code => '0403', title => '社保卡补办流程咨询',
                               content => '请问社保卡丢失后如何补办, 需要什么材料?'));
my $d1 = $b->{tracking_no};
($res) = act($d1, 'direct_answer', $intake, { reply => '' });
is($res->{status}, 400, 'a direct answer needs an answer (400)');
ok_act($d1, 'direct_answer', $intake,
       { reply => '携带身份证到任一社保网点即可补办。', outcome => 'resolved' },
       'awaiting_feedback', 'intake answers a consultation at once (直办)');
is(appeal_row($d1)->{outcome}, 'resolved', 'outcome recorded');

($res, $b) = submit();
my $m1 = $b->{tracking_no};
($res) = act($m1, 'merge', $intake, { into => $m1 });
is($res->{status}, 400, 'an appeal cannot be merged into itself');
($res) = act($m1, 'merge', $intake, { into => 'DG20260101999999' });
is($res->{status}, 400, 'nor into an unknown one');
ok_act($m1, 'merge', $intake, { into => $no }, 'merged', 'intake merges a duplicate');
$row = appeal_row($m1);
is($row->{outcome}, 'duplicate', 'outcome duplicate');
ok($row->{merged_into_id}, 'it points at the appeal it joined');
($res) = act($m1, 'accept', $intake);
is($res->{status}, 409, 'a merged appeal takes no more actions (409)');

($res, $b) = submit();
my $j1 = $b->{tracking_no};
($res) = act($j1, 'reject', $intake, { reason_code => 'out_of_scope' });
is($res->{status}, 400, 'a rejection must tell the citizen why (400)');
ok_act($j1, 'reject', $intake, { reason_code => 'legal_procedure',
                                 comment => '属民事纠纷, 请通过诉讼途径解决' },
       'rejected', 'intake rejects with a reason');
is(appeal_row($j1)->{outcome}, 'not_accepted', 'outcome not_accepted');

# --- supervision ----------------------------------------------------------

my $s1 = walk_to('dispatched');
($res) = act($s1, 'urge', $intake, { comment => '尽快' });
is($res->{status}, 403, 'intake cannot urge (403)');
ok_act($s1, 'urge', $supervisor, { comment => '请于今日内签收' }, 'dispatched', 'the supervisor urges');
ok_act($s1, 'supervise', $supervisor, { comment => '列入督办' }, 'dispatched', 'and supervises');
$row = appeal_row($s1);
is($row->{urge_count}, 1, 'urge counted');
is($row->{supervised}, 1, 'supervised flag set');

# --- publication ------------------------------------------------------------

my $p1 = walk_to('awaiting_feedback');
($res) = act($p1, 'publish', $eco, { publish => JSON::PP::true });
is($res->{status}, 403, 'a handler cannot publish (403)');
ok_act($p1, 'publish', $reviewer,
       { publish => JSON::PP::true, public_title => '某工地夜间施工噪声',
         public_content => '市民反映工地夜间施工, 联系电话 13800138000。' },
       'awaiting_feedback', 'the reviewer publishes a redacted version');
$row = appeal_row($p1);
is($row->{publish_state}, 'published', 'published');
unlike($row->{public_content}, qr/13800138000/, 'a phone number left in the text is masked anyway');
like($row->{public_content}, qr/138\*\*\*\*8000/, 'as 138****8000');

my $p2 = walk_to('awaiting_feedback', fields => { publish_consent => JSON::PP::false });
($res) = act($p2, 'publish', $reviewer,
             { publish => JSON::PP::true, public_title => '标题标题', public_content => '内容内容内容内容内容' });
is($res->{status}, 409, 'no publication without the citizen\'s consent (409)');
like($res->{content}, qr/no_consent/, 'code no_consent');

done_testing();
