#!/usr/bin/perl
#
# tests/sql/workflow_plans.t -- the query plans of the workflow's reads
# (inbox boxes and their counts, staff detail, track, mine, disclosures)
# on a city's worth of appeals in miniature: every query reaches the
# appeals through an index, never a scan of the whole table, and the
# index each one uses is printed (prove -v) for docs/workflow.md.
#
# The SQL is the workers' own text, taken from fcgi/workflow by the C
# preprocessor, and is explained as a server-side prepared statement
# with the values the handler binds, so the optimizer sees what it sees
# in production.  Works in a scratch database dgj_scratch_plans_<pid>,
# dropped at the end.  DGJ_PLAN_ROWS (default 30000) appeals.

use strict;
use warnings;
use utf8;

use Test::More;
use Encode qw(encode);
use FindBin;
use lib "$FindBin::Bin/../lib";
use DgjPlans qw(run quote worker_sql);

binmode Test::More->builder->$_, ':encoding(UTF-8)'
    for qw(output failure_output todo_output);

my $root = $ENV{DGJ_ROOT};
my $cnf = $ENV{DGJ_ADMIN_CNF};

unless ($root && $cnf) {
    fail('DGJ_ROOT and DGJ_ADMIN_CNF must be set (make test sets them)');
    done_testing();
    exit 1;
}

my $rows = $ENV{DGJ_PLAN_ROWS} // 30000;
my $db = "dgj_scratch_plans_$$";
my $NOW = '2026-12-01 12:00:00';

END {
    local $?;
    run('mariadb', "--defaults-file=$cnf", '-e',
        "DROP DATABASE IF EXISTS `$db`") if $cnf;
}


sub sql {
    my ($query) = @_;

    my ($rc, $out) = run('mariadb', "--defaults-file=$cnf", '--batch',
                         '--default-character-set=utf8mb4',
                         "--database=$db", '-e', $query);
    die encode("UTF-8", "query failed ($rc): $out\n") if $rc;

    return $out;
}


# --- the workers' SQL ------------------------------------------------------

my %SQL = %{ worker_sql($root, map { "fcgi/workflow/$_" }
                        qw(dgj_workflow_query.c dgj_workflow_public.c
                           dgj_workflow.c)) };

ok($SQL{'workflow.inbox_intake'} && $SQL{'workflow.disclosures'},
   'plan-0.1: the SQL texts are read from the C sources');


# --- a scratch database with $rows appeals -----------------------------------

my ($rc, $out) = run('mariadb', "--defaults-file=$cnf", '-e',
                     "CREATE DATABASE `$db` CHARACTER SET utf8mb4");
die "create database: $out" if $rc;
($rc, $out) = run("$root/sql/migrate", "--defaults-file=$cnf",
                  "--database=$db");
is($rc, 0, 'plan-0.2: the migrations apply to the scratch database')
    or diag $out;

# about 9 % open, as in a city where an appeal is open for a fortnight of
# a year's history: recent dates and deadlines around now, a fifth of
# them past; the closed ones over a year, a fifth of them published
sql(<<"SQL");
INSERT INTO users (kind, display_name, created_at, updated_at)
SELECT 'citizen', '', '$NOW', '$NOW' FROM seq_1_to_500;

CREATE TEMPORARY TABLE leaf (PRIMARY KEY (n))
SELECT ROW_NUMBER() OVER (ORDER BY id) - 1 AS n, id, appeal_type
  FROM categories WHERE level = 2;
CREATE TEMPORARY TABLE dist (PRIMARY KEY (n))
SELECT ROW_NUMBER() OVER (ORDER BY id) - 1 AS n, id FROM districts;
CREATE TEMPORARY TABLE dept (PRIMARY KEY (n))
SELECT ROW_NUMBER() OVER (ORDER BY id) - 1 AS n, id FROM departments;
CREATE TEMPORARY TABLE cit (PRIMARY KEY (n))
SELECT ROW_NUMBER() OVER (ORDER BY id) - 1 AS n, id FROM users
 WHERE kind = 'citizen';
SET \@nl = (SELECT COUNT(*) FROM leaf), \@nd = (SELECT COUNT(*) FROM dist),
    \@np = (SELECT COUNT(*) FROM dept), \@nu = (SELECT COUNT(*) FROM cit);

