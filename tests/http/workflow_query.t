# What staff read: the inbox of each box (intake, handler, reviewer,
# supervisor) with every filter and keyset paging over several pages
# without duplicates or gaps; a department never sees, in its inbox or
# by number, an appeal it neither leads nor assists; the staff detail
# with tasks, attachments, the full timeline and the actions the caller
# may take now; personal data masked for every role (the full contact
# is POST .../reveal, console_reveal.t), absent for anonymous appeals
# except to intake.
use strict;
use warnings;
use utf8;

use FindBin;
use lib "$FindBin::Bin/../lib";

use Test::More;
use JSON::PP;
use POSIX qw(strftime);
use DgjTest qw(sql spread_sources);
use DgjLogin qw(api set_clock_offset);
use DgjAuth qw(mint);
use DgjWorkflow qw(submission submit staff_token dept_id act walk_to
                   version_of);

binmode Test::More->builder->$_, ':encoding(UTF-8)'
    for qw(output failure_output todo_output);

# the submission limit is per client address: each request its own
spread_sources();

# departments no other test dispatches to, so their boxes hold ours only
my ($LEAD, $ASSIST, $OTHER) = ('other.women', 'other.disabled',
                               'other.trade_union');
my $CAT = '1103';                       # 残疾人服务, topic 11
my ($D1, $D2) = ('441900003', '441900101');

my $intake = staff_token('intake');
my $lead = staff_token('handler', $LEAD);
my $assist = staff_token('handler', $ASSIST);
my $other = staff_token('handler', $OTHER);
my $reviewer = staff_token('reviewer');
my $supervisor = staff_token('supervisor');

END { set_clock_offset(0) if $ENV{DGJ_VAR}; }


# a resident ID number with its right check character (GB 11643)
sub id_number {
    my ($first17) = @_;

    my @w = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2);
    my $sum = 0;
    $sum += substr($first17, $_, 1) * $w[$_] for 0 .. 16;

    return $first17 . substr('10X98765432', $sum % 11, 1);
}

my $ID = id_number('44190019880521123');

sub fields {
    my (%o) = @_;

    return { category_code => $CAT, district_code => $D1,
             name => '欧阳娜娜', phone => '13912345678', id_number => $ID,
             %o };
}

sub ok_act {
    my ($no, $action, $token, $body, $what) = @_;

    my ($res) = act($no, $action, $token, $body);
    is($res->{status}, 200, "setup: $what") or diag $res->{content};
}

# every row of a box for these query arguments, following the cursor
sub all_pages {
    my ($token, $query) = @_;

    my (@rows, @pages, $cursor);
    for (1 .. 1000) {
        my $q = $query . (defined $cursor ? "&cursor=$cursor" : '');
        my ($res, $b) = api('GET', "/api/v1/inbox?$q", undef, $token);
        die "inbox $q: $res->{status} $res->{content}\n"
            unless $res->{status} == 200;
        push @pages, $b;
        push @rows, @{ $b->{items} };
        $cursor = $b->{next};
        last unless defined $cursor;
    }

    return (\@rows, \@pages);
}

sub nos {
    return { map { $_->{tracking_no} => $_ } @{ $_[0] } };
}


# --- appeals in every state a box holds --------------------------------

my $a_sub = walk_to('submitted', category_code => $CAT, fields => fields());
my $a_acc = walk_to('accepted', category_code => $CAT,
                    fields => fields(district_code => $D2));
my $a_dis = walk_to('dispatched', category_code => $CAT, dept => $LEAD,
                    fields => fields());
my $a_hnd = walk_to('handling', category_code => $CAT, dept => $LEAD,
                    fields => fields());
ok_act($a_hnd, 'assist_request', $lead,
       { department_ids => [ dept_id($ASSIST) ], comment => '请协助核实' },
       'the lead asks the other department to assist');
my $a_ext = walk_to('handling', category_code => $CAT, dept => $LEAD,
                    fields => fields());
ok_act($a_ext, 'extension_request', $lead,
       { days => 5, comment => '需现场核查' }, 'an extension is requested');
my $a_ret = walk_to('handling', category_code => $CAT, dept => $LEAD,
                    fields => fields());
