# What the public reads: the status of an appeal by tracking number and
# query code (one 404 for a wrong code, an unknown or a malformed number),
# its public timeline, the reply once approved, the rating by code; a
# citizen's own appeals; the published appeals (公示) with search and
# paging.  Every public answer is scanned for the submitter's phone, ID
# number and name, put in the personal fields and in the text as well;
# hostile text comes back as the same JSON text.
use strict;
use warnings;
use utf8;

use FindBin;
use lib "$FindBin::Bin/../lib";

use Test::More;
use JSON::PP;
use Encode qw(decode encode);
use DgjTest qw(sql spread_sources wait_until);
use DgjLogin qw(api clock_offset set_clock_offset);
use DgjWorkflow qw(staff_token dept_id act walk_to walk_to_code
                   citizen_token appeal_row);

binmode Test::More->builder->$_, ':encoding(UTF-8)'
    for qw(output failure_output todo_output);

# tracking is limited per client address: each request its own
spread_sources();

my $NAME = '欧阳娜娜';
my $PHONE = '13912345678';
my $ID = id_number('44190019880521123');
my $CAT = '0302';                       # 大气污染与异味, topic 03
my $DISTRICT = '441900104';

my $intake = staff_token('intake');
my $handler = staff_token('handler', 'city.ecology');
my $reviewer = staff_token('reviewer');

# every public answer, for the personal data scan at the end
my @public;


sub id_number {
    my ($first17) = @_;

    my @w = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2);
    my $sum = 0;
    $sum += substr($first17, $_, 1) * $w[$_] for 0 .. 16;

    return $first17 . substr('10X98765432', $sum % 11, 1);
}

# api() for the public routes: the answer is kept for the scan
sub pub {
    my ($res, $b) = api(@_);

    push @public, [ "$_[0] $_[1]", decode('UTF-8', $res->{content}) ];

    return ($res, $b);
}

sub track {
    my ($no, $code) = @_;

    return pub('POST', '/api/v1/appeals/track',
               { tracking_no => $no, query_code => $code });
}

sub rate {
    my (%b) = @_;

    return pub('POST', '/api/v1/appeals/track/rate', \%b);
}

sub ok_act {
    my ($no, $action, $token, $body) = @_;

    my ($res) = act($no, $action, $token, $body);
    is($res->{status}, 200, "setup: $action") or diag $res->{content};
}

# the personal data in the personal fields and in the text as well
sub pii_fields {
    my (%o) = @_;

    return { category_code => $CAT, district_code => $DISTRICT,
             name => $NAME, phone => $PHONE, id_number => $ID,
             title => "${NAME}投诉 $PHONE 异味",
             content => "我是$NAME, 电话 $PHONE, 身份证 $ID, 住石碣镇政府路"
                        . ' 1 号。工厂每晚排放刺鼻气味。',
             %o };
}


# --- track ---------------------------------------------------------------

my ($cit) = citizen_token();
my ($no, $code) = walk_to_code('submitted', category_code => $CAT,
                               fields => pii_fields(), citizen => $cit);
like($code, qr/^[2-9A-Z]{6}$/, 'setup: a query code');

my ($res, $b) = track($no, $code);
is($res->{status}, 200, 'track-1.1: the right code shows the appeal');
is($b->{state}, 'submitted', 'track-1.2: its state');
is($b->{state_title}, '待受理', 'track-1.3: with its Chinese title');
is($b->{category_name}, '大气污染与异味', 'track-1.4: the category');
is($b->{district_code}, $DISTRICT, 'track-1.5: the district');
like($b->{submitted_at}, qr/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/,
     'track-1.6: when it was submitted');
ok($b->{due_at}, 'track-1.7: and by when intake must act');
is($b->{title}, '欧阳**投诉 139****5678 异味',
   'track-1.8: the title with the name and phone masked');
ok(!exists $b->{content} && !exists $b->{address},
   'track-1.9: no content, no address');