CREATE TEMPORARY TABLE s
SELECT seq, seq % \@nl AS ln, seq % \@nd AS dn, seq % \@np AS pn,
       seq % \@nu AS un,
       CASE WHEN seq % 1000 < 880 THEN 'closed'
            WHEN seq % 1000 < 900 THEN 'rejected'
            WHEN seq % 1000 < 910 THEN 'merged'
            WHEN seq % 1000 < 920 THEN 'awaiting_feedback'
            WHEN seq % 1000 < 930 THEN 'submitted'
            WHEN seq % 1000 < 935 THEN 'accepted'
            WHEN seq % 1000 < 945 THEN 'dispatched'
            WHEN seq % 1000 < 975 THEN 'handling'
            WHEN seq % 1000 < 980 THEN 'returned'
            WHEN seq % 1000 < 990 THEN 'replied'
            WHEN seq % 1000 < 995 THEN 'dissatisfied'
            ELSE 'reopened' END AS state,
       '$NOW' - INTERVAL (seq % 20) DAY - INTERVAL (seq % 1440) MINUTE
           AS recent,
       '$NOW' - INTERVAL (seq % 365) DAY - INTERVAL (seq % 1440) MINUTE
           AS old
  FROM seq_1_to_$rows;

INSERT INTO appeals (tracking_no, query_code_mac, channel, category_id,
       appeal_type, district_id, title, content, publish_consent, state,
       lead_department_id, submitter_user_id, stage, stage_started_at,
       due_at, warn_at, handle_due_at, pending_extension_days, reply,
       replied_at, rating, publish_state, public_title, public_content,
       published_at, submitted_at, closed_at, updated_at)
SELECT CONCAT('DG20260101', LPAD(s.seq, 6, '0')),
       UNHEX(SHA2(s.seq, 256)),
       ELT(1 + s.seq % 5, 'portal', 'wechat', 'app', 'hotline',
           'govplatform'),
       l.id, l.appeal_type, d.id,
       CONCAT('诉求标题 ', s.seq), CONCAT('诉求内容, 编号 ', s.seq, ' 夜间噪声'),
       s.seq % 2, s.state,
       CASE WHEN s.state IN ('submitted', 'accepted', 'rejected', 'merged')
            THEN NULL ELSE p.id END,
       CASE WHEN s.seq % 3 = 0 THEN u.id END,
       CASE s.state WHEN 'submitted' THEN 'intake'
                    WHEN 'accepted' THEN 'intake'
                    WHEN 'returned' THEN 'intake'
                    WHEN 'dispatched' THEN 'sign'
                    WHEN 'handling' THEN 'handle'
                    WHEN 'reopened' THEN 'rehandle'
                    WHEN 'replied' THEN 'review'
                    WHEN 'dissatisfied' THEN 'review'
                    WHEN 'awaiting_feedback' THEN 'rating'
                    ELSE 'none' END,
       IF(s.state IN ('closed', 'rejected', 'merged'), s.old, s.recent),
       IF(s.state IN ('closed', 'rejected', 'merged'), NULL,
          '$NOW' + INTERVAL CAST(s.seq % 25 AS SIGNED) - 5 DAY),
       IF(s.state IN ('closed', 'rejected', 'merged'), NULL,
          '$NOW' + INTERVAL CAST(s.seq % 25 AS SIGNED) - 7 DAY),
       IF(s.state IN ('closed', 'rejected', 'merged'), NULL,
          '$NOW' + INTERVAL (s.seq % 25) DAY),
       IF(s.state = 'handling' AND s.seq % 7 = 0, 5, NULL),
       IF(s.state IN ('closed', 'awaiting_feedback', 'replied'),
          '已办理', NULL),
       IF(s.state IN ('closed', 'awaiting_feedback', 'replied'),
          IF(s.state = 'closed', s.old, s.recent), NULL),
       IF(s.state = 'closed', 1 + s.seq % 5, NULL),
       IF(s.state = 'closed' AND s.seq % 5 = 0, 'published', 'none'),
       IF(s.state = 'closed' AND s.seq % 5 = 0,
          CONCAT('公示标题 ', s.seq), NULL),
       IF(s.state = 'closed' AND s.seq % 5 = 0,
          CONCAT('公示内容 ', s.seq, IF(s.seq % 50 = 0, ' 刺鼻气味', '')),
          NULL),
       IF(s.state = 'closed' AND s.seq % 5 = 0, s.old + INTERVAL 1 DAY,
          NULL),
       IF(s.state IN ('closed', 'rejected', 'merged'), s.old, s.recent),
       IF(s.state IN ('closed', 'rejected', 'merged'),
          s.old + INTERVAL 1 DAY, NULL),
       '$NOW'
  FROM s
  JOIN leaf l ON l.n = s.ln
  JOIN dist d ON d.n = s.dn
  JOIN dept p ON p.n = s.pn
  JOIN cit u ON u.n = s.un;

INSERT INTO appeal_personal (appeal_id, name, phone)
SELECT id, '张三', '13800138000' FROM appeals;