ok_act($a_ret, 'return', $lead,
       { reason_code => 'not_our_duty', legal_basis => '《职责清单》第三条' },
       'the department returns one');
my $a_rep = walk_to('replied', category_code => $CAT, dept => $LEAD,
                    fields => fields());
my $a_anon = walk_to('dispatched', category_code => $CAT, dept => $LEAD,
                     fields => fields(anonymous => JSON::PP::true));
# three more for intake, close together: deadlines that tie on the second
my @more = map { walk_to('submitted', category_code => $CAT,
                         fields => fields()) } 1 .. 3;
ok_act($a_dis, 'note', $intake, { comment => '内部: 已电话联系' },
       'intake adds an internal note');

my $no_bad = $a_sub;
$no_bad =~ s/\d{6}$/999999/;


# --- who may open which box --------------------------------------------

my ($res, $b) = api('GET', '/api/v1/inbox');
is($res->{status}, 401, 'inbox-1.1: no inbox without signing in');

($res, $b) = api('GET', '/api/v1/inbox', undef,
                 mint(user => 123456, roles => 'citizen', ttl => 600));
is($res->{status}, 403, 'inbox-1.2: a citizen has no inbox');

($res, $b) = api('GET', '/api/v1/inbox?box=intake', undef, $lead);
is($res->{status}, 403, 'inbox-1.3: a handler cannot open the intake box');

($res, $b) = api('GET', '/api/v1/inbox?box=nonsense', undef, $intake);
is($res->{status}, 400, 'inbox-1.4: an unknown box is refused');

($res, $b) = api('GET', '/api/v1/inbox', undef, $lead);
is($b->{box}, 'handler', 'inbox-1.5: without ?box= a handler gets the handler box');


# --- intake --------------------------------------------------------------

my ($rows) = all_pages($intake, "box=intake&category=$CAT&limit=100");
my %in = %{ nos($rows) };
ok($in{$a_sub} && $in{$a_acc} && $in{$a_ret} && $in{$a_ext},
   'inbox-2.1: intake sees submitted, accepted, returned and extension requests');
ok(!$in{$a_dis} && !$in{$a_hnd} && !$in{$a_rep},
   'inbox-2.2: and not dispatched, plain handling or replied appeals');
is($in{$a_ext}{pending_extension_days}, 5,
   'inbox-2.3: the extension request shows its days');
is_deeply([ map { $in{$_}{state} } $a_sub, $a_acc, $a_ret, $a_ext ],
          [ qw(submitted accepted returned handling) ],
          'inbox-2.4: each row has its state');
is($in{$a_sub}{state_title}, '待受理', 'inbox-2.5: and its Chinese title');
is($in{$a_ret}{lead_department_name}, '市妇女联合会',
   'inbox-2.6: a returned appeal names the department that returned it');
is($in{$a_sub}{warn}, 'green', 'inbox-2.7: a fresh appeal is green');
is($in{$a_sub}{version}, version_of($a_sub), 'inbox-2.8: rows carry the version');
is($in{$a_sub}{category_name}, '残疾人服务', 'inbox-2.9: category by name');
is($in{$a_acc}{district_code}, $D2, 'inbox-2.10: and district by code');
ok(!exists $in{$a_sub}{id} && !exists $in{$a_sub}{content},
   'inbox-2.11: no internal id, no content in the list');

my ($res1, $first) = api('GET', "/api/v1/inbox?box=intake&category=$CAT",
                         undef, $intake);
my %seen;
$seen{ $_->{state} }++ for @$rows;
is_deeply({ map { $_ => $first->{counts}{$_} } grep { $_ ne 'total' }
            keys %{ $first->{counts} } }, \%seen,
          'inbox-2.12: the counts per state match the rows');
is($first->{counts}{total}, scalar @$rows, 'inbox-2.13: and their total');


# --- filters -------------------------------------------------------------

($rows) = all_pages($intake, "box=intake&category=$CAT&state=accepted");
ok(@$rows && !grep({ $_->{state} ne 'accepted' } @$rows) && nos($rows)->{$a_acc},
   'filter-1.1: state=accepted gives accepted appeals only');

