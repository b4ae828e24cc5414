#!/usr/bin/perl
#
# tests/sql/board_plans.t -- the query plans of the supervision board and
# the department assessment (fcgi/workflow/dgj_workflow_board.c) on a
# year of appeals and their events in miniature: every count reads the
# events of one action in a period through ix_appeal_events_action or,
# for one department, ix_appeal_events_actor, and the appeals through an
# index; never a scan of either table.  The index each one uses is
# printed (prove -v) for docs/console-admin.md.
#
# The SQL is the workers' own text, taken from the C file by the C
# preprocessor, and is explained as a server-side prepared statement
# with the values the handler binds.  Works in a scratch database
# dgj_scratch_board_<pid>, dropped at the end.  DGJ_PLAN_ROWS (default
# 30000) appeals, 6 events each.

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
my $db = "dgj_scratch_board_$$";
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

my %SQL = %{ worker_sql($root, 'fcgi/workflow/dgj_workflow_board.c') };

ok($SQL{'board.sign'} && $SQL{'board.drill_rated'},
   'bplan-0.1: the SQL texts are read from the C source');


# --- a scratch database: a year of appeals, each with its events -----------

my ($rc, $out) = run('mariadb', "--defaults-file=$cnf", '-e',
                     "CREATE DATABASE `$db` CHARACTER SET utf8mb4");
die "create database: $out" if $rc;
($rc, $out) = run("$root/sql/migrate", "--defaults-file=$cnf",
                  "--database=$db");
is($rc, 0, 'bplan-0.2: the migrations apply to the scratch database')
    or diag $out;

sql(<<"SQL");
CREATE TEMPORARY TABLE leaf (PRIMARY KEY (n))
SELECT ROW_NUMBER() OVER (ORDER BY id) - 1 AS n, id, appeal_type
  FROM categories WHERE level = 2;
CREATE TEMPORARY TABLE dept (PRIMARY KEY (n))
SELECT ROW_NUMBER() OVER (ORDER BY id) - 1 AS n, id FROM departments;
SET \@nl = (SELECT COUNT(*) FROM leaf), \@np = (SELECT COUNT(*) FROM dept);

CREATE TEMPORARY TABLE s
SELECT seq, seq % \@nl AS ln, seq % \@np AS pn,
       CASE WHEN seq % 100 < 90 THEN 'closed'
            WHEN seq % 100 < 93 THEN 'dispatched'
            WHEN seq % 100 < 98 THEN 'handling'
            ELSE 'replied' END AS state,
       '$NOW' - INTERVAL (seq % 365) DAY - INTERVAL (seq % 1440) MINUTE
           AS t0
  FROM seq_1_to_$rows;

INSERT INTO appeals (id, tracking_no, query_code_mac, channel, category_id,
       appeal_type, district_id, title, content, state, lead_department_id,
       stage, stage_started_at, due_at, warn_at, handle_due_at, rating,
       submitted_at, closed_at, updated_at)
SELECT s.seq, CONCAT('DG20260101', LPAD(s.seq, 6, '0')),
       UNHEX(SHA2(s.seq, 256)), 'portal', l.id, l.appeal_type,
       (SELECT MIN(id) FROM districts), CONCAT('诉求 ', s.seq), '内容',
       s.state, p.id,
       IF(s.state = 'closed', 'none', 'handle'), s.t0,
       IF(s.state = 'closed', NULL, '$NOW' + INTERVAL CAST(s.seq % 20 AS SIGNED) - 10 DAY),
       IF(s.state = 'closed', NULL, '$NOW' + INTERVAL CAST(s.seq % 20 AS SIGNED) - 12 DAY),
       s.t0 + INTERVAL 10 DAY,
       IF(s.state = 'closed', 1 + s.seq % 5, NULL),
       s.t0, IF(s.state = 'closed', s.t0 + INTERVAL 12 DAY, NULL), '$NOW'
  FROM s JOIN leaf l ON l.n = s.ln JOIN dept p ON p.n = s.pn;

INSERT INTO appeal_events (appeal_id, at, actor_role, actor_department_id,
       action, to_state, visibility, due_at_set, target_department_id)