is($res->{headers}{'cache-control'}, 'no-store', 'track-1.10: never cached');

my ($res_lc, $b_lc) = track($no, lc $code);
is($res_lc->{status}, 200, 'track-1.11: the code typed in lower case works');

my $wrong = $code =~ /^2/ ? "3" . substr($code, 1) : "2" . substr($code, 1);
my $unknown = substr($no, 0, 10) . '999999';
my %answers = (
    'wrong code' => [ track($no, $wrong) ],
    'unknown number' => [ track($unknown, $code) ],
    'malformed number' => [ track('DG123', $code) ],
    'code too long' => [ track($no, $code . 'X') ],
);
for my $case (sort keys %answers) {
    my ($r2, $b2) = @{ $answers{$case} };
    is($r2->{status}, 404, "track-2.1: $case: 404");
    is_deeply($b2->{error}, { code => 'appeal_not_found',
                              message => 'no appeal matches this tracking'
                                         . ' number and query code' },
              "track-2.2: $case: the one answer, word for word");
    is_deeply([ sort keys %$b2 ], [ qw(error request_id) ],
              "track-2.3: $case: the same shape");
}

($res, $b) = pub('POST', '/api/v1/appeals/track', { tracking_no => $no });
is($res->{status}, 400, 'track-2.4: a missing code is a bad request');
($res, $b) = pub('POST', '/api/v1/appeals/track',
                 { tracking_no => $no, query_code => $code, name => 'x' });
is($res->{status}, 400, 'track-2.5: so is an unknown field');


# --- the timeline and the reply ------------------------------------------

ok_act($no, 'accept', $intake);
ok_act($no, 'dispatch', $intake,
       { department_id => dept_id('city.ecology') });
ok_act($no, 'sign', $handler);
ok_act($no, 'note', $handler, { comment => "内部: 已联系$NAME $PHONE" });
ok_act($no, 'reply', $handler,
       { reply => "已责令企业整改, 经回访${NAME}女士确认。", outcome => 'resolved' });

($res, $b) = track($no, $code);
is($b->{state}, 'replied', 'reply-1.1: replied');
is($b->{reply}, undef, 'reply-1.2: the reply is not shown before review');

ok_act($no, 'approve', $reviewer);

($res, $b) = track($no, $code);
is($b->{state_title}, '待评价', 'reply-2.1: awaiting the rating');
is($b->{reply}, '已责令企业整改, 经回访欧阳**女士确认。',
   'reply-2.2: the approved reply, the name in it masked');
is($b->{outcome}, 'resolved', 'reply-2.3: with its outcome');
ok($b->{rating_open}, 'reply-2.4: a rating is awaited');
is_deeply([ map { $_->{action} } @{ $b->{timeline} } ],
          [ qw(submit accept dispatch sign approve) ],
          'reply-2.5: the timeline holds public steps only (no note, no draft reply)');
is_deeply([ map { $_->{title} } @{ $b->{timeline} } ],
          [ qw(提交诉求 受理 派单 签收 审核通过) ],
          'reply-2.6: titled in Chinese');
my ($disp) = grep { $_->{action} eq 'dispatch' } @{ $b->{timeline} };
is($disp->{target_department_name}, '市生态环境局',
   'reply-2.7: department names are shown');
ok(!grep({ my $e = $_; grep { /actor|user|role|visibility/ } keys %$e }
         @{ $b->{timeline} }),
   'reply-2.8: no staff ids, names or roles');


# --- rating by code --------------------------------------------------------

($res, $b) = rate(tracking_no => $no, query_code => $wrong, rating => 1,
                  resolved => JSON::PP::true);
is($res->{status}, 404, 'rate-1.1: a wrong code cannot rate');
is($b->{error}{code}, 'appeal_not_found', 'rate-1.2: the same 404 as track');
is(appeal_row($no)->{state}, 'awaiting_feedback', 'rate-1.3: nothing stored');

