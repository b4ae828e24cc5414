# docs/workflow.md draws the state machine the code enforces: its table
# of transitions equals, row for row, the one the workers serve from
# dgj_wf_table.
use strict;
use warnings;
use utf8;

use FindBin;
use lib "$FindBin::Bin/../lib";

use Test::More;
use DgjTest qw(get_json);

binmode(Test::More->builder->$_, ':encoding(UTF-8)')
    for qw(output failure_output todo_output);

my ($res, $b) = get_json('/api/v1/workflow/transitions');
is($res->{status}, 200, 'the table is served');

my %served;
for my $t (@{ $b->{transitions} }) {
    $served{ $t->{action} } = join ' | ', $t->{title}, join(', ', @{ $t->{from} }),
        $t->{to} // '(same)', join(', ', @{ $t->{roles} }) || '-', $t->{scope},
        $t->{stage} // '-', $t->{public} ? 'yes' : 'no';
}

open(my $fh, '<:encoding(UTF-8)', "$ENV{DGJ_ROOT}/docs/workflow.md") or die $!;
my (%documented, $in);
while (my $line = <$fh>) {
    # the first table after the heading "## The state machine"
    $in = 1 if $line =~ /^## The state machine/;
    next unless $in;
    last if %documented && $line !~ /^\|/;
    next unless $line =~ /^\| `([a-z_]+)` \| (.*) \|\s*$/;
    $documented{$1} = $2;
}
close $fh;

ok(keys %served >= 20, scalar(keys %served) . ' transitions served');
is_deeply([ sort keys %documented ], [ sort keys %served ],
          'docs/workflow.md lists exactly the served actions');
for my $a (sort keys %served) {
    is($documented{$a}, $served{$a}, "docs/workflow.md: $a as the code has it");
}

done_testing();