SELECT x.appeal_id, x.at, x.role, x.dept, x.action, x.to_state, 'public',
       x.due, x.target
  FROM (
SELECT a.id AS appeal_id, a.submitted_at AS at, 'citizen' AS role,
       NULL AS dept, 'submit' AS action, 'submitted' AS to_state,
       a.submitted_at + INTERVAL 1 DAY AS due, NULL AS target, 1 AS k
  FROM appeals a
 UNION ALL
SELECT a.id, a.submitted_at + INTERVAL 1 HOUR, 'intake', 1, 'dispatch',
       'dispatched', a.submitted_at + INTERVAL 2 DAY, a.lead_department_id, 2
  FROM appeals a
 UNION ALL
SELECT a.id, a.submitted_at + INTERVAL (a.id % 3) DAY, 'handler',
       a.lead_department_id, 'sign', 'handling', a.handle_due_at, NULL, 3
  FROM appeals a WHERE a.state <> 'dispatched'
 UNION ALL
SELECT a.id, a.submitted_at + INTERVAL (a.id % 12) DAY, 'handler',
       a.lead_department_id, IF(a.id % 20 = 0, 'return', 'reply'),
       'replied', NULL, NULL, 4
  FROM appeals a WHERE a.state IN ('closed', 'replied')
 UNION ALL
SELECT a.id, a.submitted_at + INTERVAL 12 DAY, 'reviewer', NULL, 'approve',
       'awaiting_feedback', NULL, NULL, 5
  FROM appeals a WHERE a.state = 'closed'
 UNION ALL
SELECT a.id, a.closed_at, 'citizen', NULL, 'rate', 'closed', NULL, NULL, 6
  FROM appeals a WHERE a.state = 'closed') x
 ORDER BY x.appeal_id, x.k;

ANALYZE TABLE appeals, appeal_events, departments;
SQL

my $n = (split /\n/, sql('SELECT COUNT(*) FROM appeal_events'))[1];
ok($n > 5 * $rows, "bplan-0.3: $n events of $rows appeals loaded");

my ($dept) = (split /\n/, sql("SELECT lead_department_id FROM appeals"
    . " GROUP BY lead_department_id ORDER BY COUNT(*) DESC LIMIT 1"))[1];

my ($from, $to) = ('2026-11-01 00:00:00', '2026-12-01 00:00:00');

my @cases = (
    [ 'board: departments', 'board.departments', [ $NOW, $NOW, $NOW ] ],
    [ 'board: items', 'board.items', [ $NOW, $NOW, undef, undef, 300 ] ],
    [ 'board: a department\'s items', 'board.items',
      [ $NOW, $NOW, $dept, $dept, 300 ] ],
    [ 'assessment: signs', 'board.sign', [ $from, $to ] ],
    [ 'assessment: replies', 'board.replies', [ $from, $to ] ],
    [ 'assessment: overdue now', 'board.overdue', [ $NOW ] ],
    [ 'assessment: returns', 'board.returns', [ $from, $to ] ],
    [ 'assessment: ratings', 'board.rated', [ $from, $to ] ],
    [ 'drill: late signs', 'board.drill_sign',
      [ $dept, $from, $to, 1, 200 ] ],
    [ 'drill: late replies', 'board.drill_reply',
      [ $dept, $from, $to, 1, 200 ] ],
    [ 'drill: returns', 'board.drill_return', [ $dept, $from, $to, 0, 200 ] ],
    [ 'drill: received', 'board.drill_received',
      [ $dept, $from, $to, 0, 200 ] ],
    [ 'drill: dissatisfied', 'board.drill_rated',
      [ $from, $to, $dept, 1, 200 ] ],
    [ 'drill: overdue', 'board.drill_overdue', [ $dept, $NOW, 1, 200 ] ],
);

for my $case (@cases) {
    my ($what, $name, $args) = @$case;
    my $text = $SQL{$name};

    ok($text, "bplan: $name is a statement of dgj_workflow_board.c") or next;

    my $marks = () = $text =~ /\?/g;
    is($marks, scalar @$args, "bplan: $what ($name): every ? bound");

    my @set = map { "SET \@p$_ = " . quote($args->[$_]) . ';' } 0 .. $#$args;
    my $o = sql(join("\n", @set,
        'SET @q = ' . quote("EXPLAIN $text") . ';',
        'PREPARE st FROM @q;',
        'EXECUTE st USING ' . join(', ', map { "\@p$_" } 0 .. $#$args) . ';'));

    my ($head, @lines) = split /\n/, $o;
    my @cols = split /\t/, $head;
    my @plan = map { my %r; @r{@cols} = split /\t/, $_, -1; \%r } @lines;

    # appeals (a) and events (e, p) never scanned whole; the lookups by key
    my @scans = grep { ($_->{table} =~ /^(a|e|p)$/ && $_->{type} eq 'ALL')
                       || ($_->{table} eq 'd'
                           && $_->{type} !~ /^(const|eq_ref|system)$/) }
                @plan;
    is(scalar @scans, 0, "bplan: $what ($name): through indexes")
        or diag $o;

    my ($e) = grep { $_->{table} eq 'e' } @plan;
    if ($e) {
        like($e->{key}, qr/^ix_appeal_events_(action|actor)$/,
             "bplan: $what: the events of one action by (action, at) or"
             . ' (department, action, at)') or diag $o;
    }

    note(sprintf "%-30s %-22s %s", $what, $name,
         join('; ', map { "$_->{table}: $_->{type}"
                          . ($_->{key} ne 'NULL' ? " $_->{key}" : '')
                          . " rows=$_->{rows}" } @plan));
}

done_testing();