($res, $b) = rate(tracking_no => $no, query_code => $code, rating => 1,
                  resolved => JSON::PP::true, version => 1);
is($res->{status}, 400, 'rate-1.4: an unknown field is refused');
($res, $b) = rate(tracking_no => $no, query_code => $code, rating => 6,
                  resolved => JSON::PP::true);
is($res->{status}, 400, 'rate-1.5: a rating of 6 is refused');
($res, $b) = rate(tracking_no => $no, query_code => $code, rating => 2);
is($res->{status}, 400, 'rate-1.6: "resolved" is asked apart and required');
is(appeal_row($no)->{state}, 'awaiting_feedback', 'rate-1.7: still nothing stored');

($res, $b) = rate(tracking_no => $no, query_code => lc $code, rating => 2,
                  resolved => JSON::PP::true,
                  comment => "处理及时, 有事请打 $PHONE");
is($res->{status}, 200, 'rate-2.1: the right code rates') or diag $res->{content};
is($b->{state}, 'closed', 'rate-2.2: 满意 closes the appeal');

($res, $b) = track($no, $code);
is($b->{rating}, 2, 'rate-2.3: track shows the rating');
is($b->{rating_title}, '满意', 'rate-2.4: in words');
ok($b->{resolved}, 'rate-2.5: and that it was resolved');
ok(!$b->{rating_open}, 'rate-2.6: no rating awaited any more');
is($b->{rating_comment}, '处理及时, 有事请打 139****5678',
   'rate-2.7: the comment, the phone in it masked');

($res, $b) = rate(tracking_no => $no, query_code => $code, rating => 1,
                  resolved => JSON::PP::true);
is($res->{status}, 409, 'rate-2.8: no second rating');

my ($no5, $code5) = walk_to_code('awaiting_feedback', category_code => $CAT,
                                 fields => pii_fields(), citizen => $cit);
($res, $b) = rate(tracking_no => $no5, query_code => $code5, rating => 5,
                  resolved => JSON::PP::false);
is($b->{state}, 'dissatisfied', 'rate-3.1: 非常不满意 opens the review');


# --- disclosures (公示) ---------------------------------------------------

ok_act($no, 'publish', $reviewer,
       { publish => JSON::PP::true,
         public_title => "${NAME}反映工厂异味 $PHONE",
         public_content => "市民$NAME (电话 $PHONE, 身份证 $ID) 反映工厂每晚"
                           . '排放刺鼻气味, 现已整改。' });

my $no2 = walk_to('awaiting_feedback', category_code => $CAT,
                  fields => pii_fields());
ok_act($no2, 'publish', $reviewer,
       { publish => JSON::PP::true, public_title => '工厂夜间排放异味',
         public_content => '市民反映工厂夜间排放异味, 已责令整改。' });
my $no3 = walk_to('awaiting_feedback', category_code => $CAT,
                  fields => pii_fields());

sub disclosures {
    my ($query) = @_;

    my (@rows, @pages, $cursor);
    for (1 .. 1000) {
        my $q = $query . (defined $cursor ? "&cursor=$cursor" : '');
        my ($r2, $b2) = pub('GET', "/api/v1/disclosures?$q");
        die "disclosures $q: $r2->{status} $r2->{content}\n"
            unless $r2->{status} == 200;
        push @pages, $b2;
        push @rows, @{ $b2->{items} };
        $cursor = $b2->{next};
        last unless defined $cursor;
    }

    return (\@rows, \@pages);
}

sub has {
    my ($rows, $n) = @_;

    return scalar grep { $_->{tracking_no} eq $n } @$rows;
}

my ($rows) = disclosures("category=$CAT&limit=100");
my ($d1) = grep { $_->{tracking_no} eq $no } @$rows;
ok($d1, 'pub-1.1: a published appeal is listed');
ok(has($rows, $no2) && !has($rows, $no3),
   'pub-1.2: an unpublished one is not');