INSERT INTO appeal_tasks (appeal_id, department_id, state, due_at,
       created_at)
SELECT a.id, (a.lead_department_id % 60) + 1,
       IF(a.state = 'handling', 'open', 'replied'), '$NOW', '$NOW'
  FROM appeals a
 WHERE a.id % 4 = 0 AND a.lead_department_id IS NOT NULL;

INSERT INTO appeal_events (appeal_id, at, actor_role, action, to_state,
       visibility)
SELECT a.id, a.submitted_at, 'citizen', 'submit', 'submitted', 'public'
  FROM appeals a
 UNION ALL
SELECT a.id, a.updated_at, 'intake', 'accept', 'accepted', 'public'
  FROM appeals a
 UNION ALL
SELECT a.id, a.updated_at, 'handler', 'note', a.state, 'internal'
  FROM appeals a;

ANALYZE TABLE appeals, appeal_tasks, appeal_events, appeal_personal,
       categories, districts, departments;
SQL

my $n = (split /\n/, sql('SELECT COUNT(*) FROM appeals'))[1];
is($n, $rows, "plan-0.3: $rows appeals loaded");

my ($dept) = (split /\n/, sql("SELECT lead_department_id FROM appeals"
    . " WHERE state = 'handling' GROUP BY lead_department_id"
    . " ORDER BY COUNT(*) DESC LIMIT 1"))[1];
my ($leaf, $topic) = split /\t/, (split /\n/, sql("SELECT c.id, c.parent_id"
    . " FROM categories c WHERE c.code = '0301'"))[1];
my ($district) = (split /\n/, sql("SELECT id FROM districts"
    . " WHERE code = '441900101'"))[1];
my ($user) = (split /\n/, sql("SELECT submitter_user_id FROM appeals"
    . " WHERE submitter_user_id IS NOT NULL LIMIT 1"))[1];


# --- bind values, in the handlers' order ------------------------------------

# the 20 filter values of DGJ_WFQ_FILTERS
sub filters {
    my (%f) = @_;

    my @v;
    for my $k (qw(state leaf topic district channel overdue warned from to
                  department)) {
        my $x = $f{$k};
        $x = $NOW if defined $x && ($k eq 'overdue' || $k eq 'warned');
        push @v, $x, $x;
    }

    return @v;
}

# the 6 values of DGJ_WFQ_SQL_AFTER / _BEFORE
sub cursor {
    my ($key, $id) = @_;

    return (undef, undef, undef, undef, 0, undef) unless defined $id;
    return (1, $key, $key, $id, defined $key ? 0 : 1, $id);
}

sub inbox {
    my ($box, $f, $cur) = @_;

    my @head = ($NOW, $NOW);
    my @where = $box eq 'supervisor' ? ($NOW) : ();

    # the handler page: each of its four branches is a page of its own
    my @list = $box eq 'handler'
        ? (@head, (map { ($dept, filters(%$f), cursor(@{ $cur || [] }), 51) }
                   1 .. 4), 51)
        : (@head, @where, filters(%$f), cursor(@{ $cur || [] }), 51);

    return [ "workflow.inbox_$box", \@list ],
           [ "workflow.inbox_${box}_counts",
             $box eq 'handler'
                 ? [ $dept, filters(%$f), $dept, $dept, filters(%$f) ]
                 : [ @where, filters(%$f) ] ];
}

# the texts of a box opened without a filter (dgj_wfq_sql_intake_all)
sub inbox_all {
    my ($box, $cur) = @_;

    my @dept = $box eq 'handler' ? ($dept) : ();

    return [ "workflow.inbox_${box}_all",
             [ $NOW, $NOW, (map { (@dept, cursor(@{ $cur || [] }), 51) }
                            1 .. 4), 51 ] ],
           [ "workflow.inbox_${box}_counts_all", [ @dept, @dept ] ];
}