($res, $b) = api('GET', '/api/v1/inbox?box=intake&state=replied', undef,
                 $intake);
is($b->{error}{code}, 'state_not_in_box',
   'filter-1.2: a state the box never holds is refused');
($res, $b) = api('GET', '/api/v1/inbox?box=intake&state=bogus', undef,
                 $intake);
is($res->{status}, 400, 'filter-1.3: an unknown state is refused');

($rows) = all_pages($intake, 'box=intake&category=11');
ok(nos($rows)->{$a_sub}, 'filter-2.1: a topic code includes its leaves');
($rows) = all_pages($intake, 'box=intake&category=1101');
ok(!nos($rows)->{$a_sub}, 'filter-2.2: another leaf does not');
($res, $b) = api('GET', '/api/v1/inbox?box=intake&category=9999', undef,
                 $intake);
is($res->{status}, 400, 'filter-2.3: an unknown category is refused');

($rows) = all_pages($intake, "box=intake&category=$CAT&district=$D2");
ok(nos($rows)->{$a_acc} && !nos($rows)->{$a_sub},
   'filter-3.1: district by division code');
($res, $b) = api('GET', '/api/v1/inbox?box=intake&district=123', undef,
                 $intake);
is($res->{status}, 400, 'filter-3.2: an unknown district is refused');

($rows) = all_pages($intake, "box=intake&category=$CAT&channel=hotline");
ok(!nos($rows)->{$a_sub}, 'filter-4.1: channel=hotline leaves out portal appeals');
($rows) = all_pages($intake, "box=intake&category=$CAT&channel=portal");
ok(nos($rows)->{$a_sub}, 'filter-4.2: channel=portal keeps them');
($res, $b) = api('GET', '/api/v1/inbox?box=intake&channel=fax', undef,
                 $intake);
is($res->{status}, 400, 'filter-4.3: an unknown channel is refused');

my ($today) = $in{$a_sub}{submitted_at} =~ /^(\S+)/;
($rows) = all_pages($intake, "box=intake&category=$CAT&from=$today&to=$today");
ok(nos($rows)->{$a_sub}, 'filter-5.1: submitted from/to today includes it');
($rows) = all_pages($intake, "box=intake&category=$CAT&to=2026-01-01");
ok(!nos($rows)->{$a_sub}, 'filter-5.2: to an earlier day excludes it');
($res, $b) = api('GET', '/api/v1/inbox?box=intake&from=2026-02-30', undef,
                 $intake);
is($res->{status}, 400, 'filter-5.3: an impossible date is refused');

my $lead_id = dept_id($LEAD);
($rows) = all_pages($intake, "box=intake&department=$lead_id");
ok(nos($rows)->{$a_ret} && !nos($rows)->{$a_sub},
   'filter-6.1: intake filters by the lead department');
($res, $b) = api('GET', "/api/v1/inbox?box=handler&department=$lead_id",
                 undef, $lead);
is($res->{status}, 403, 'filter-6.2: a handler may not pick a department');


# --- keyset paging -------------------------------------------------------

