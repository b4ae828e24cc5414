# POST /api/v1/appeals/{no}/reveal: the submitter's full contact is an
# explicit, recorded step.  Intake and the lead department's handler get
# it, and each time an internal "reveal" event names who (the appeal's
# version and state unchanged); reviewers, supervisors, other staff and
# citizens are refused and nothing is written; a department with no part
# gets 404; an anonymous submitter is revealed to intake only.
use strict;
use warnings;
use utf8;

use FindBin;
use lib "$FindBin::Bin/../lib";

use Test::More;
use DgjTest qw(sql spread_sources);
use DgjLogin qw(api);
use DgjAuth qw(mint);
use DgjWorkflow qw(submission staff_token walk_to version_of events_of
                   appeal_row);

spread_sources();

my $LEAD = 'city.housing';
my $ID = '110101199003077777';

sub check_id {
    my ($s) = @_;
    my @w = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2);
    my $sum = 0;
    $sum += substr($s, $_, 1) * $w[$_] for 0 .. 16;
    return substr($s, 0, 17) . (split //, '10X98765432')[$sum % 11];
}
$ID = check_id($ID);

my $no = walk_to('handling', dept => $LEAD,
                 fields => { name => '欧阳娜娜', phone => '13912345678',
                             id_number => $ID });
my $anon = walk_to('dispatched', dept => $LEAD,
                   fields => { anonymous => JSON::PP::true(),
                               name => '匿名者', phone => '13700001111' });

my $intake = staff_token('intake', 'city.gov_service');
my $lead = staff_token('handler', $LEAD);

sub reveals {
    my ($n) = @_;
    return scalar grep { $_->[0] eq 'reveal' } events_of($n);
}

my $v = version_of($no);

my ($res, $b) = api('POST', "/api/v1/appeals/$no/reveal", {}, $intake);
is($res->{status}, 200, 'rev-1.1: intake reveals');
is_deeply($b->{submitter}, { name => '欧阳娜娜', phone => '13912345678',
                             id_number => $ID, masked => JSON::PP::false },
          'rev-1.2: name, phone and ID number in full');
is($res->{headers}{'cache-control'}, 'no-store', 'rev-1.3: not cached');

($res, $b) = api('POST', "/api/v1/appeals/$no/reveal", {}, $lead);
is($res->{status}, 200, 'rev-1.4: the lead department\'s handler reveals');
is($b->{submitter}{phone}, '13912345678', 'rev-1.5: the full phone');

is(reveals($no), 2, 'rev-2.1: each reveal is an event');
my @ev = grep { $_->[0] eq 'reveal' } events_of($no);
is($ev[0][3], 'internal', 'rev-2.2: internal (not on the citizen\'s timeline)');
is_deeply([ map { $_->[4] } @ev ], [ 'intake', 'handler' ],
          'rev-2.3: recorded as the role that looked');
is($ev[0][1], 'handling', 'rev-2.4: the state unchanged');
is(version_of($no), $v, 'rev-2.5: the version unchanged (open forms stay valid)');

($res, $b) = api('GET', "/api/v1/appeals/$no", undef, $intake);
is($b->{submitter}{phone}, '139****5678', 'rev-2.6: the detail stays masked');
my ($last) = grep { $_->{action} eq 'reveal' } @{ $b->{timeline} };
is($last->{action_title}, '查看完整联系方式', 'rev-2.7: the timeline names it');

my %refused = (
    reviewer => staff_token('reviewer'),
    supervisor => staff_token('supervisor'),
    sysadmin => staff_token('sysadmin'),
    auditor => staff_token('auditor'),
    citizen => mint(user => 990777, roles => 'citizen', ttl => 600),
);

for my $role (sort keys %refused) {
    ($res, $b) = api('POST', "/api/v1/appeals/$no/reveal", {},
                     $refused{$role});
    is($res->{status}, 403, "rev-3.1: $role is refused");
    is($b->{error}{code}, 'role_forbidden', "rev-3.2: role_forbidden ($role)");
    unlike($res->{content}, qr/13912345678|欧阳娜娜/, "rev-3.3: nothing shown ($role)");
}

($res) = api('POST', "/api/v1/appeals/$no/reveal", {},
             staff_token('handler', 'city.education'));
is($res->{status}, 404, 'rev-3.4: a department with no part: 404');
($res) = api('POST', "/api/v1/appeals/$no/reveal", {}, undef);
is($res->{status}, 401, 'rev-3.5: signed out: 401');
is(reveals($no), 2, 'rev-3.6: no refused reveal was recorded');

($res, $b) = api('POST', "/api/v1/appeals/$anon/reveal", {}, $lead);
is($res->{status}, 403, 'rev-4.1: an anonymous submitter is not revealed to the handler');
is($b->{error}{code}, 'anonymous', 'rev-4.2: code anonymous');
($res, $b) = api('POST', "/api/v1/appeals/$anon/reveal", {}, $intake);
is($res->{status}, 200, 'rev-4.3: intake, who calls back, gets it');
is($b->{submitter}{phone}, '13700001111', 'rev-4.4: in full');
is(reveals($anon), 1, 'rev-4.5: recorded');

($res) = api('POST', '/api/v1/appeals/DG20260101999999/reveal', {}, $intake);
is($res->{status}, 404, 'rev-5.1: an unknown number: 404');

done_testing();
