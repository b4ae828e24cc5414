#!/usr/bin/perl

# upgrade_fcgi.t: `stack.sh upgrade` (SIGUSR2 to each pool supervisor)
# under steady traffic loses no request and leaves the pool running the
# binary now on disk; a new binary that cannot start leaves the old pool
# serving and makes the command fail with the reason; a descriptor that is
# not a listening socket is refused before any file is touched.

use strict;
use warnings;

use Test::More;
use DgjTest qw(get_json wait_until base_url);
use DgjPool qw(supervisor_pid worker_pids start_load finish_load);

my $root = $ENV{DGJ_ROOT} or die "DGJ_ROOT is not set: run `make test`\n";
my $bin = "$root/build/bin/dgj-fcgi";
my $sock = "$ENV{DGJ_VAR}/run/fcgi/main.sock";
my $conf = "$ENV{DGJ_VAR}/conf/fcgi-main.conf";
my $log = "$ENV{DGJ_VAR}/log/fcgi/main.log";
my $me = $$;


# running(PID): alive and not a zombie left for a pid 1 that never reaps
sub running {
    my ($pid) = @_;

    open(my $fh, '<', "/proc/$pid/stat") or return 0;
    my $stat = <$fh> // '';

    return $stat =~ /^\d+ \(.*\) ([A-Z])/ && $1 ne 'Z';
}


sub ppid_of {
    my ($pid) = @_;

    open(my $fh, '<', "/proc/$pid/stat") or return -1;
    my $stat = <$fh> // '';

    return $stat =~ /^\d+ \(.*\) [A-Z] (\d+)/ ? $1 : -1;
}


sub exe_of {
    my ($pid) = @_;

    return readlink("/proc/$pid/exe") // '';
}


sub upgrade {
    my $out = `$ENV{DGJ_STACK} upgrade 2>&1`;

    return ($? == 0, $out);
}


sub log_size {
    return -s $log // 0;
}


sub log_since {
    my ($offset) = @_;

    open(my $fh, '<', $log) or return '';
    seek($fh, $offset, 0);

    return do { local $/; <$fh> } // '';
}


# 1. a rebuilt binary replaces the running one without a failed request

my $sup = supervisor_pid();
my @old = worker_pids();
ok($sup && @old, 'upg-1.1: the pool runs a supervisor and workers');
unlike(exe_of($sup), qr/ \(deleted\)$/,
       'upg-1.2: the supervisor runs the file on disk before the rebuild');

my $inode = (stat $bin)[1];
my $load = start_load(base_url() . '/api/v1/overview', 6);
select(undef, undef, undef, 0.5);

# MAKEFLAGS from `make test` keeps the flavour (SANITIZE) of the build
ok(system("touch $root/fcgi/core/dgj_main.c"
          . " && make -s -C $root fcgi >/dev/null 2>&1") == 0,
   'upg-1.3: the binary is rebuilt');
isnt((stat $bin)[1], $inode, 'upg-1.4: the rebuild made a new inode');
like(exe_of($sup), qr/ \(deleted\)$/,
     'upg-1.5: the running supervisor still runs the old, deleted file');

my $mark = log_size();
my ($ok, $out) = upgrade();
ok($ok, 'upg-1.6: the upgrade command succeeds') or diag($out);

my @statuses = finish_load($load);
cmp_ok(scalar @statuses, '>', 20, 'upg-1.7: traffic ran during the upgrade');
my @bad = grep { !/^200\b/ } @statuses;
is(scalar @bad, 0, 'upg-1.8: no request failed during the upgrade')
    or diag(join "\n", @bad[0 .. ($#bad < 4 ? $#bad : 4)]);

my $new = supervisor_pid();
ok($new && $new != $sup, "upg-2.1: the pid file names a new supervisor")
    or diag("old $sup, now " . ($new // 'none'));
ok(running($new), 'upg-2.2: the new supervisor runs');
ok(wait_until(10, sub { !running($sup) }),
   'upg-2.3: the old supervisor is gone');

my @now = worker_pids();
is(scalar @now, scalar @old, 'upg-2.4: as many workers as before');
is(scalar(grep { ppid_of($_) != $new } @now), 0,
   'upg-2.5: every worker is a child of the new supervisor');
is(scalar(grep { running($_) } @old), 0,
   'upg-2.6: every old worker has exited');
is(scalar(grep { exe_of($_) ne $bin } $new, @now), 0,
   'upg-2.7: supervisor and workers run the file now on disk')
    or diag(join "\n", map { "$_ " . exe_of($_) } $new, @now);
ok(-S $sock, 'upg-2.8: the socket file still exists');
like(log_since($mark), qr/upgrade: adopted \Q$sock\E/,
     'upg-2.9: the new supervisor logged that it adopted the socket');

my ($res) = get_json('/api/v1/overview');
is($res->{status}, 200, 'upg-2.10: the API answers after the upgrade');


# 2. a new binary that exits at once: the old pool keeps serving

$sup = supervisor_pid();
@old = worker_pids();

# restored even if the test dies; not by a forked load loop's exit
rename($bin, "$bin.real") or die "rename $bin: $!";
END { rename("$bin.real", $bin) if $$ == $me && -e "$bin.real"; }

open(my $fh, '>', $bin) or die "$bin: $!";
print $fh "#!/bin/sh\n",
          "# passes -t, then fails as a broken build would\n",
          "case \" \$* \" in *' -t '*) exit 0 ;; esac\n",
          "echo 'dgj-fcgi: broken build' >&2\n",
          "exit 1\n";
close($fh);
chmod(0755, $bin);

$load = start_load(base_url() . '/api/v1/overview', 3);
($ok, $out) = upgrade();
@statuses = finish_load($load);

rename("$bin.real", $bin) or die "rename $bin.real: $!";

ok(!$ok, 'upg-3.1: the upgrade command fails');
like($out, qr/keeps serving the old binary: .*exited with status 1/,
     'upg-3.2: and says the new supervisor exited and the old one serves')
    or diag($out);
is(supervisor_pid(), $sup, 'upg-3.3: the pid file names the old supervisor');
ok(running($sup), 'upg-3.4: the old supervisor runs');
is_deeply([ worker_pids() ], \@old, 'upg-3.5: its workers were untouched');
ok(-S $sock, 'upg-3.6: the socket file still exists');
@bad = grep { !/^200\b/ } @statuses;
is(scalar @bad, 0, 'upg-3.7: no request failed meanwhile')
    or diag(join "\n", @bad[0 .. ($#bad < 4 ? $#bad : 4)]);
($res) = get_json('/api/v1/overview');
is($res->{status}, 200, 'upg-3.8: the API answers');


# 3. a descriptor that is not a listening socket is refused

$mark = log_size();
{
    local $ENV{DGJ_LISTEN_FD} = 0;
    local $ENV{DGJ_OLD_SUPERVISOR} = $$;   # we are its parent
    local $ENV{TZ} = 'Asia/Shanghai';     # as stack.sh, for the log
    open(local *STDIN, '<', '/dev/null') or die "/dev/null: $!";
    system { $bin } $bin, '-c', $conf;
}
is($? >> 8, 1, 'upg-4.1: dgj-fcgi refuses a descriptor that is no socket');
like(log_since($mark), qr/descriptor 0 is not a listening unix stream/,
     'upg-4.2: and logs why');
is(supervisor_pid(), $sup, 'upg-4.3: the pid file was not touched');
ok(-S $sock, 'upg-4.4: the socket file was not touched');
($res) = get_json('/api/v1/overview');
is($res->{status}, 200, 'upg-4.5: the API answers');

done_testing();