is($d1->{public_title}, '欧阳**反映工厂异味 139****5678',
   'pub-1.3: the public title masked');
is($d1->{rating_title}, '满意', 'pub-1.4: with the rating');
ok(!grep({ exists $d1->{$_} } qw(name phone address content title)),
   'pub-1.5: and nothing personal');
ok(has((disclosures('category=03'))[0], $no),
   'pub-1.6: a topic code includes its leaves');
ok(!has((disclosures('category=0301'))[0], $no),
   'pub-1.7: another leaf does not');
ok(has((disclosures("district=$DISTRICT&category=$CAT"))[0], $no),
   'pub-1.8: by district');
ok(!has((disclosures("district=441900101&category=$CAT"))[0], $no),
   'pub-1.9: another district does not');
my ($today) = $d1->{published_at} =~ /^(\S+)/;
ok(has((disclosures("from=$today&to=$today&category=$CAT"))[0], $no),
   'pub-1.10: published today');
ok(!has((disclosures("to=2026-01-01&category=$CAT"))[0], $no),
   'pub-1.11: not before');

ok(has((disclosures('q=' . uri('刺鼻气味')))[0], $no),
   'pub-2.1: a word of the content finds it');
ok(has((disclosures('q=' . uri('异味')))[0], $no2),
   'pub-2.2: a word of the title finds it');
ok(!has((disclosures('q=' . uri($NAME)))[0], $no),
   'pub-2.3: the submitter\'s name finds nothing: the search sees the masked text');
my ($pct) = disclosures("category=$CAT&q=%25");
ok(has($rows, $no2) && !has($pct, $no2),
   'pub-2.4: "%" is a character, not a wildcard');
($res, $b) = pub('GET', '/api/v1/disclosures?q=' . uri('长' x 51));
is($res->{status}, 400, 'pub-2.5: a search longer than 50 characters is refused');

my ($paged, $pages) = disclosures("category=$CAT&limit=1");
cmp_ok(scalar @$pages, '>=', 2, 'pub-3.1: limit=1 pages');
my @order = map { $_->{tracking_no} } @$paged;
my %u = map { $_ => 1 } @order;
is(scalar keys %u, scalar @order, 'pub-3.2: no appeal twice');
is_deeply(\@order, [ map { $_->{tracking_no} } @$rows ],
          'pub-3.3: no gap: the same list as one page')
    or diag explain [ map { "$_->{published_at} $_->{tracking_no}" } @$paged ],
                    [ map { "$_->{published_at} $_->{tracking_no}" } @$rows ];
my @when = map { $_->{published_at} } @$paged;
is_deeply(\@when, [ reverse sort @when ], 'pub-3.4: newest first');

($res, $b) = pub('GET', "/api/v1/disclosures/$no");
is($res->{status}, 200, 'pub-4.1: the published appeal opens');
is($b->{public_content}, '市民欧阳** (电话 139****5678, 身份证 441900'
                         . '********' . substr($ID, -4)
                         . ') 反映工厂每晚排放刺鼻气味, 现已整改。',
   'pub-4.2: the content with name, phone and ID masked');
is($b->{reply}, '已责令企业整改, 经回访欧阳**女士确认。', 'pub-4.3: the reply');
is($b->{rating}, 2, 'pub-4.4: the rating');
is($b->{lead_department_name}, '市生态环境局', 'pub-4.5: who handled it');
ok(!grep({ exists $b->{$_} } qw(name phone id_number address title content
                                 rating_comment submitter)),
   'pub-4.6: no personal field, no original text');

($res, $b) = pub('GET', "/api/v1/disclosures/$no3");
is($res->{status}, 404, 'pub-4.7: an unpublished appeal is 404');
($res, $b) = pub('GET', '/api/v1/disclosures/nonsense');
is($res->{status}, 404, 'pub-4.8: so is a malformed number');