my ($all) = all_pages($intake, "box=intake&category=$CAT&limit=100");
my ($paged, $pages) = all_pages($intake, "box=intake&category=$CAT&limit=2");
cmp_ok(scalar @$pages, '>=', 4, 'page-1.1: limit=2 takes several pages');
is(scalar(grep { scalar @{ $_->{items} } == 2 } @$pages[0 .. $#$pages - 1]),
   $#$pages, 'page-1.2: every page but the last is full');
my @paged_nos = map { $_->{tracking_no} } @$paged;
my %uniq = map { $_ => 1 } @paged_nos;
is(scalar keys %uniq, scalar @paged_nos, 'page-1.3: no appeal twice');
is_deeply(\@paged_nos, [ map { $_->{tracking_no} } @$all ],
          'page-1.4: no gap: the pages are the one long list, in order');
ok(!grep({ my $n = $_; !grep { $_ eq $n } @paged_nos }
         $a_sub, $a_acc, $a_ret, $a_ext, @more),
   'page-1.5: every appeal of the box is on a page');
my @due = map { $_->{due_at} // '' } @$paged;
is_deeply(\@due, [ sort @due ], 'page-1.6: ordered by deadline, soonest first');
ok(!exists $pages->[1]{counts}, 'page-1.7: counts come with the first page only');

($res, $b) = api('GET', "/api/v1/inbox?box=reviewer&cursor=$pages->[0]{next}",
                 undef, staff_token('reviewer,intake'));
is($b->{error}{code}, 'invalid_cursor',
   'page-2.1: a cursor of another box is refused');
($res, $b) = api('GET', '/api/v1/inbox?box=intake&cursor=bm9wZQ', undef,
                 $intake);
is($b->{error}{code}, 'invalid_cursor', 'page-2.2: so is a made-up cursor');
($res, $b) = api('GET', '/api/v1/inbox?box=intake&limit=101', undef, $intake);
is($res->{status}, 400, 'page-2.3: limit above 100 is refused');
($res, $b) = api('GET', '/api/v1/inbox?box=intake&limit=0', undef, $intake);
is($res->{status}, 400, 'page-2.4: and limit 0');


# --- ?fields=: a page asks for the columns it shows ----------------------

($res, $b) = api('GET', '/api/v1/inbox?box=handler&limit=3'
                 . '&fields=tracking_no,state,part,due_at', undef, $lead);
is($res->{status}, 200, 'fields-1.1: a list of row fields is taken');
ok(@{ $b->{items} } >= 1, 'fields-1.2: the rows are there');
is_deeply([ map { join ',', sort keys %$_ } @{ $b->{items} } ],
          [ ('due_at,part,state,tracking_no') x @{ $b->{items} } ],
          'fields-1.3: each row has those fields and no other');
my ($full) = all_pages($lead, 'box=handler&limit=3');
is_deeply([ map { $_->{tracking_no} } @{ $b->{items} } ],
          [ map { $_->{tracking_no} } @$full[0 .. $#{ $b->{items} }] ],
          'fields-1.4: the same appeals in the same order as without it');
ok(exists $b->{counts} && exists $b->{next},
   'fields-1.5: counts and the cursor are not row fields: still there');
if (defined $b->{next}) {
    ($res, my $b2) = api('GET', '/api/v1/inbox?box=handler&limit=3'
                         . "&fields=tracking_no&cursor=$b->{next}",
                         undef, $lead);
    is_deeply([ map { $_->{tracking_no} } @{ $b2->{items} } ],
              [ map { $_->{tracking_no} } @$full[3 .. 2 + @{ $b2->{items} }] ],
              'fields-1.6: its cursor pages on like any other');
} else {
    ok(@$full <= 3, 'fields-1.6: one page holds the whole box');
}
for my $bad ('tracking_no,password', 'id', '_dept', '', 'title,,state') {
    ($res, $b) = api('GET', "/api/v1/inbox?box=handler&fields=$bad", undef,
                     $lead);
    is("$res->{status} " . ($b->{error}{code} // ''), '400 invalid_field',
       "fields-2: \"$bad\" names no row field: 400 invalid_field");
}


# --- ?shape=rows: the same rows as arrays under one list of names ----------

{
    my ($res_o, $objs) = api('GET', '/api/v1/inbox?box=handler&limit=5',
                             undef, $lead);
    ($res, $b) = api('GET', '/api/v1/inbox?box=handler&limit=5&shape=rows'
                     . '&fields=warn,tracking_no,due_at,part', undef, $lead);
    is($res->{status}, 200, 'shape-1.1: shape=rows is taken');
    is_deeply($b->{fields}, [ 'tracking_no', 'due_at', 'warn', 'part' ],
              'shape-1.2: the fields named, in the API\'s order of fields');
    ok(!exists $b->{items} && @{ $b->{rows} } == @{ $objs->{items} }
       && @{ $objs->{items} } >= 1,
       'shape-1.3: rows instead of items, as many');
    is_deeply($b->{rows},
              [ map { my $o = $_; [ map { $o->{$_} } @{ $b->{fields} } ] }
                    @{ $objs->{items} } ],
              'shape-1.4: each row holds the values of the same appeal, '
              . 'in the order of fields');
    is_deeply([ $b->{box}, $b->{next}, $b->{counts} ],
              [ $objs->{box}, $objs->{next}, $objs->{counts} ],
              'shape-1.5: box, cursor and counts as without it');

    ($res, $b) = api('GET', '/api/v1/inbox?box=handler&limit=5&shape=rows',
                     undef, $lead);
    my %keys = map { %$_ } @{ $objs->{items} };
    is_deeply([ sort @{ $b->{fields} } ], [ sort keys %keys ],
              'shape-2.1: without fields, every row field is listed');
    is_deeply($b->{rows},
              [ map { my $o = $_; [ map { $o->{$_} } @{ $b->{fields} } ] }
                    @{ $objs->{items} } ],
              'shape-2.2: and every value is in its place');

    ($res, $b) = api('GET', '/api/v1/inbox?box=handler&limit=5&shape=objects',
                     undef, $lead);
    is_deeply($b->{items}, $objs->{items},
              'shape-3: shape=objects is the default reply');

    # cells: the same values, every row's after the one before, in one array
    ($res, $b) = api('GET', '/api/v1/inbox?box=handler&limit=5&shape=cells'
                     . '&fields=due_at,title,to_sign,tracking_no', undef, $lead);
    is($res->{status}, 200, 'shape-5.1: shape=cells is taken');
    is_deeply($b->{fields}, [ 'tracking_no', 'title', 'due_at', 'to_sign' ],
              'shape-5.2: the fields named, in the API\'s order of fields');
    ok(!exists $b->{items} && !exists $b->{rows},
       'shape-5.3: neither items nor rows');
    is_deeply($b->{cells},
              [ map { my $o = $_; map { $o->{$_} } @{ $b->{fields} } }
                    @{ $objs->{items} } ],
              'shape-5.4: the values of each appeal in turn, four a row,'
              . ' in the order of fields');
    is_deeply([ $b->{box}, $b->{next}, $b->{counts} ],
              [ $objs->{box}, $objs->{next}, $objs->{counts} ],
              'shape-5.5: box, cursor and counts as without it');

    for my $bad ('row', 'ROWS', '', 'rows,objects', 'cell', 'cells,rows') {
        ($res, $b) = api('GET', "/api/v1/inbox?box=handler&shape=$bad",
                         undef, $lead);
        is("$res->{status} " . ($b->{error}{code} // ''),
           '400 invalid_field', "shape-4: shape=\"$bad\" is 400 invalid_field");
    }
}


# --- the handler box: lead and assisting departments -----------------------

($rows) = all_pages($lead, 'box=handler');
my %h = %{ nos($rows) };
ok($h{$a_dis} && $h{$a_hnd} && $h{$a_ext} && $h{$a_anon},
   'handler-1.1: the lead sees what it must sign and what it handles');
ok(!$h{$a_rep} && !$h{$a_ret} && !$h{$a_sub},
   'handler-1.2: not what it replied to, returned, or was never given');
is($h{$a_dis}{part}, 'lead', 'handler-1.3: marked as lead');
ok($h{$a_dis}{to_sign} && !$h{$a_hnd}{to_sign},
   'handler-1.4: a dispatched appeal is to sign, a handled one is not');
ok(!grep({ $_->{lead_department_id} != $lead_id && $_->{part} eq 'lead' }
         @$rows), 'handler-1.5: every lead row is led by the department');

($rows) = all_pages($assist, 'box=handler');
is(nos($rows)->{$a_hnd}{part}, 'assist',
   'handler-2.1: the assisting department sees its task, marked assist');
ok(!nos($rows)->{$a_dis} && !nos($rows)->{$a_ext},
   'handler-2.2: and none of the lead\'s other appeals');

($rows) = all_pages($other, 'box=handler');
is(scalar @$rows, 0, 'handler-3.1: another department sees none of them');

($res, $b) = api('GET', "/api/v1/inbox?box=handler", undef,
                 mint(user => 123457, roles => 'handler', ttl => 600));
is($res->{status}, 403, 'handler-3.2: a handler without a department has no box');


# --- reviewer and supervisor ---------------------------------------------

($rows) = all_pages($reviewer, "box=reviewer&category=$CAT");
ok(nos($rows)->{$a_rep} && !nos($rows)->{$a_hnd},
   'review-1.1: the reviewer sees replied appeals only');

($rows) = all_pages($supervisor, "box=supervisor&category=$CAT");
ok(!nos($rows)->{$a_sub}, 'super-1.1: nothing late yet: the supervisor box is empty of ours');

# twenty days on (the workers' clock): every intake deadline has passed,
# whatever holidays lie between
set_clock_offset(20 * 86400);
my $fresh = walk_to('submitted', category_code => $CAT, fields => fields());

($rows) = all_pages($supervisor, "box=supervisor&category=$CAT");
my %s = %{ nos($rows) };
ok($s{$a_sub} && $s{$a_acc}, 'super-2.1: overdue appeals are in the supervisor box');
is($s{$a_sub}{warn}, 'red', 'super-2.2: red (overdue)');
ok(!$s{$fresh}, 'super-2.3: an appeal within its time is not');
ok(!grep({ $_->{warn} eq 'green' } @$rows), 'super-2.4: no green row at all');

($rows) = all_pages($intake, "box=intake&category=$CAT&overdue=true");
ok(nos($rows)->{$a_sub} && !nos($rows)->{$fresh},
   'super-3.1: overdue=true in the intake box');
($rows) = all_pages($intake, "box=intake&category=$CAT&overdue=warned");
ok(nos($rows)->{$a_sub} && !nos($rows)->{$fresh},
   'super-3.2: overdue=warned includes the overdue');
($rows) = all_pages($supervisor,
                    "box=supervisor&category=$CAT&department=$lead_id");
ok(!grep({ ($_->{lead_department_id} // 0) != $lead_id } @$rows),
   'super-3.3: the supervisor filters by department');

set_clock_offset(0);


# --- the staff detail ----------------------------------------------------

($res, $b) = api('GET', "/api/v1/appeals/$a_dis");
is($res->{status}, 401, 'detail-1.1: the detail needs signing in');

($res, $b) = api('GET', "/api/v1/appeals/$a_dis", undef, $other);
my ($res_nf, $b_nf) = api('GET', "/api/v1/appeals/$no_bad", undef, $other);
is($res->{status}, 404, 'detail-1.2: another department gets 404 for the number');
is($res_nf->{status}, 404, 'detail-1.3: as for a number that does not exist');
is_deeply($b->{error}, $b_nf->{error}, 'detail-1.4: with the same answer');

($res, $b) = api('GET', "/api/v1/appeals/$a_dis", undef, $assist);
is($res->{status}, 404, 'detail-1.5: the assisting unit cannot open an appeal it was not asked about');
($res, $b) = api('GET', "/api/v1/appeals/$a_hnd", undef, $assist);
is($res->{status}, 200, 'detail-1.6: but opens the one it assists');
ok(grep({ $_->{action} eq 'assist_reply' } @{ $b->{actions} }),
   'detail-1.7: and may answer its task');
is($b->{tasks}[0]{department_name}, '市残疾人联合会', 'detail-1.8: the task names its department');
is($b->{tasks}[0]{state}, 'open', 'detail-1.9: and is open');

($res, $b) = api('GET', "/api/v1/appeals/$a_dis", undef,
                 mint(user => 123456, roles => 'citizen', ttl => 600));
is($res->{status}, 404, 'detail-1.10: a citizen gets 404 on the staff detail');

my %who;
for my $t ([ intake => $intake ], [ handler => $lead ],
           [ reviewer => $reviewer ], [ supervisor => $supervisor ]) {
    my ($r2, $b2) = api('GET', "/api/v1/appeals/$a_dis", undef, $t->[1]);
    is($r2->{status}, 200, "detail-2.1: the $t->[0] opens it");
    $who{ $t->[0] } = $b2;
}

# the full contact is an explicit, recorded step (POST .../reveal,
# tests/http/console_reveal.t): the detail masks it for every role
for my $role (qw(intake handler reviewer supervisor)) {
    is_deeply($who{$role}{submitter},
              { name => '欧阳**', phone => '139****5678',
                id_number => substr($ID, 0, 6) . '********' . substr($ID, -4),
                masked => JSON::PP::true },
              "detail-2.3: the $role sees them masked");
}

($res, $b) = api('GET', "/api/v1/appeals/$a_anon", undef, $lead);
is($b->{submitter}, undef, 'detail-2.4: an anonymous submitter is not shown at all');
ok($b->{is_anonymous}, 'detail-2.5: and the appeal says it is anonymous');
($res, $b) = api('GET', "/api/v1/appeals/$a_anon", undef, $intake);
is($b->{submitter}{name}, '欧阳**', 'detail-2.6: except to intake, who calls back (masked until revealed)');

my $d = $who{handler};
is($d->{state}, 'dispatched', 'detail-3.1: the state');
is($d->{state_title}, '已派单', 'detail-3.2: with its title');
is($d->{lead_department_name}, '市妇女联合会', 'detail-3.3: the lead department');
is($d->{version}, version_of($a_dis), 'detail-3.4: the version to act with');
is($d->{content}, submission()->{content}, 'detail-3.5: the full content');
is_deeply([ map { $_->{action} } @{ $d->{timeline} } ],
          [ qw(submit accept dispatch note) ], 'detail-3.6: the full timeline');
my ($note) = grep { $_->{action} eq 'note' } @{ $d->{timeline} };
is($note->{visibility}, 'internal', 'detail-3.7: internal notes included');
is($note->{comment}, '内部: 已电话联系', 'detail-3.8: with their text');
my ($disp) = grep { $_->{action} eq 'dispatch' } @{ $d->{timeline} };
is($disp->{target_department_name}, '市妇女联合会',
   'detail-3.9: a dispatch names the department');
is($disp->{action_title}, '派单', 'detail-3.10: actions titled in Chinese');

is_deeply([ sort map { $_->{action} } @{ $d->{actions} } ],
          [ qw(note return sign) ],
          'detail-4.1: the lead department may sign, return or note it');
is_deeply([ map { $_->{action} } @{ $who{reviewer}{actions} } ], [ 'note' ],
          'detail-4.2: the reviewer may only note it now');
ok(grep({ $_->{action} eq 'urge' } @{ $who{supervisor}{actions} }),
   'detail-4.3: the supervisor may urge');

($res, $b) = api('GET', "/api/v1/appeals/$a_ext", undef, $intake);
is_deeply([ sort grep { /^extension/ } map { $_->{action} } @{ $b->{actions} } ],
          [ qw(extension_approve extension_refuse) ],
          'detail-4.4: intake may decide a pending extension');
($res, $b) = api('GET', "/api/v1/appeals/$a_hnd", undef, $intake);
ok(!grep({ $_->{action} =~ /^extension/ } @{ $b->{actions} }),
   'detail-4.5: and sees no such decision without a request');
($res, $b) = api('GET', "/api/v1/appeals/$a_ext", undef, $lead);
ok(!grep({ $_->{action} eq 'extension_request' } @{ $b->{actions} }),
   'detail-4.6: the lead cannot ask twice');

# attachment metadata (the upload route is not ours: one row by hand)
sql('admin', "INSERT INTO appeal_attachments (appeal_id, sha256,"
    . " original_name, media_type, size_bytes, uploaded_role, created_at)"
    . " SELECT id, REPEAT('ab', 32), '现场照片.jpg', 'image/jpeg', 2048,"
    . " 'citizen', NOW() FROM appeals WHERE tracking_no = '$a_dis'");
($res, $b) = api('GET', "/api/v1/appeals/$a_dis", undef, $lead);
is_deeply([ map { [ @$_{qw(original_name media_type size_bytes)} ] }
            @{ $b->{attachments} } ],
          [ [ '现场照片.jpg', 'image/jpeg', 2048 ] ],
          'detail-5.1: attachments are listed with name, type and size');

is($res->{headers}{'cache-control'}, 'no-store',
   'detail-5.2: personal data is never cached');

($res, $b) = api('GET', '/api/v1/appeals/DG2026', undef, $intake);
is($res->{status}, 404, 'detail-5.3: a malformed number is 404');

done_testing();