my @cases = (
    [ 'intake, no filter, first page', inbox_all('intake') ],
    [ 'intake, no filter, next page', inbox_all('intake', [ $NOW, 1000 ]) ],
    [ 'handler, no filter, first page', inbox_all('handler') ],
    [ 'handler, no filter, next page',
      inbox_all('handler', [ $NOW, 1000 ]) ],
    [ 'intake, first page', inbox('intake', {}) ],
    [ 'intake, next page', inbox('intake', {}, [ $NOW, 1000 ]) ],
    [ 'intake, a leaf category', inbox('intake', { leaf => $leaf }) ],
    [ 'intake, a topic', inbox('intake', { topic => $topic }) ],
    [ 'intake, a district', inbox('intake', { district => $district }) ],
    [ 'intake, a department', inbox('intake', { department => $dept }) ],
    [ 'intake, overdue', inbox('intake', { overdue => 1 }) ],
    [ 'intake, submitted from..to',
      inbox('intake', { from => '2026-11-25 00:00:00',
                        to => '2026-11-27 00:00:00' }) ],
    [ 'handler, first page', inbox('handler', {}) ],
    [ 'handler, state dispatched', inbox('handler',
                                         { state => 'dispatched' }) ],
    [ 'reviewer, first page', inbox('reviewer', {}) ],
    [ 'reviewer, next page', inbox('reviewer', {}, [ $NOW, 1000 ]) ],
    [ 'supervisor, first page', inbox('supervisor', {}) ],
    [ 'supervisor, a department', inbox('supervisor',
                                        { department => $dept }) ],
    [ 'detail', [ 'workflow.detail', [ $NOW, $NOW, 4242 ] ] ],
    [ 'detail, tasks', [ 'workflow.detail_tasks', [ 4244 ] ] ],
    [ 'detail, events', [ 'workflow.detail_events', [ 4242 ] ] ],
    [ 'detail, attachments', [ 'workflow.detail_attachments', [ 4242 ] ] ],
    [ 'load by number', [ 'workflow.load', [ 'DG20260101004242' ] ] ],
    [ 'track, the code', [ 'workflow.track_code', [ 'DG20260101004242' ] ] ],
    [ 'track', [ 'workflow.track', [ $NOW, 'DG20260101004242' ] ] ],
    [ 'track, timeline', [ 'workflow.track_timeline', [ 4242 ] ] ],
    [ 'mine, first page', [ 'workflow.mine',
                            [ $NOW, $user, undef, 0, 51 ] ] ],
    [ 'mine, next page', [ 'workflow.mine', [ $NOW, $user, 1, 9000, 51 ] ] ],
    [ 'disclosures, first page', [ 'workflow.disclosures',
        [ (undef) x 13, cursor(), 51 ] ] ],
    [ 'disclosures, next page', [ 'workflow.disclosures',
        [ (undef) x 13, cursor('2026-06-01 00:00:00', 5000), 51 ] ] ],
    [ 'disclosures, a topic', [ 'workflow.disclosures',
        [ undef, undef, $topic, $topic, (undef) x 9, cursor(), 51 ] ] ],
    [ 'disclosures, a district', [ 'workflow.disclosures',
        [ undef, undef, undef, undef, $district, $district, (undef) x 7,
          cursor(), 51 ] ] ],
    [ 'disclosures, q', [ 'workflow.disclosures',
        [ (undef) x 10, 1, '%刺鼻%', '%刺鼻%', cursor(), 51 ] ] ],
    [ 'disclosure', [ 'workflow.disclosure', [ 'DG20260101004240' ] ] ],
);


# --- explain each -------------------------------------------------------

for my $case (@cases) {
    my ($what, @stmts) = @$case;

    for my $st (@stmts) {
        my ($name, $args) = @$st;
        my $text = $SQL{$name};

        ok($text, "plan: $name is a statement of fcgi/workflow") or next;

        my $marks = () = $text =~ /\?/g;
        is($marks, scalar @$args, "plan: $what ($name): every ? bound");

        my @set = map { "SET \@p$_ = " . quote($args->[$_]) . ';' }
                  0 .. $#$args;
        my $out = sql(join("\n", @set,
            'SET @q = ' . quote("EXPLAIN $text") . ';',
            'PREPARE st FROM @q;',
            'EXECUTE st' . (@$args ? ' USING '
                . join(', ', map { "\@p$_" } 0 .. $#$args) : '') . ';'));

        my ($head, @lines) = split /\n/, $out;
        my @cols = split /\t/, $head;
        my @plan = map { my %r; @r{@cols} = split /\t/, $_, -1; \%r } @lines;

        # the appeals (a, and x inside the handler box) are never scanned,
        # and a lookup table never drives the join into them (reading
        # every appeal through one of their indexes)
        my @scans = grep { ($_->{table} =~ /^(a|x|appeals)$/
                            && $_->{type} eq 'ALL')
                           || ($_->{table} =~ /^(c|d|ld|pc|p|m)$/
                               && $_->{type} !~ /^(const|eq_ref|system)$/) }
                    @plan;
        is(scalar @scans, 0, "plan: $what ($name): the appeals are reached"
                             . ' through an index') or diag $out;

        note(sprintf "%-30s %-34s %s", $what, $name,
             join('; ', map { "$_->{table}: $_->{type}"
                              . ($_->{key} ne 'NULL' ? " $_->{key}" : '')
                              . " rows=$_->{rows}"
                              . ($_->{Extra} =~ /filesort/ ? ' filesort' : '') }
                        @plan));
    }
}

done_testing();