# --- mine ------------------------------------------------------------------

($res, $b) = pub('GET', '/api/v1/appeals/mine');
is($res->{status}, 401, 'mine-1.1: signing in first');
($res, $b) = pub('GET', '/api/v1/appeals/mine', undef, $intake);
is($res->{status}, 403, 'mine-1.2: staff have no "mine"');

my $no4 = walk_to('submitted', category_code => $CAT,
                  fields => pii_fields(), citizen => $cit);
($res, $b) = pub('GET', '/api/v1/appeals/mine', undef, $cit);
is($res->{status}, 200, 'mine-2.1: a citizen lists their appeals');
is_deeply([ map { $_->{tracking_no} } @{ $b->{items} } ], [ $no4, $no5, $no ],
          'mine-2.2: their own, newest first');
is($b->{items}[1]{state_title}, '不满意甄别中', 'mine-2.3: with the state');
is($b->{items}[0]{title}, '欧阳**投诉 139****5678 异味',
   'mine-2.4: the title masked');

my @mine;
my $cursor;
my $n_pages = 0;
do {
    my ($r2, $b2) = pub('GET', '/api/v1/appeals/mine?limit=2'
                       . (defined $cursor ? "&cursor=$cursor" : ''),
                       undef, $cit);
    push @mine, map { $_->{tracking_no} } @{ $b2->{items} };
    $cursor = $b2->{next};
    $n_pages++;
} while (defined $cursor && $n_pages < 10);
is($n_pages, 2, 'mine-3.1: limit=2 gives two pages');
is_deeply(\@mine, [ $no4, $no5, $no ], 'mine-3.2: the same list, no gap');

($res, $b) = pub('GET', '/api/v1/appeals/mine', undef,
                 (citizen_token())[0]);
is_deeply($b->{items}, [], 'mine-3.3: another citizen sees none of them');

{
    # the track limit (10 a minute, no exemption) is not mine's
    local $DgjTest::SPREAD = 0;
    my @st = map { (pub('GET', '/api/v1/appeals/mine', undef, $cit))[0]{status} }
             1 .. 15;
    is_deeply(\@st, [ (200) x 15 ],
              'mine-4.1: 15 calls in a row from one address: the general API budget');
}


# --- hostile text stays text ---------------------------------------------

my $xss = '<script>alert("x")</script>\' OR 1=1 --';
my $sqli = "'; DROP TABLE appeals; -- <img src=x onerror=alert(1)> \" \\ %_";
my ($nx, $cx) = walk_to_code('awaiting_feedback', category_code => $CAT,
                             fields => { title => $xss,
                                         content => "$sqli 夜间施工噪声扰民。" });
($res, $b) = track($nx, $cx);
is($b->{title}, $xss, 'hostile-1.1: the title comes back as the same text');
like($res->{headers}{'content-type'}, qr{^application/json},
     'hostile-1.2: as JSON');
like($res->{content}, qr/"<script>alert\(\\"x\\"\)<\/script>/,
     'hostile-1.3: JSON-escaped, not HTML-mangled');
($res, $b) = api('GET', "/api/v1/appeals/$nx", undef, $intake);
is($b->{content}, "$sqli 夜间施工噪声扰民。", 'hostile-1.4: the content too');
ok_act($nx, 'publish', $reviewer,
       { publish => JSON::PP::true, public_title => $xss,
         public_content => "$sqli 已整改。" });
($res, $b) = pub('GET', "/api/v1/disclosures/$nx");
is($b->{public_title}, $xss, 'hostile-1.5: published as the same text');
is($b->{public_content}, "$sqli 已整改。", 'hostile-1.6: content too');
my ($count) = sql('admin', 'SELECT COUNT(*) FROM appeals');
cmp_ok($count->[0], '>', 0, 'hostile-1.7: and the appeals table is still there');


