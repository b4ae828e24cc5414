# The time-driven transitions (dgj-fcgi -W, `stack sweep`): an appeal left
# unrated past its 7-day rating window is closed by the system with an
# auto_close event; appeals inside their window are untouched; a second
# run changes nothing; two runs at once close each appeal once; the stack
# keeps a sweeper loop running.  The workers' clock is moved forward
# (DgjLogin::set_clock_offset) and put back at the end.
use strict;
use warnings;
use utf8;

use FindBin;
use lib "$FindBin::Bin/../lib";

use Test::More;
use DgjTest qw(sql stack spread_sources);
use DgjLogin qw(clock_offset set_clock_offset);
use DgjPool qw(read_pid);
use DgjWorkflow qw(appeal_row events_of walk_to);

spread_sources();

my $DAY = 86400;
my $offset0 = clock_offset();

END { set_clock_offset($offset0) if defined $offset0 }

# sweep() -> (exit status, output) of one `stack sweep`
sub sweep {
    my $out = `$ENV{DGJ_STACK} sweep 2>&1`;

    return ($? >> 8, $out);
}

# alive and not a zombie (an orphan whose reaper has not collected it)
sub alive {
    my ($pid) = @_;

    return 0 unless $pid;
    my $st = `ps -o stat= -p $pid 2>/dev/null`;

    return $st =~ /^\s*[^Z\s]/ ? 1 : 0;
}

sub auto_closes {
    my ($no) = @_;

    return scalar grep { $_->[0] eq 'auto_close' } events_of($no);
}

my $old = walk_to('awaiting_feedback');
my $row = appeal_row($old);
is($row->{state}, 'awaiting_feedback', 'swp-1.0: an appeal waits for its'
                                       . ' rating');
ok($row->{due_at}, 'swp-1.1: ... with the rating window as its deadline');

my ($st, $out) = sweep();
is($st, 0, 'swp-1.2: a sweep inside the window succeeds') or diag $out;
is(appeal_row($old)->{state}, 'awaiting_feedback',
   'swp-1.3: ... and leaves the appeal waiting');

# eight days on: the first appeal's window is over; a second one reaches
# awaiting_feedback now, its window just opened
set_clock_offset($offset0 + 8 * $DAY);
my $fresh = walk_to('awaiting_feedback');
my $fresh_version = appeal_row($fresh)->{version};

($st, $out) = sweep();
is($st, 0, 'swp-2.1: the sweep succeeds') or diag $out;
like($out, qr/auto_close \d+ closed, \d+ skipped, 0 failed/,
     'swp-2.2: ... and says what it did');

$row = appeal_row($old);
is($row->{state}, 'closed', 'swp-2.3: the appeal past its window is closed');
ok($row->{closed_at}, 'swp-2.4: ... with its closing time');
ok(!defined $row->{due_at}, 'swp-2.5: ... and no deadline left');

my @ev = events_of($old);
is_deeply($ev[-1], ['auto_close', 'awaiting_feedback', 'closed', 'public',
                    'system'],
          'swp-2.6: the last event is auto_close, awaiting_feedback ->'
          . ' closed, by the system, on the public timeline');
my ($actor) = sql('admin', 'SELECT COUNT(*) FROM appeal_events e JOIN'
                  . ' appeals a ON a.id = e.appeal_id WHERE a.tracking_no ='
                  . " '$old' AND e.action = 'auto_close' AND"
                  . ' e.actor_user_id IS NULL AND e.reason_code ='
                  . " 'no_rating'");
is($actor->[0], 1, 'swp-2.7: ... with no user and the reason no_rating');

$row = appeal_row($fresh);
is($row->{state}, 'awaiting_feedback',
   'swp-2.8: the appeal inside its window is untouched');
is($row->{version}, $fresh_version, 'swp-2.9: ... not even its version');
is(auto_closes($fresh), 0, 'swp-2.10: ... and has no auto_close event');

my $events = scalar(events_of($old));
my $version = appeal_row($old)->{version};
($st, $out) = sweep();
is($st, 0, 'swp-3.1: a second run succeeds') or diag $out;
is(scalar(events_of($old)), $events, 'swp-3.2: ... and adds no event');
is(appeal_row($old)->{version}, $version, 'swp-3.3: ... nor changes the'
                                          . ' appeal');

# two runs at once over several due appeals: each is closed once
my @due = ($fresh, map { walk_to('awaiting_feedback') } 1 .. 3);
set_clock_offset($offset0 + 16 * $DAY);

my @pids;
for (1 .. 2) {
    my $pid = fork();
    die "fork: $!" unless defined $pid;

    if ($pid == 0) {
        exec('sh', '-c', "$ENV{DGJ_STACK} sweep >/dev/null 2>&1");
        exit 127;
    }

    push @pids, $pid;
}

my @status = map { waitpid($_, 0); $? >> 8 } @pids;
is_deeply(\@status, [0, 0], 'swp-4.1: two sweeps at once both succeed');
is_deeply([map { appeal_row($_)->{state} } @due],
          [('closed') x @due], 'swp-4.2: ... every due appeal is closed');
is_deeply([map { auto_closes($_) } @due], [(1) x @due],
          'swp-4.3: ... each by exactly one auto_close event');

# the loop `stack start` leaves running
my $pidf = 'sweeper.pid';
my $pid = read_pid($pidf);
ok(alive($pid), 'swp-5.1: the stack runs the sweeper loop');
ok(stack('stop-sweeper'), 'swp-5.2: stop-sweeper succeeds');
ok(!alive($pid), 'swp-5.3: ... and the loop is gone');
ok(stack('start-sweeper'), 'swp-5.4: start-sweeper succeeds');
my $again = read_pid($pidf);
ok($again && $again != $pid && alive($again),
   'swp-5.5: ... and a new loop runs');

done_testing();
