#!/usr/bin/perl

# reference_api.t: the reference data every later feature builds on is
# served live from MariaDB: towns, departments, the category catalogue and
# the working-day calendar, in UTF-8 Chinese.

use strict;
use warnings;
use utf8;

use Test::More;
use DgjTest qw(get_json post_json sql);

binmode(Test::More->builder->$_, ':encoding(UTF-8)')
    for qw(output failure_output todo_output);

my ($res, $body) = get_json('/api/v1/health');
is($res->{status}, 200, 'ref-1.1: health answers 200 while the database is up');
is($body->{db}, 'ok', 'ref-1.1: health reports the database ok');

($res, $body) = get_json('/api/v1/districts');
is($res->{status}, 200, 'ref-2.1: districts answer 200');
my @d = @{ $body->{items} || [] };
is(scalar(grep { $_->{kind} eq 'town' } @d), 28, 'ref-2.2: 28 towns');
is(scalar(grep { $_->{kind} eq 'subdistrict' } @d), 4, 'ref-2.2: 4 subdistricts');
ok((grep { $_->{name} eq '虎门镇' } @d), 'ref-2.3: 虎门镇 is listed by name');
ok((grep { $_->{name} eq '莞城街道' } @d), 'ref-2.3: 莞城街道 is listed');
like($res->{content}, qr/\xe8\x99\x8e\xe9\x97\xa8/,
     'ref-2.4: Chinese is sent as UTF-8, not \\u escapes');
is($body->{count}, scalar @d, 'ref-2.5: count matches the items');
my ($n) = sql('ro', 'SELECT COUNT(*) FROM districts');
is(scalar @d, $n->[0], 'ref-2.6: the list is what the database holds');

($res, $body) = get_json('/api/v1/departments');
is($res->{status}, 200, 'ref-3.1: departments answer 200');
cmp_ok($body->{count}, '>=', 30, 'ref-3.2: at least 30 departments');

($res, $body) = get_json('/api/v1/categories');
is($res->{status}, 200, 'ref-4.1: categories answer 200');
my @top = @{ $body->{items} || [] };
cmp_ok(scalar @top, '>=', 10, 'ref-4.2: at least 10 top-level topics');
my @leaves = map { @{ $_->{children} || [] } } @top;
is(scalar @leaves, $body->{count_leaves}, 'ref-4.3: count_leaves matches');
cmp_ok(scalar @leaves, '>=', 35, 'ref-4.3: about 40 leaf categories');
is(scalar(grep { !$_->{default_department} || !$_->{default_department}{name} }
          @leaves), 0, 'ref-4.4: every leaf has a default department');
is(scalar(grep { !($_->{handling_days} && $_->{handling_days} > 0) } @leaves),
   0, 'ref-4.5: every leaf has a handling time in working days');
my @reports = grep { $_->{appeal_type} eq 'report' } @leaves;
ok(@reports > 0 && !(grep { $_->{is_public} } @reports),
   'ref-4.6: report (举报) categories are never public');

($res, $body) = get_json('/api/v1/overview');
is($res->{status}, 200, 'ref-5.1: overview answers 200');
is($body->{districts}{towns}, 28, 'ref-5.2: overview counts 28 towns');
is($body->{districts}{subdistricts}, 4, 'ref-5.2: overview counts 4 subdistricts');
my %years = map { $_->{year} => $_ } @{ $body->{calendar} || [] };
ok($years{2026} && !$years{2026}{provisional},
   'ref-5.3: 2026 is loaded from the official schedule');
ok($years{2027} && $years{2027}{provisional},
   'ref-5.3: 2027 is loaded and marked provisional');
like($body->{today}{date} // '', qr/^\d{4}-\d\d-\d\d$/, 'ref-5.4: today is a date');

($res, $body) = get_json('/api/v1/calendar/2026');
is($res->{status}, 200, 'ref-6.1: the 2026 calendar answers 200');
my %day = map { $_->{date} => $_ } @{ $body->{days} || [] };
is($day{'2026-10-01'}{kind}, 'holiday', 'ref-6.2: 2026-10-01 is a holiday');
is($day{'2026-10-10'}{kind}, 'workday',
   'ref-6.2: Saturday 2026-10-10 is a swapped working day (调休)');
is($body->{working_days}, 248,
   'ref-6.3: 2026 has 248 working days (261 weekdays - 19 holidays + 6 调休)');

($res, $body) = get_json('/api/v1/calendar/1999');
is($res->{status}, 404, 'ref-6.4: a year not loaded is 404');

my @due = (
    [ '2026-09-30', 3,  '2026-10-10', 'over National Day and its 调休 Saturday' ],
    [ '2026-02-13', 1,  '2026-02-14', 'the swapped Saturday before Spring Festival' ],
    [ '2026-02-14', 1,  '2026-02-24', 'across the Spring Festival holiday' ],
    [ '2026-11-27', 1,  '2026-11-30', 'an ordinary weekend' ],
    [ '2026-12-31', 1,  '2027-01-04', 'into the provisional 2027 calendar' ],
);
for my $c (@due) {
    ($res, $body) = post_json('/api/v1/calendar/due',
                              { from => $c->[0], working_days => $c->[1] });
    is($body->{due}, $c->[2],
       "ref-7: $c->[1] working day(s) after $c->[0] is $c->[2] ($c->[3])");
}

done_testing();