# --- the audit log names what was read, wrong codes included ----------------

my %audited;
for my $case ([ [ track($no, $wrong) ], 'appeal.track', $no ],
              [ [ track($no, $code) ], 'appeal.track', $no ],
              [ [ pub('GET', "/api/v1/disclosures/$no") ], 'disclosure.view',
                $no ],
              [ [ pub('GET', '/api/v1/appeals/mine', undef, $cit) ],
                'appeal.mine', undef ]) {
    my ($r2, $action, $object) = @$case;
    $audited{ $r2->[0]{headers}{'x-request-id'} } = [ $action, $object ];
    ok(!exists $r2->[0]{headers}{'x-dgj-action'},
       "audit-1.1: $action: the client never sees the action header");
}

sub audit_records {
    my %rec;

    for my $f (glob("$ENV{DGJ_VAR}/log/audit/audit.log*")) {
        next if $f =~ /\.lock$/;
        open(my $fh, '<', $f) or next;
        while (my $l = <$fh>) {
            next unless $l =~ /"rid":"([0-9a-f]+)"/ && $audited{$1};
            $rec{$1} = JSON::PP->new->decode($l);
        }
    }

    return \%rec;
}

my $rec;
wait_until(10, sub { $rec = audit_records(); keys %$rec == keys %audited });
for my $rid (sort keys %audited) {
    my ($action, $object) = @{ $audited{$rid} };
    is_deeply([ @{ $rec->{$rid} // {} }{qw(action object)} ], [ $action, $object ],
              "audit-1.2: $action is recorded with its object");
}


# --- no personal data in any public answer -----------------------------------

# Department names come from each worker's cache, checked against the
# tables every 10 s (dgj_workflow_names.h): a rename shows in that time.
{
    my ($dept) = sql('admin', "SELECT name FROM departments"
                              . " WHERE code = 'city.ecology'");
    my $offset = clock_offset();
    sql('admin', encode('UTF-8', "UPDATE departments"
                                 . " SET name = '市生态环境局（新）'"
                                 . " WHERE code = 'city.ecology'"));
    set_clock_offset($offset + 11);
    my (undef, $t) = track($no, $code);
    is($t->{lead_department_name}, '市生态环境局（新）',
       'pub-7.1: a renamed department shows in the status within 10 s');
    my @named = grep { ($_->{department_name} // '') eq '市生态环境局（新）' }
                @{ $t->{timeline} };
    ok(@named > 0, 'pub-7.2: ... and in the timeline');
    sql('admin', encode('UTF-8', "UPDATE departments"
                                 . " SET name = '$dept->[0]'"
                                 . " WHERE code = 'city.ecology'"));
    set_clock_offset($offset + 22);
    (undef, $t) = track($no, $code);
    is($t->{lead_department_name}, $dept->[0], 'pub-7.3: and back');
    set_clock_offset($offset);
}

cmp_ok(scalar @public, '>', 40, 'pii-1.1: the public answers collected');
my @leaks;
for my $p (@public) {
    my ($what, $text) = @$p;

    # a random hex request id can hold a run of 11 or 18 digits
    $text =~ s/"request_id":"[0-9a-f]*"//g;

    push @leaks, "$what: phone" if $text =~ /(?<!\d)1[3-9]\d{9}(?!\d)/;
    push @leaks, "$what: ID number" if $text =~ /(?<!\d)\d{17}[\dXx](?!\d)/;
    push @leaks, "$what: name" if index($text, $NAME) >= 0;
}
is_deeply(\@leaks, [], 'pii-1.2: no full phone, ID number or name in any of'
                       . ' track, rate, disclosures or mine');

done_testing();


sub uri {
    my ($s) = @_;

    utf8::encode($s);
    $s =~ s/([^A-Za-z0-9._~-])/sprintf('%%%02X', ord $1)/ge;

    return $s;
}
