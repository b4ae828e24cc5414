# Every transition of the state machine, refused per role and per state:
# a role the table does not name gets 403 role_forbidden, a state the
# action does not leave gets 409 invalid_state, a stale version 409
# stale_version, and none of them changes the appeal or writes an event.
# Two clients acting at once on one appeal: exactly one wins.  The table
# served at /api/v1/workflow/transitions is the one the code enforces.
use strict;
use warnings;
use utf8;

use FindBin;
use lib "$FindBin::Bin/../lib";

use Test::More;
use JSON::PP;
use POSIX qw(_exit);
use Time::HiRes qw(time sleep);
use DgjTest qw(sql spread_sources get_json);
use DgjLogin qw(api);
use DgjWorkflow qw(submission submit staff_token dept_id appeal_row act
                   act_raw version_of events_of walk_to citizen_token);

binmode(Test::More->builder->$_, ':encoding(UTF-8)')
    for qw(output failure_output todo_output);

spread_sources();

my ($res, $table) = get_json('/api/v1/workflow/transitions');
is($res->{status}, 200, 'the transition table is served');
my @t = grep { $_->{scope} ne 'system' } @{ $table->{transitions} };
ok(@t >= 20, scalar(@t) . ' actions a caller can take');

my ($citizen) = citizen_token();
my %tok = (
    intake => staff_token('intake'),
    handler => staff_token('handler', 'city.ecology'),
    reviewer => staff_token('reviewer'),
    supervisor => staff_token('supervisor'),
    analyst => staff_token('analyst'),
    project_manager => staff_token('project_manager'),
    ops => staff_token('ops'),
    sysadmin => staff_token('sysadmin'),
    secadmin => staff_token('secadmin'),
    auditor => staff_token('auditor'),
    citizen => $citizen,
    organisation => DgjAuth::mint(user => 930001, roles => 'organisation', ttl => 600),
);

sub snapshot {
    my ($no) = @_;

    my $row = appeal_row($no);

    return join '|', $row->{state}, $row->{version}, scalar(events_of($no));
}

# --- roles: every action, every role the table does not name ---------------

my $h = walk_to('handling');
my $before = snapshot($h);
my $refused = 0;
my @wrong;

for my $t (@t) {
    my %allowed = map { $_ => 1 } @{ $t->{roles} };

    for my $role (sort keys %tok) {
        next if $allowed{$role};

        my ($r, $b) = act($h, $t->{action}, $tok{$role}, {});
        if ($r->{status} == 403 && $b->{error}{code} eq 'role_forbidden') {
            $refused++;
        } else {
            push @wrong, "$t->{action} as $role: $r->{status}";
        }
    }
}

is_deeply(\@wrong, [], "every role outside an action's roles gets 403 role_forbidden ($refused cases)");
is(snapshot($h), $before, 'and the appeal and its history are unchanged');

($res) = act($h, 'note', undef, { comment => 'x' });
is($res->{status}, 401, 'no token: 401');

($res) = act($h, 'fly', $tok{intake}, {});
is($res->{status}, 404, 'an unknown action: 404');
($res) = act($h, 'auto_close', $tok{intake}, {});
is($res->{status}, 404, 'the system-only auto_close cannot be called (404)');

# --- states: every action from a state it does not leave ---------------------

my $a = walk_to('awaiting_feedback');
$before = snapshot($a);
my ($checked, @bad) = (0);

for my $t (@t) {
    next if grep { $_ eq 'awaiting_feedback' } @{ $t->{from} };
    next if $t->{scope} eq 'assist_department';    # no task: 403 first

    my $role = $t->{roles}[0];
    my ($r, $b) = act($a, $t->{action}, $tok{$role}, {});
    if ($r->{status} == 409 && $b->{error}{code} eq 'invalid_state') {
        $checked++;
    } else {
        push @bad, "$t->{action} as $role: $r->{status} $r->{content}";
    }
}

is_deeply(\@bad, [], "an action from a state it does not leave: 409 invalid_state ($checked actions)");
is(snapshot($a), $before, 'nothing changed');

# --- department scope -----------------------------------------------------------

my $other = staff_token('handler', 'city.water');
my $scope_before = snapshot($h);
($res) = act($h, 'reply', $other, { reply => '不归我们管', outcome => 'answered' });
is($res->{status}, 404, 'a handler of another department does not even see it (404)');
($res) = act($h, 'assist_reply', $tok{handler}, { task_id => 1, reply => '已协办完毕' });
is($res->{status}, 403, 'the lead has no assist task of its own (403)');
is(snapshot($h), $scope_before, 'and nothing changed');

# --- versions -------------------------------------------------------------------

my ($s, $sb) = submit();
my $no = $sb->{tracking_no};
($res, my $b) = act($no, 'accept', $tok{intake}, { version => 1 });
is($res->{status}, 200, 'accept with the version just read');
is($b->{version}, 2, 'the version moves to 2');
my $snap = snapshot($no);
($res, $b) = act($no, 'dispatch', $tok{intake}, { version => 1 });
is($res->{status}, 409, 'an action on version 1 now: 409');
is($b->{error}{code}, 'stale_version', 'code stale_version');
is(snapshot($no), $snap, 'nothing changed');
($res) = act_raw($no, 'dispatch', $tok{intake}, {});
is($res->{status}, 400, 'no version at all: 400');
($res) = act_raw($no, 'dispatch', $tok{intake}, { version => '2' });
is($res->{status}, 400, 'a version as a string: 400');

# --- concurrency: 8 intake operators dispatch the same version at once ---------

my ($c, $cb) = submit();
my $cno = $cb->{tracking_no};
my $v = version_of($cno);
my $dir = "$ENV{DGJ_VAR}/race-$$";
mkdir $dir;
my $go = time + 1;
my @pids;

for my $i (1 .. 8) {
    my $pid = fork;
    die "fork: $!" unless defined $pid;

    if ($pid == 0) {
        sleep(0.01) while time < $go;
        my ($r) = act_raw($cno, 'dispatch', staff_token('intake'),
                          { version => 0 + $v,
                            department_id => dept_id($i % 2 ? 'city.ecology' : 'city.water') });
        open(my $fh, '>', "$dir/$i") or _exit(1);
        print $fh $r->{status};
        close $fh;
        _exit(0);
    }

    push @pids, $pid;
}

waitpid($_, 0) for @pids;
my %st;
for my $i (1 .. 8) {
    open(my $fh, '<', "$dir/$i") or next;
    $st{<$fh> // 'none'}++;
    close $fh;
    unlink "$dir/$i";
}
rmdir $dir;

is($st{200}, 1, 'exactly one of 8 simultaneous dispatches wins');
is($st{409}, 7, 'the other 7 get 409');
my @ev = grep { $_->[0] eq 'dispatch' } events_of($cno);
is(scalar @ev, 1, 'one dispatch event in the history');
is(appeal_row($cno)->{version}, $v + 1, 'the version moved once');

done_testing();
